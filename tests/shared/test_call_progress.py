"""shared.call_progress: callbacks, requested actions and silence reports applied to the call's record."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from shared import call_lifecycle as lifecycle
from shared import call_progress as control
from shared.call_actions import CallAction, Prompt
from shared.call_flow_settings import CallFlowSettings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
START = lifecycle.CallStart("call-1", "+1 555 *** **00", "+1 555 *** **99", "corr", "server", "2026-03-01T12:00:00Z")


def new_ids():
    counter = itertools.count(1)
    return lambda: f"id-{next(counter)}"


def connected(settings: CallFlowSettings | None = None):
    ids = new_ids()
    record, state = lifecycle.begin(START, T0), control.begin()
    if settings is not None:
        record, state = control.on_flow_loaded(record, state, settings.to_dict(), T0, ids)
    record, state = control.on_event(record, state, "CallConnected", {"callConnectionId": "cc", "id": "e1"}, T0, ids)
    return record, state, ids


def events(record: lifecycle.CallRecord) -> list[str]:
    return [entry.event for entry in record.timeline]


def test_every_callback_type_is_waited_for_once() -> None:
    assert len(set(control.EVENT_NAMES)) == len(control.EVENT_NAMES)
    assert {"ParticipantsUpdated", "PlayFailed", "HoldFailed", "ConnectFailed", "UnknownCallback",
            "CallActionRequested", "CallerSilence"} <= set(control.EVENT_NAMES)


def test_greeting_requested_on_connect_and_failure_code_recorded() -> None:
    record, state, ids = connected(CallFlowSettings(greeting=Prompt(text="Welcome.")))
    state, action = control.next_dispatch(record, state)
    assert action is not None and action.purpose == "greeting"
    record, state = control.on_request_result(record, state, action.action_id, {"status": "accepted"}, T0, ids)
    failed = {"operationContext": action.action_id, "id": "e2",
              "result": {"code": 400, "subCode": 8536, "message": "file could not be downloaded"}}
    record, state = control.on_event(record, state, "PlayFailed", failed, T0, ids)
    record, state = control.on_event(record, state, "PlayFailed", {**failed, "id": "e3"}, T0, ids)  # late copy
    assert events(record) == ["ringing", "CallConnected", "action_requested", "action_sent", "PlayFailed"]
    assert record.timeline[-1].detail.startswith("code 400, subCode 8536, file could not be downloaded (play")
    assert state.flow.phase == "listening"


def test_informational_and_unknown_callbacks_are_recorded_once() -> None:
    record, state, ids = connected()
    participants = {"id": "p1", "details": {"participantCount": 2}}
    for _ in range(2):
        record, state = control.on_event(record, state, "ParticipantsUpdated", participants, T0, ids)
    record, state = control.on_event(record, state, "UnknownCallback", {"type": "SomethingNew", "id": "u"}, T0, ids)
    assert events(record)[2:] == ["ParticipantsUpdated", "SomethingNew"]
    assert record.timeline[2].detail == "participantCount 2"


def test_api_hang_up_goes_through_the_lifecycle() -> None:
    record, state, ids = connected()
    request = CallAction("api-1", "hang_up", "api").to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    assert isinstance(lifecycle.next_step(record), lifecycle.HangUp)
    assert record.end_reason == "hang-up requested (api)"
    assert control.next_dispatch(record, state)[1] is None
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)  # redelivered
    assert events(record).count("action_requested") == 1


def test_actions_refused_when_not_connected_or_invalid() -> None:
    ids = new_ids()
    record, state = lifecycle.begin(START, T0), control.begin()
    request = CallAction("x", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    record, state = control.on_event(record, state, "CallActionRequested", {"action": "nuke"}, T0, ids)
    assert [(e.event, e.detail) for e in record.timeline[1:]] == [
        ("action_refused", "play (api) x: call is ringing"), ("action_refused", "invalid action")]


def test_transfer_accepted_makes_the_call_transferred() -> None:
    record, state, ids = connected()
    request = CallAction("t1", "transfer", "api", target="+14255550123").to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    state, action = control.next_dispatch(record, state)
    record, state = control.on_request_result(record, state, "t1", {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "CallTransferAccepted", {"operationContext": "t1"}, T0, ids)
    assert record.outcome == "transferred" and "4255550123" not in (record.end_reason or "")
    step = lifecycle.next_step(record)
    assert isinstance(step, lifecycle.Wait) and step.reason == "disconnect_after_transfer"
    later = T0 + timedelta(seconds=2)
    record, state = control.on_event(record, state, "CallDisconnected", {"id": "d"}, later, ids)
    assert (record.stage, record.outcome) == ("ended", "transferred")


def test_silence_reports_drive_the_flow() -> None:
    record, state, ids = connected(CallFlowSettings(silence_seconds=5, silence_max_prompts=0))
    record, state = control.on_event(record, state, "CallerSilence", {"silentMs": 5000, "utterances": 0}, T0, ids)
    state, action = control.next_dispatch(record, state)
    assert action is not None and action.purpose == "goodbye"
    record, state = control.on_request_result(record, state, action.action_id, {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "PlayCompleted", {"operationContext": action.action_id}, T0, ids)
    assert record.hang_up_wanted and record.end_reason == "no caller speech"
    assert control.status_fields(state) == {"flow": "ending", "pendingActions": 0}


def test_hang_up_cancels_what_was_never_sent() -> None:
    record, state, ids = connected()
    for action in (CallAction("p1", "play", "api", prompt=Prompt(text="One")),
                   CallAction("p2", "play", "api", prompt=Prompt(text="Two")),
                   CallAction("h1", "hang_up", "api")):
        record, state = control.on_event(record, state, "CallActionRequested", action.to_payload(), T0, ids)
    assert [(e.event, e.detail) for e in record.timeline if e.event == "action_canceled"] == [
        ("action_canceled", "play (api) p1: call ending"), ("action_canceled", "play (api) p2: call ending")]
    assert control.status_fields(state)["pendingActions"] == 0


def test_a_late_result_after_the_call_ended_starts_nothing() -> None:
    record, state, ids = connected(CallFlowSettings(greeting=Prompt(text="Hi."), menu_prompt=Prompt(text="Press 0."),
                                                    menu_options={"0": "continue"}))
    state, greeting = control.next_dispatch(record, state)
    assert greeting is not None
    record, state = control.on_request_result(record, state, greeting.action_id, {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "CallDisconnected", {"id": "d1"}, T0, ids)
    record, state = control.on_event(record, state, "PlayCompleted", {"operationContext": greeting.action_id}, T0, ids)
    assert events(record)[-2:] == ["CallDisconnected", "PlayCompleted"]
    assert control.next_dispatch(record, state)[1] is None and control.status_fields(state)["pendingActions"] == 0
