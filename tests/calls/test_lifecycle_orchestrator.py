"""`call_lifecycle` replayed through the real Durable SDK over histories written as the host writes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st

from calls import call_orchestration
from shared.call_activity_names import HANG_UP as HANG_UP_NAME
from shared.call_activity_names import RETRIES, SEND_EMAIL
from shared.call_inbox import INBOX_EVENT, inbox_payload
from shared.call_machine import ACTIVITY_POLL_SECONDS, MAX_ACTIVITY_POLL_SECONDS
from tests.durable_history import DurableHistory

pytestmark = pytest.mark.filterwarnings("ignore:Potential duplicate Task completion")

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SUMMARY, EMAIL, HANG_UP = "prepare_call_summary", "send_summary_email", "hang_up_call"
CONNECT, MAX_DURATION, GRACE, HANG_UP_WAIT, MEDIA_WAIT = 45, 600, 5, 30, 20


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def handle() -> Callable[[str], str]:
    app = df.DFApp()
    app.register_functions(call_orchestration.bp)
    functions = {function.get_function_name(): function for function in app.get_functions()}
    return functions["call_lifecycle"].get_user_function()


def start_input() -> dict[str, Any]:
    return {"instanceId": "call-abc", "caller": "+1555***0100", "callee": "+1555***0199",
            "correlationId": "corr-1", "serverCallId": "server-1", "ringingAt": at(0),
            "timeouts": {"connectSeconds": CONNECT, "maxDurationSeconds": MAX_DURATION,
                         "reorderGraceSeconds": GRACE, "hangUpWaitSeconds": HANG_UP_WAIT,
                         "mediaReportWaitSeconds": MEDIA_WAIT}}


@pytest.fixture
def call(handle: Callable[[str], str]) -> DurableHistory:
    history = DurableHistory(handle, "call_lifecycle", "call-abc", start_input(), T0)
    history.start()
    return history


def event(history: DurableHistory, name: str, seconds: float, **data: Any) -> Callable[[], None]:
    return raise_kind(history, name, {"type": name, "time": at(seconds), **data})


def raise_kind(history: DurableHistory, kind: str, payload: object, **options: Any) -> Callable[[], None]:
    # Every event reaches the orchestration on its single inbox, with its kind in the payload.
    body = inbox_payload(kind, payload) if isinstance(payload, dict) else payload
    return history.raise_event(INBOX_EVENT, body, **options)


def stage(history: DurableHistory) -> tuple[str, str | None]:
    status = history.state["customStatus"]
    return status["stage"], status["outcome"]


def timeline_events(fields: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in fields["timeline"]]


def picked_up(history: DurableHistory, activity: str) -> None:
    """Let the machine's poll pass until `activity` runs: a result that came while its task was no longer
    raced is read at the next wake-up (shared/call_machine.py)."""
    while history.running_or_none(activity) is None and history.pending_timers():
        history.advance((min(t.fire_at for t in history.pending_timers()) - history.now).total_seconds())


def finish(history: DurableHistory, blob: str = "call-abc/summary.json") -> dict[str, Any]:
    history.deliver(history.complete(SUMMARY, {"summaryBlob": blob, "subject": "Call"}), after=1)
    picked_up(history, EMAIL)
    history.deliver(history.complete(EMAIL, {"status": "Succeeded", "operationId": "op-1"}), after=1)
    if not history.state["isDone"]:
        history.advance(MAX_ACTIVITY_POLL_SECONDS)
    assert history.state["isDone"]
    return history.state["output"]


def connected_call(call: DurableHistory) -> DurableHistory:
    call.deliver(event(call, "CallAnswered", 2, callConnectionId="cc-1"), after=2)
    call.deliver(event(call, "CallConnected", 3, callConnectionId="cc-1"), after=1)
    return call


def test_happy_path_summarises_and_emails(call: DurableHistory) -> None:
    assert stage(call) == ("ringing", None)
    connected_call(call)
    assert stage(call) == ("connected", None)
    assert call.state["customStatus"]["callConnectionId"] == "cc-1"
    scheduled = len(call.activities)
    call.advance(CONNECT)  # the connect deadline's timer still fires, unraced, as durable timers do: nothing happens
    assert all(timer.fired for timer in call.timers if timer.fire_at <= T0 + timedelta(seconds=CONNECT))
    assert len(call.activities) == scheduled
    assert not any(timer.is_canceled for timer in call.timer_actions())
    assert stage(call) == ("connected", None)
    call.deliver(event(call, "CallDisconnected", 60, result={"code": 200, "subCode": 0, "message": "bye"}),
                 after=60 - CONNECT - 3)
    assert stage(call) == ("ended", "completed")
    assert call.scheduled_inputs(SUMMARY) == []  # waits for the media host's report first
    call.deliver(event(call, "MediaStreamEnded", 61, audioFrames=2900, transcript="words said on the call"),
                 after=1)

    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["outcome"] == "completed"
    assert (summary_input["connected_at"], summary_input["ended_at"]) == (at(3), at(60))
    assert summary_input["end_reason"] == "code 200, subCode 0, bye"
    assert summary_input["partial"] is False
    assert timeline_events(summary_input) == ["ringing", "CallAnswered", "CallConnected", "CallDisconnected",
                                              "MediaStreamEnded"]
    assert summary_input["media"] == {"type": "MediaStreamEnded", "time": at(61), "audioFrames": 2900}
    assert "words said" not in json.dumps(summary_input)
    assert call.scheduled_inputs(HANG_UP) == []

    call.deliver(call.complete(SUMMARY, {"summaryBlob": "call-abc/summary.json"}), after=1)
    assert call.scheduled_inputs(EMAIL) == [{"instanceId": "call-abc", "summaryBlob": "call-abc/summary.json"}]
    call.deliver(call.complete(EMAIL, {"status": "Succeeded", "operationId": "op-1"}), after=1)
    output = call.state["output"]
    assert call.state["isDone"] and stage(call) == ("summarized", "completed")
    assert output["outcome"] == "completed" and output["summaryBlob"] == "call-abc/summary.json"
    assert output["email"] == {"status": "Succeeded", "operationId": "op-1"}
    stages = [status["stage"] for status in call.statuses]
    assert [name for index, name in enumerate(stages) if index == 0 or stages[index - 1] != name] == [
        "ringing", "connected", "ended", "summarized"]


def test_events_raised_before_the_first_run_are_all_applied(handle: Callable[[str], str]) -> None:
    history = DurableHistory(handle, "call_lifecycle", "call-abc", start_input(), T0)
    history.start(raise_kind(history, "CallAnswered", {"time": at(0), "callConnectionId": "cc-1"}),
                  raise_kind(history, "CallConnected", {"time": at(0)}))
    assert stage(history) == ("connected", None)
    assert history.state["customStatus"]["callConnectionId"] == "cc-1"
    history.deliver(history.complete("load_call_flow", {}))
    history.advance(ACTIVITY_POLL_SECONDS)  # the flow's result is read at the next poll
    assert history.timers[-1].fire_at == T0 + timedelta(seconds=MAX_DURATION)


def test_missed_call_never_answered_takes_the_short_path(call: DurableHistory) -> None:
    call.advance(CONNECT)
    assert stage(call) == ("ended", "missed")
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["outcome"] == "missed" and summary_input["connected_at"] is None
    assert summary_input["end_reason"] == "not connected in time"
    assert call.scheduled_inputs(HANG_UP) == []
    assert call.scheduled_at(SUMMARY) == [T0 + timedelta(seconds=CONNECT)]  # no media wait
    assert finish(call)["outcome"] == "missed"


def test_missed_call_that_was_answered_is_hung_up(call: DurableHistory) -> None:
    call.deliver(event(call, "CallAnswered", 2, callConnectionId="cc-1"), after=2)
    call.advance(CONNECT)
    assert call.scheduled_inputs(HANG_UP) == [{"callConnectionId": "cc-1"}]
    assert stage(call) == ("ended", "missed") and call.scheduled_inputs(SUMMARY) == []
    call.deliver(call.complete(HANG_UP, {"status": "ok"}), after=1)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert timeline_events(summary_input)[-3:] == ["missed", "hang_up_requested", "hang_up_result"]
    assert finish(call)["outcome"] == "missed"


def test_maximum_duration_hangs_up_then_ends_on_disconnect(call: DurableHistory) -> None:
    connected_call(call).advance(MAX_DURATION)
    assert call.scheduled_inputs(HANG_UP) == [{"callConnectionId": "cc-1"}]
    assert stage(call) == ("connected", "max_duration")
    call.deliver(call.complete(HANG_UP, {"status": "ok"}), after=1)
    call.deliver(event(call, "CallDisconnected", 606), after=2)
    assert stage(call) == ("ended", "max_duration")
    call.deliver(event(call, "MediaStreamEnded", 607), after=1)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["ended_at"] == at(606)
    assert summary_input["end_reason"] == f"maximum duration of {MAX_DURATION} s reached"
    assert finish(call)["outcome"] == "max_duration"


def test_disconnect_arriving_while_hang_up_runs_is_not_lost(call: DurableHistory) -> None:
    connected_call(call).advance(MAX_DURATION)
    call.deliver(event(call, "CallDisconnected", 603.5), after=0.5)  # before the activity's completion
    assert stage(call) == ("ended", "max_duration")
    call.deliver(call.complete(HANG_UP, {"status": "ok"}), after=0.5)
    call.deliver(event(call, "MediaStreamEnded", 605), after=1)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["ended_at"] == at(603.5)
    assert "disconnect_not_confirmed" not in timeline_events(summary_input)


def test_hang_up_failing_for_good_does_not_fail_the_orchestration(call: DurableHistory) -> None:
    connected_call(call).advance(MAX_DURATION)
    call.fail_for_good(HANG_UP, "ACS unavailable")
    assert len(call.scheduled_inputs(HANG_UP)) == RETRIES[HANG_UP_NAME].max_attempts
    assert stage(call) == ("connected", "max_duration") and call.scheduled_inputs(SUMMARY) == []
    call.advance(HANG_UP_WAIT + MEDIA_WAIT)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert timeline_events(summary_input)[-4:] == [
        "hang_up_requested", "hang_up_result", "disconnect_not_confirmed", "media_report_missing"]
    assert summary_input["timeline"][-3]["detail"] == "failed"
    assert summary_input["ended_at"] == at(3 + MAX_DURATION + HANG_UP_WAIT)
    assert finish(call)["outcome"] == "max_duration"


@pytest.mark.parametrize("same_episode", [True, False])
def test_disconnect_overtaking_connect_still_completes(call: DurableHistory, same_episode: bool) -> None:
    disconnected = event(call, "CallDisconnected", 30)
    connected = event(call, "CallConnected", 3, callConnectionId="cc-1")
    if same_episode:
        call.deliver(disconnected, connected, after=30)
    else:
        call.deliver(disconnected, after=30)
        assert stage(call) == ("ringing", None)
        call.deliver(connected, after=2)
    assert stage(call) == ("ended", "completed")
    call.deliver(event(call, "MediaStreamEnded", 33), after=1)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert (summary_input["connected_at"], summary_input["ended_at"]) == (at(3), at(30))
    assert finish(call)["outcome"] == "completed"


def test_disconnect_alone_while_ringing_is_missed_after_the_grace(call: DurableHistory) -> None:
    call.deliver(event(call, "CallAnswered", 2, callConnectionId="cc-1"), after=2)
    call.deliver(event(call, "CallDisconnected", 10), after=8)
    call.advance(GRACE - 1)
    assert stage(call) == ("ringing", None)
    call.advance(1)
    assert stage(call) == ("ended", "missed")
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["ended_at"] == at(10)
    assert summary_input["end_reason"] == "caller hung up before connect"
    assert call.scheduled_inputs(HANG_UP) == []  # the call is already gone


def run_normal_call(history: DurableHistory, duplicate: bool) -> DurableHistory:
    twice = 2 if duplicate else 1
    history.deliver(*[event(history, "CallConnected", 3, callConnectionId="cc-1")] * twice, after=3)
    if duplicate:
        history.deliver(event(history, "CallConnected", 3, callConnectionId="cc-1"), after=1)
    history.deliver(*[event(history, "CallDisconnected", 60)] * twice, after=60 - history.now.second)
    history.deliver(event(history, "MediaStreamEnded", 61, audioFrames=10), after=1)
    if duplicate:
        history.deliver(event(history, "MediaStreamEnded", 61, audioFrames=10),
                        event(history, "CallDisconnected", 60))
    finish(history)
    return history


def test_duplicated_events_change_nothing(handle: Callable[[str], str]) -> None:
    runs = []
    for duplicate in (False, True):
        history = DurableHistory(handle, "call_lifecycle", "call-abc", start_input(), T0)
        history.start()
        runs.append(run_normal_call(history, duplicate))
    clean, noisy = runs
    assert len(noisy.scheduled_inputs(SUMMARY)) == 1 and len(noisy.scheduled_inputs(EMAIL)) == 1
    assert noisy.scheduled_inputs(SUMMARY) == clean.scheduled_inputs(SUMMARY)
    # Equal but for when the summary was read: a result that lands after a duplicate is read at the next poll.
    noisy_output, clean_output = noisy.state["output"], clean.state["output"]
    assert noisy_output["timeline"][:-1] == clean_output["timeline"][:-1]
    assert {**noisy_output, "timeline": None} == {**clean_output, "timeline": None}


def test_answer_failed_ends_the_call_and_still_emails(call: DurableHistory) -> None:
    call.deliver(event(call, "AnswerFailed", 1, result={"code": 409, "subCode": None, "message": "taken"}),
                 after=1)
    assert stage(call) == ("ended", "answer_failed")
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["outcome"] == "answer_failed" and summary_input["end_reason"] == "code 409, taken"
    output = finish(call)
    assert output["outcome"] == "answer_failed" and output["email"]["status"] == "Succeeded"
    assert len(call.scheduled_inputs(EMAIL)) == 1


def test_missing_media_report_marks_the_summary_partial(call: DurableHistory) -> None:
    connected_call(call).deliver(event(call, "CallDisconnected", 50), after=47)
    call.advance(MEDIA_WAIT - 1)
    assert call.scheduled_inputs(SUMMARY) == []
    call.advance(1)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["partial"] is True and summary_input["media"] is None
    assert timeline_events(summary_input)[-1] == "media_report_missing"
    assert finish(call)["partial"] is True


def test_media_report_before_disconnect_is_kept(call: DurableHistory) -> None:
    connected_call(call).deliver(event(call, "MediaStreamEnded", 40, audioFrames=5), after=37)
    call.deliver(event(call, "CallDisconnected", 41), after=1)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert summary_input["partial"] is False and summary_input["media"]["audioFrames"] == 5


def test_email_failing_after_all_retries_completes_with_status_failed(call: DurableHistory) -> None:
    connected_call(call).deliver(event(call, "CallDisconnected", 50), event(call, "MediaStreamEnded", 50),
                                 after=47)
    call.deliver(call.complete(SUMMARY, {"summaryBlob": "call-abc/summary.json"}), after=1)
    call.fail_for_good(EMAIL, "429 Too Many Requests")
    assert len(call.scheduled_inputs(EMAIL)) == RETRIES[SEND_EMAIL].max_attempts
    assert call.state["isDone"] and stage(call) == ("summarized", "completed")
    output = call.state["output"]
    assert output["email"]["status"] == "failed" and "429 Too Many Requests" in output["email"]["error"]
    assert output["summaryBlob"] == "call-abc/summary.json"


def test_summary_failing_after_all_retries_still_emails_the_record(call: DurableHistory) -> None:
    call.advance(CONNECT)
    call.fail_for_good(SUMMARY, "blob unavailable")
    (email,) = call.scheduled_inputs(EMAIL)
    assert "summaryBlob" not in email and email["call"]["summary_error"] == "blob unavailable"
    assert email["call"]["outcome"] == "missed" and "14255550100" not in json.dumps(email)
    assert not call.state["isDone"]


def test_payloads_sent_as_json_text_are_decoded(handle: Callable[[str], str]) -> None:
    history = DurableHistory(handle, "call_lifecycle", "call-abc", json.dumps(start_input()), T0)
    history.start()
    assert history.state["customStatus"]["correlationId"] == "corr-1"
    for name, seconds in (("CallConnected", 3), ("CallDisconnected", 20), ("MediaStreamEnded", 21)):
        payload = {"type": name, "time": at(seconds), "callConnectionId": "cc-9"}
        history.deliver(raise_kind(history, name, payload, as_json_text=True), after=seconds - history.now.second)
    [summary_input] = history.scheduled_inputs(SUMMARY)
    assert (summary_input["connected_at"], summary_input["ended_at"]) == (at(3), at(20))
    assert history.state["customStatus"]["callConnectionId"] == "cc-9"
    history.deliver(history.complete(SUMMARY, json.dumps({"summaryBlob": "b.json"})), after=1)
    assert history.scheduled_inputs(EMAIL) == [{"instanceId": "call-abc", "summaryBlob": "b.json"}]


@pytest.mark.parametrize("garbage", ["{not json", 42, ["a"], None, {"time": 7, "callConnectionId": {"x": 1}},
                                     {"kind": ["CallConnected"]}, {"kind": "NoSuchKind", "time": "x"}])
def test_malformed_inbox_payloads_are_ignored(call: DurableHistory, garbage: object) -> None:
    call.deliver(call.raise_event(INBOX_EVENT, garbage), after=1)
    assert stage(call) == ("ringing", None) and timeline_events(call.state["customStatus"] | {"timeline": []}) == []
    call.deliver(call.raise_event(INBOX_EVENT, garbage, as_json_text=True), after=1)
    assert stage(call) == ("ringing", None)


@pytest.mark.parametrize("garbage", [{"time": 7, "callConnectionId": {"x": 1}}, {"time": "yesterday", "result": 5}])
def test_malformed_event_fields_do_not_break_the_call(call: DurableHistory, garbage: dict[str, object]) -> None:
    call.deliver(raise_kind(call, "CallConnected", garbage), after=3)
    assert stage(call) == ("connected", None)
    call.deliver(raise_kind(call, "CallDisconnected", garbage), after=7)
    call.deliver(raise_kind(call, "MediaStreamEnded", garbage), after=1)
    [summary_input] = call.scheduled_inputs(SUMMARY)
    assert (summary_input["connected_at"], summary_input["ended_at"]) == (at(3), at(10))


def test_replaying_the_same_history_is_deterministic(call: DurableHistory) -> None:
    connected_call(call).advance(MAX_DURATION)
    call.deliver(event(call, "CallDisconnected", 604), call.complete(HANG_UP, {"status": "ok"}), after=1)
    call.advance(MEDIA_WAIT)
    finish(call)
    first, second = call.replay(), call.replay()
    assert first == second
    assert first["actions"] == call.state["actions"] and first["output"] == call.state["output"]


# Weighted towards calls that connect; pauses mostly short, sometimes past a deadline.
EVENT_CHOICES = ["CallAnswered", "CallConnected", "CallConnected", "CallDisconnected", "CallDisconnected",
                 "MediaStreamEnded", "MediaStreamEnded", "AnswerFailed"]
PAUSES = st.one_of(st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=700))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.lists(st.sampled_from(EVENT_CHOICES), min_size=1, max_size=3),
                          PAUSES), max_size=8))
def test_any_event_sequence_ends_with_one_summary_and_one_email(
        handle: Callable[[str], str], episodes: list[tuple[list[str], int]]) -> None:
    history = DurableHistory(handle, "call_lifecycle", "call-abc", start_input(), T0)
    history.start()
    for names, pause in episodes:
        history.advance(pause)
        if history.running_or_none(SUMMARY):
            break
        seconds = (history.now - T0).total_seconds()
        history.deliver(*[event(history, name, seconds, callConnectionId="cc-1") for name in names])
        if history.running_or_none(HANG_UP):  # after the events: they may arrive while it runs
            history.deliver(history.complete(HANG_UP, {"status": "ok"}))
    while history.running_or_none(SUMMARY) is None:
        if history.running_or_none(HANG_UP):
            history.deliver(history.complete(HANG_UP, {"status": "ok"}))
        else:
            history.advance(MAX_DURATION + HANG_UP_WAIT + MEDIA_WAIT)
    output = finish(history)
    assert len(history.scheduled_inputs(SUMMARY)) == 1 and len(history.scheduled_inputs(EMAIL)) == 1
    assert len(history.scheduled_inputs(HANG_UP)) <= 1
    assert output["outcome"] in ("completed", "missed", "max_duration", "answer_failed")
    assert history.replay() == history.state
    hypothesis_event(f"outcome {output['outcome']}, hang-ups {len(history.scheduled_inputs(HANG_UP))}")
