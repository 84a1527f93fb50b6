"""shared.call_progress: callbacks, requested actions and silence reports applied to the call's record."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

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


def notes(record: lifecycle.CallRecord) -> list[tuple[str, str, str | None]]:
    return [(entry.at, entry.event, entry.detail) for entry in record.timeline]


def test_raised_kinds_are_pinned() -> None:
    # The events function, the control API and the media host raise these kinds into the inbox.
    assert (control.CALL_ACTION_REQUESTED, control.CALLER_SILENCE, control.UNKNOWN_CALLBACK) == (
        "CallActionRequested", "CallerSilence", "UnknownCallback")
    assert control.EVENT_NAMES[:5] == lifecycle.EVENT_NAMES
    assert control.EVENT_NAMES[-3:] == ("UnknownCallback", "CallActionRequested", "CallerSilence")
    assert control.MAX_SEEN_EVENT_IDS == 64


@pytest.mark.parametrize(("payload", "detail"), [
    ({"result": {"code": 400, "subCode": 8536, "message": "bad file"}}, "code 400, subCode 8536, bad file"),
    ({"result": {"code": 0, "message": ""}}, "code 0"),
    ({"result": {"message": 5}}, None),
    ({"result": "code 400"}, None),
    ({"details": {"status": "Connected", "statusDetails": "x", "participantCount": 0, "tone": "5",
                  "dtmfTones": "12", "failedPlaySourceIndex": 1, "transferTarget": "8:acs:agent",
                  "state": "active"}},
     "status Connected, statusDetails x, participantCount 0, tone 5, dtmfTones 12, failedPlaySourceIndex 1, "
     "transferTarget 8:acs:agent, state active"),
    ({"details": {"status": True, "tone": None, "dtmfTones": ["1"], "other": "hidden"}}, None),
    ({"details": "status x"}, None),
    ({"result": {"code": 200}, "details": {"state": "inactive"}}, "code 200, state inactive"),
    ({}, None),
])
def test_event_detail_known_answers(payload: dict[str, object], detail: str | None) -> None:
    assert control.event_detail(payload) == detail


def test_event_detail_masks_numbers_and_is_bounded() -> None:
    masked = control.event_detail({"details": {"transferTarget": "+14255550123"}})
    assert masked is not None and "4255550123" not in masked and masked.startswith("transferTarget +1")
    long = control.event_detail({"result": {"message": "m" * 300}})
    assert long == "m" * 200


def test_a_callback_id_is_seen_once_within_the_last_64() -> None:
    record, state, ids = connected()
    for index in range(65):
        record, state = control.on_event(record, state, "ParticipantsUpdated", {"id": f"p{index}"}, T0, ids)
    assert len(state.seen_event_ids) == 64 and state.seen_event_ids[0] == "p1"
    again, state_again = control.on_event(record, state, "ParticipantsUpdated", {"id": "p64"}, T0, ids)
    assert (again, state_again) == (record, state)
    forgotten, _ = control.on_event(record, state, "ParticipantsUpdated", {"id": "p0"}, T0, ids)
    assert len(forgotten.timeline) == len(record.timeline) + 1
    long_id, long_state = control.on_event(record, state, "ParticipantsUpdated", {"id": "i" * 300}, T0, ids)
    assert long_state.seen_event_ids[-1] == "i" * 200
    assert control.on_event(long_id, long_state, "ParticipantsUpdated", {"id": "i" * 300}, T0, ids)[0] == long_id


def test_requests_and_silence_reports_are_not_deduplicated_by_event_id() -> None:
    record, state, ids = connected()
    for _ in range(2):
        record, state = control.on_event(record, state, "CallerSilence",
                                         {"id": "same", "silentMs": 1999, "utterances": 0}, T0, ids)
    assert notes(record).count(("2026-03-01T12:00:00Z", "CallerSilence", "1 s without caller speech")) == 2
    assert "same" not in state.seen_event_ids
    request = {**CallAction("a-1", "play", "api", prompt=Prompt(text="Hi")).to_payload(), "id": "r"}
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    assert notes(record)[-1] == ("2026-03-01T12:00:00Z", "action_requested", "play (api) a-1")
    assert "r" not in state.seen_event_ids


@pytest.mark.parametrize("report", [{"silentMs": 5000}, {"utterances": 0}, {"silentMs": "5000", "utterances": 0},
                                    {"silentMs": 5000, "utterances": 0.0}])
def test_a_malformed_silence_report_is_noted_and_ignored(report: dict[str, object]) -> None:
    record, state, ids = connected(CallFlowSettings(silence_seconds=5, silence_max_prompts=0))
    after, after_state = control.on_event(record, state, "CallerSilence", {**report, "time": "2026-03-01T12:00:09Z"},
                                          T0, ids)
    assert notes(after)[-1] == ("2026-03-01T12:00:09Z", "silence_ignored", "malformed report")
    assert after_state == state


def test_silence_before_connect_is_noted_but_plans_nothing() -> None:
    ids = new_ids()
    record, state = lifecycle.begin(START, T0), control.begin()
    record, state = control.on_flow_loaded(record, state, CallFlowSettings(silence_seconds=5,
                                                                           silence_max_prompts=0).to_dict(), T0, ids)
    record, after = control.on_event(record, state, "CallerSilence", {"silentMs": 9000, "utterances": 0}, T0, ids)
    assert notes(record)[-1] == ("2026-03-01T12:00:00Z", "CallerSilence", "9 s without caller speech")
    assert after == state and control.next_dispatch(record, after)[1] is None


@pytest.mark.parametrize(("payload", "shown"), [
    ({"type": "Microsoft.Communication.SomethingNew"}, "Microsoft.Communication.SomethingNew"),
    ({"type": "T" * 100}, "T" * 80),
    ({"type": ""}, "unknown"),
    ({"type": 7}, "unknown"),
    ({}, "unknown"),
])
def test_unknown_callbacks_are_noted_under_their_type(payload: dict[str, object], shown: str) -> None:
    record, state, ids = connected()
    record, _ = control.on_event(record, state, "UnknownCallback", payload, T0, ids)
    assert notes(record)[-1] == ("2026-03-01T12:00:00Z", shown, "callback type not known to this version")


def test_a_callback_of_an_action_names_it_and_the_lifecycle_events_are_noted_once() -> None:
    record, state, ids = connected()
    request = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    state, _ = control.next_dispatch(record, state)
    record, state = control.on_request_result(record, state, "p-1", {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "PlayStarted", {"operationContext": "p-1"}, T0, ids)
    record, state = control.on_event(record, state, "PlayCompleted",
                                     {"operationContext": "p-1", "result": {"code": 200}}, T0, ids)
    assert notes(record)[-2:] == [("2026-03-01T12:00:00Z", "PlayStarted", "play (api) p-1"),
                                  ("2026-03-01T12:00:00Z", "PlayCompleted", "code 200 (play (api) p-1)")]
    assert notes(record)[:2] == [("2026-03-01T12:00:00Z", "ringing", "from +1 555 *** **00"),
                                 ("2026-03-01T12:00:00Z", "CallConnected", None)]
    assert control.status_fields(state) == {"flow": "waiting", "pendingActions": 0}


def test_requests_refused_on_an_ending_call_say_why() -> None:
    record, state, ids = connected()
    record, state = control.on_event(record, state, "CallActionRequested",
                                     CallAction("h-1", "hang_up", "api").to_payload(), T0, ids)
    play = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    ending, _ = control.on_event(record, state, "CallActionRequested", play, T0, ids)
    assert notes(ending)[-1] == ("2026-03-01T12:00:00Z", "action_refused", "play (api) p-1: call is ending")
    over, state = control.on_event(record, state, "CallDisconnected", {"id": "d"}, T0, ids)
    ended, _ = control.on_event(over, state, "CallActionRequested", play, T0, ids)
    assert notes(ended)[-1] == ("2026-03-01T12:00:00Z", "action_refused", "play (api) p-1: call is ended")


def test_the_41st_action_is_refused_and_a_retried_request_is_not() -> None:
    record, state, ids = connected()
    for index in range(41):
        request = CallAction(f"m-{index}", "mute", "api").to_payload()
        record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    assert notes(record)[-1] == ("2026-03-01T12:00:00Z", "action_refused",
                                 "mute (api) m-40: more than 40 actions on one call")
    assert [event for _, event, _ in notes(record)].count("action_requested") == 40
    again, _ = control.on_event(record, state, "CallActionRequested", CallAction("m-0", "mute", "api").to_payload(),
                                T0, ids)
    assert again == record


def test_a_failed_flow_load_is_noted_and_the_default_flow_runs() -> None:
    ids = new_ids()
    record, state = control.on_flow_loaded(lifecycle.begin(START, T0), control.begin(), {"status": "failed"},
                                           T0 + timedelta(seconds=1), ids)
    assert notes(record)[-1] == ("2026-03-01T12:00:01Z", "flow_settings_failed", "default flow")
    assert state.flow.settings == CallFlowSettings() and state.flow.phase == "waiting"
    loaded, _ = control.on_flow_loaded(lifecycle.begin(START, T0), control.begin(), CallFlowSettings().to_dict(),
                                       T0, ids)
    assert [event for _, event, _ in notes(loaded)] == ["ringing"]


def test_the_flow_starts_once_connected_and_loaded_in_either_order() -> None:
    settings = CallFlowSettings(greeting=Prompt(text="Welcome."))
    ids = new_ids()
    record, state = lifecycle.begin(START, T0), control.begin()
    record, state = control.on_event(record, state, "CallConnected", {"callConnectionId": "cc"}, T0, ids)
    assert state.flow.phase == "waiting"
    record, state = control.on_flow_loaded(record, state, settings.to_dict(), T0, ids)
    assert state.flow.phase == "greeting"
    assert notes(record)[-1] == ("2026-03-01T12:00:00Z", "action_requested", "play (greeting) id-1")
    record, state, _ = connected(settings)
    assert state.flow.phase == "greeting" and control.status_fields(state)["pendingActions"] == 1


def test_dispatch_sends_one_action_at_a_time_until_the_call_ends() -> None:
    record, state, ids = connected()
    for action_id in ("p-1", "p-2"):
        request = CallAction(action_id, "play", "api", prompt=Prompt(text="Hi")).to_payload()
        record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    state, first = control.next_dispatch(record, state)
    assert first is not None and first.action_id == "p-1"
    assert control.next_dispatch(record, state) == (state, None)  # p-1 is still being sent
    record, state = control.on_request_result(record, state, "p-1", {"status": "accepted"}, T0, ids)
    assert notes(record)[-1] == ("2026-03-01T12:00:00Z", "action_sent", "play (api) p-1")
    asked = lifecycle.request_hang_up(record, "bye")
    assert control.next_dispatch(asked, state) == (state, None)
    state, second = control.next_dispatch(record, state)
    assert second is not None and second.action_id == "p-2"


def test_a_refused_request_is_noted_with_acs_reason_and_an_unknown_id_changes_nothing() -> None:
    record, state, ids = connected()
    request = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    state, _ = control.next_dispatch(record, state)
    later = T0 + timedelta(seconds=7)
    failed, failed_state = control.on_request_result(record, state, "p-1",
                                                     {"status": "failed", "code": 403, "message": "no"}, later, ids)
    assert notes(failed)[-1] == ("2026-03-01T12:00:07Z", "action_failed", "play (api) p-1: failed, 403, no")
    assert control.status_fields(failed_state)["pendingActions"] == 0
    unknown, unknown_state = control.on_request_result(record, state, "nope", {"status": "accepted"}, later, ids)
    assert unknown == record and unknown_state == state


def test_recording_requests_move_the_recording_state_when_accepted() -> None:
    record, state, ids = connected()
    request = CallAction("r-1", "start_recording", "api").to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", request, T0, ids)
    state, _ = control.next_dispatch(record, state)
    record, state = control.on_request_result(record, state, "r-1", {"status": "ok", "recordingId": "rec-1"}, T0,
                                              ids)
    assert (state.recording.recording_id, state.recording.state) == ("rec-1", "active")
    assert control.status_fields(state) == {"flow": "waiting", "pendingActions": 0, "recording": "active"}
    play = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", play, T0, ids)
    state, _ = control.next_dispatch(record, state)
    record, state = control.on_request_result(record, state, "p-1", {"status": "accepted", "recordingId": "x"}, T0,
                                              ids)
    assert state.recording.recording_id == "rec-1"


def test_an_overdue_flow_prompt_fails_and_the_flow_goes_on_only_while_connected() -> None:
    settings = CallFlowSettings(greeting=Prompt(text="Welcome."))
    record, state, ids = connected(settings)
    state, greeting = control.next_dispatch(record, state)
    assert greeting is not None
    record, state = control.on_request_result(record, state, greeting.action_id, {"status": "accepted"}, T0, ids)
    due = control.result_deadline(state)
    assert due == T0 + timedelta(seconds=120)
    timed_out, timed_state = control.on_result_deadline(record, state, due, ids)
    assert notes(timed_out)[-1][:2] == ("2026-03-01T12:02:00Z", "action_timed_out")
    assert notes(timed_out)[-1][2] == "play (greeting) id-1"
    assert timed_state.flow.phase == "listening" and control.result_deadline(timed_state) is None
    over, over_state = control.on_event(record, state, "CallDisconnected", {"id": "d"}, T0, ids)
    late, late_state = control.on_result_deadline(over, over_state, due, ids)
    assert notes(late)[-1][1] == "action_timed_out" and late_state.flow.phase == "greeting"
    early, early_state = control.on_result_deadline(record, state, due - timedelta(seconds=1), ids)
    assert early == record and early_state == state


def test_an_accepted_transfer_cancels_what_was_queued() -> None:
    record, state, ids = connected()
    transfer = CallAction("t-1", "transfer", "api", target="+14255550123").to_payload()
    play = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", transfer, T0, ids)
    state, _ = control.next_dispatch(record, state)
    record, state = control.on_event(record, state, "CallActionRequested", play, T0, ids)
    record, state = control.on_request_result(record, state, "t-1", {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "CallTransferAccepted", {"operationContext": "t-1"}, T0, ids)
    assert (record.outcome, record.end_reason) == ("transferred", "transferred to +1 425 *** **23")
    assert notes(record)[-1] == ("2026-03-01T12:00:00Z", "action_canceled", "play (api) p-1: call ending")
    assert control.status_fields(state)["pendingActions"] == 0
    failed_record, failed_state, _ = connected()
    failed_record, failed_state = control.on_event(failed_record, failed_state, "CallActionRequested", transfer, T0,
                                                   ids)
    failed_state, _ = control.next_dispatch(failed_record, failed_state)
    failed_record, failed_state = control.on_request_result(failed_record, failed_state, "t-1",
                                                            {"status": "accepted"}, T0, ids)
    failed_record, _ = control.on_event(failed_record, failed_state, "CallTransferFailed",
                                        {"operationContext": "t-1"}, T0, ids)
    assert failed_record.outcome is None and failed_record.stage == "connected"


MENU_FLOW = CallFlowSettings(greeting=Prompt(text="Welcome."), menu_prompt=Prompt(text="Press 0."),
                             menu_options={"0": "continue"}, menu_max_reprompts=1)


def test_a_greeting_refused_by_acs_moves_the_flow_to_the_menu() -> None:
    record, state, ids = connected(MENU_FLOW)
    state, greeting = control.next_dispatch(record, state)
    assert greeting is not None
    record, state = control.on_request_result(record, state, greeting.action_id, {"status": "failed", "code": 400},
                                              T0, ids)
    assert notes(record)[-2:] == [("2026-03-01T12:00:00Z", "action_failed", "play (greeting) id-1: failed, 400"),
                                  ("2026-03-01T12:00:00Z", "action_requested", "recognize_dtmf (menu) id-2")]


def test_a_menu_without_input_is_noted_with_acs_reason() -> None:
    record, state, ids = connected(MENU_FLOW)
    state, greeting = control.next_dispatch(record, state)
    record, state = control.on_request_result(record, state, greeting.action_id, {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "PlayCompleted", {"operationContext": "id-1"}, T0, ids)
    state, menu = control.next_dispatch(record, state)
    assert menu is not None and menu.action_id == "id-2"
    record, state = control.on_request_result(record, state, "id-2", {"status": "accepted"}, T0, ids)
    failed = {"operationContext": "id-2", "time": "2026-03-01T12:00:20Z",
              "result": {"code": 400, "subCode": 8510, "message": "timeout"}}
    record, state = control.on_event(record, state, "RecognizeFailed", failed, T0, ids)
    assert notes(record)[-3:] == [
        ("2026-03-01T12:00:20Z", "RecognizeFailed", "code 400, subCode 8510, timeout (recognize_dtmf (menu) id-2)"),
        ("2026-03-01T12:00:20Z", "menu_no_input", "code 400, subCode 8510, timeout"),
        ("2026-03-01T12:00:20Z", "action_requested", "recognize_dtmf (menu) id-3")]


def test_silence_reports_with_the_same_utterance_count_reach_the_limit() -> None:
    record, state, ids = connected(CallFlowSettings(silence_seconds=5, silence_max_prompts=1))
    record, state = control.on_event(record, state, "CallerSilence", {"silentMs": 5000, "utterances": 2}, T0, ids)
    state, prompt = control.next_dispatch(record, state)
    assert prompt is not None and prompt.purpose == "silence_prompt"
    record, state = control.on_request_result(record, state, prompt.action_id, {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "PlayCompleted", {"operationContext": prompt.action_id}, T0, ids)
    record, state = control.on_event(record, state, "CallerSilence", {"silentMs": 5000, "utterances": 2}, T0, ids)
    assert notes(record)[-2:] == [("2026-03-01T12:00:00Z", "silence_limit", "no speech after 1 re-prompt(s)"),
                                  ("2026-03-01T12:00:00Z", "action_requested", "play (goodbye) id-2")]


def test_nothing_is_dispatched_once_the_call_is_ending() -> None:
    record, state, ids = connected()
    play = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", play, T0, ids)
    hanging_up = lifecycle.on_hang_up_started(lifecycle.on_timeout(record, T0 + timedelta(hours=2)), T0)
    assert hanging_up.stage == "connected" and control.next_dispatch(hanging_up, state) == (state, None)
    transferred = lifecycle.mark_transferred(record, T0, "transferred")
    assert control.next_dispatch(transferred, state) == (state, None)
    assert control.next_dispatch(record, state)[1] is not None


def test_a_redelivered_request_on_an_ending_call_is_not_refused_again() -> None:
    record, state, ids = connected()
    hang_up = CallAction("h-1", "hang_up", "api").to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", hang_up, T0, ids)
    again, _ = control.on_event(record, state, "CallActionRequested", hang_up, T0, ids)
    assert again == record


def test_an_accepted_transfer_records_when_and_cancels_with_a_reason() -> None:
    record, state, ids = connected()
    transfer = CallAction("t-1", "transfer", "api", target="8:acs:agent").to_payload()
    play = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", transfer, T0, ids)
    state, _ = control.next_dispatch(record, state)
    record, state = control.on_event(record, state, "CallActionRequested", play, T0, ids)
    record, state = control.on_request_result(record, state, "t-1", {"status": "accepted"}, T0, ids)
    later = T0 + timedelta(seconds=4)
    record, state = control.on_event(record, state, "CallTransferAccepted", {"operationContext": "t-1"}, later, ids)
    assert record.transferred_at == later
    entry = next(e for e in state.ledger if e.action.action_id == "p-1")
    assert (entry.state, entry.detail) == ("canceled", "call ending")


def test_an_overdue_greeting_goes_on_to_the_menu_at_the_deadline() -> None:
    record, state, ids = connected(MENU_FLOW)
    state, greeting = control.next_dispatch(record, state)
    record, state = control.on_request_result(record, state, greeting.action_id, {"status": "accepted"}, T0, ids)
    record, state = control.on_result_deadline(record, state, T0 + timedelta(seconds=120), ids)
    assert notes(record)[-2:] == [("2026-03-01T12:02:00Z", "action_timed_out", "play (greeting) id-1"),
                                  ("2026-03-01T12:02:00Z", "action_requested", "recognize_dtmf (menu) id-2")]


def test_a_result_after_the_summary_does_not_move_the_flow() -> None:
    record, state, ids = connected(MENU_FLOW)
    state, greeting = control.next_dispatch(record, state)
    record, state = control.on_request_result(record, state, greeting.action_id, {"status": "accepted"}, T0, ids)
    done = lifecycle.mark_summarized(lifecycle.on_event(record, "CallDisconnected", {}, T0), T0, {})
    _, after = control.on_event(done, state, "PlayCompleted", {"operationContext": greeting.action_id}, T0, ids)
    assert after.flow == state.flow


def test_speech_between_silence_reports_starts_the_re_prompts_again() -> None:
    record, state, ids = connected(CallFlowSettings(silence_seconds=5, silence_max_prompts=1))
    for utterances in (2, 3):
        record, state = control.on_event(record, state, "CallerSilence", {"silentMs": 5000, "utterances": utterances},
                                         T0, ids)
        state, prompt = control.next_dispatch(record, state)
        assert prompt is not None and prompt.purpose == "silence_prompt"
        record, state = control.on_request_result(record, state, prompt.action_id, {"status": "accepted"}, T0, ids)
        record, state = control.on_event(record, state, "PlayCompleted", {"operationContext": prompt.action_id}, T0,
                                         ids)


def test_canceled_and_refused_requests_are_noted_at_their_time() -> None:
    record, state, ids = connected()
    at = {"time": "2026-03-01T12:00:30Z"}
    play = CallAction("p-1", "play", "api", prompt=Prompt(text="Hi")).to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", {**play, **at}, T0, ids)
    record, state = control.on_event(record, state, "CallActionRequested", {"action": "nuke", **at}, T0, ids)
    hang_up = CallAction("h-1", "hang_up", "api").to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", {**hang_up, **at}, T0, ids)
    assert [(t, e) for t, e, _ in notes(record)][-4:] == [
        ("2026-03-01T12:00:30Z", "action_requested"), ("2026-03-01T12:00:30Z", "action_refused"),
        ("2026-03-01T12:00:30Z", "action_requested"), ("2026-03-01T12:00:30Z", "action_canceled")]


def test_flow_notes_carry_the_callback_time() -> None:
    ids = new_ids()
    record, state = lifecycle.begin(START, T0), control.begin()
    record, state = control.on_flow_loaded(record, state, MENU_FLOW.to_dict(), T0, ids)
    record, state = control.on_event(record, state, "CallConnected",
                                     {"callConnectionId": "cc", "time": "2026-03-01T12:00:04Z"}, T0, ids)
    assert notes(record)[-1] == ("2026-03-01T12:00:04Z", "action_requested", "play (greeting) id-1")
