"""shared.call_machine: the whole call as one pure machine, driven here without Durable."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared import call_machine as machine
from shared.call_activity_names import HANG_UP, LOAD_FLOW, PREPARE_SUMMARY, RETRIES, RUN_ACTION, SEND_EMAIL
from shared.call_inbox import inbox_payload
from shared.call_messages import (
    ActivityDone,
    Command,
    Finish,
    InboxEvent,
    Input,
    SetStatus,
    StartActivity,
    TimerFired,
    WaitUntil,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CONNECT, MAX_DURATION, GRACE, HANG_UP_WAIT, MEDIA_WAIT = 45, 600, 5, 30, 20
START = {"instanceId": "call-abc", "caller": "+1555***0100", "callee": "+1555***0199", "correlationId": "c",
         "serverCallId": "s", "ringingAt": "2026-03-01T12:00:00Z", "callerRef": "sealed-ref",
         "timeouts": {"connectSeconds": CONNECT, "maxDurationSeconds": MAX_DURATION, "reorderGraceSeconds": GRACE,
                      "hangUpWaitSeconds": HANG_UP_WAIT, "mediaReportWaitSeconds": MEDIA_WAIT}}


@dataclass
class Driver:
    """What the orchestrator does, minus Durable: keeps the running activities and the last wait."""

    now: datetime = T0
    state: machine.CallState | None = None
    running: dict[str, StartActivity] = field(default_factory=dict)
    started: list[StartActivity] = field(default_factory=list)
    wait: WaitUntil | None = None
    output: dict[str, Any] | None = None
    finishes: int = 0

    def begin(self) -> Driver:
        self.state, commands = machine.start(START, self.now)
        self._take(commands)
        return self

    def feed(self, *messages: Input, after: float = 0) -> list[Command]:
        assert self.state is not None
        self.now += timedelta(seconds=after)
        self.state, commands = machine.receive(self.state, list(messages), self.now)
        self._take(commands)
        return commands

    def event(self, kind: str, after: float = 0, **payload: object) -> list[Command]:
        return self.feed(InboxEvent(inbox_payload(kind, {"type": kind, **payload})), after=after)

    def fire(self) -> list[Command]:
        assert self.wait is not None
        self.now = max(self.now, self.wait.at)
        return self.feed(TimerFired(self.wait.seq))

    def done(self, name: str, output: object = None, error: str | None = None, after: float = 0) -> list[Command]:
        activity = next(a for a in self.running.values() if a.name == name)
        del self.running[activity.activity_id]
        return self.feed(ActivityDone(activity.activity_id, output, error), after=after)

    def _take(self, commands: list[Command]) -> None:
        terminals = [c for c in commands if isinstance(c, WaitUntil | Finish)]
        if self.output is None:
            assert len(terminals) == 1 and commands[-1] is terminals[0]
        for command in commands:
            if isinstance(command, StartActivity):
                self.running[command.activity_id] = command
                self.started.append(command)
            elif isinstance(command, WaitUntil):
                self.wait = command
            elif isinstance(command, Finish):
                self.output, self.finishes = dict(command.output), self.finishes + 1

    def names(self, name: str) -> list[StartActivity]:
        return [a for a in self.started if a.name == name]


def test_start_loads_the_flow_and_waits_for_the_connect_deadline() -> None:
    driver = Driver().begin()
    assert [a.name for a in driver.started] == [LOAD_FLOW]
    assert driver.started[0].input == {"instanceId": "call-abc"}
    # The flow load runs: the wait is its first poll, before the connect deadline.
    assert driver.wait is not None and driver.wait.at == T0 + timedelta(seconds=machine.ACTIVITY_POLL_SECONDS)
    driver.done(LOAD_FLOW, {})
    assert driver.wait.at == T0 + timedelta(seconds=CONNECT)


def test_connect_deadline_is_exact() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    driver.now = T0 + timedelta(seconds=CONNECT - 1)
    driver.feed(TimerFired(driver.wait.seq))  # early: nothing is due yet
    assert driver.state.record.stage == "ringing" and not driver.names(PREPARE_SUMMARY)
    driver.fire()
    assert driver.state.record.outcome == "missed" and driver.now == T0 + timedelta(seconds=CONNECT)
    [summary] = driver.names(PREPARE_SUMMARY)
    assert summary.input["outcome"] == "missed" and summary.input["end_reason"] == "not connected in time"


def test_a_stale_timer_changes_nothing() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    stale = driver.wait.seq
    driver.event("CallConnected", after=3, callConnectionId="cc-1")
    driver.now = T0 + timedelta(seconds=CONNECT)
    before = driver.state
    commands = driver.feed(TimerFired(stale))
    assert driver.state.record == before.record and driver.state.record.stage == "connected"
    assert [type(c) for c in commands] == [SetStatus, WaitUntil]
    assert driver.wait.at == T0 + timedelta(seconds=3 + MAX_DURATION)


def test_hang_up_is_retried_by_the_machines_own_timer() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    driver.event("CallConnected", after=3, callConnectionId="cc-1")
    driver.fire()  # maximum duration
    assert [a.input for a in driver.names(HANG_UP)] == [{"callConnectionId": "cc-1"}]
    policy = RETRIES[HANG_UP]
    for attempt in range(1, policy.max_attempts):
        driver.done(HANG_UP, error="503")
        assert driver.wait.at == driver.now + timedelta(seconds=policy.interval_seconds)
        assert len(driver.names(HANG_UP)) == attempt
        driver.fire()
        assert len(driver.names(HANG_UP)) == attempt + 1
    driver.done(HANG_UP, error="503 for good")
    assert driver.state.record.hang_up == "failed"
    assert len(driver.names(HANG_UP)) == policy.max_attempts


def test_actions_carry_the_caller_ref_unchanged() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {"greeting": {"text": "Hi", "url": None, "voice": "en-US-JennyNeural"}})
    driver.event("CallConnected", callConnectionId="cc-1")
    [action] = driver.names(RUN_ACTION)
    assert action.input["callerRef"] == "sealed-ref" and action.input["callConnectionId"] == "cc-1"


def test_summary_failing_for_good_still_sends_an_email_from_the_record() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    driver.fire()
    for attempt in range(RETRIES[PREPARE_SUMMARY].max_attempts):
        driver.done(PREPARE_SUMMARY, error="blob down")
        if attempt < RETRIES[PREPARE_SUMMARY].max_attempts - 1:
            assert driver.wait.at == driver.now + timedelta(seconds=RETRIES[PREPARE_SUMMARY].interval_seconds)
            driver.fire()
    assert len(driver.names(PREPARE_SUMMARY)) == RETRIES[PREPARE_SUMMARY].max_attempts
    (email,) = driver.names(SEND_EMAIL)
    assert "summaryBlob" not in email.input
    call = email.input["call"]
    assert call["instance_id"] == "call-abc" and call["summary_error"] == "blob down"
    assert call["transcription"] == "requested" and call["outcome"] == "missed"
    driver.done(SEND_EMAIL, {"status": "Succeeded", "operationId": "op-1"})
    assert driver.output is not None and driver.output["email"]["status"] == "Succeeded"
    assert driver.output["summary"]["status"] == "failed"
    assert driver.feed(TimerFired(driver.wait.seq)) == []  # done: nothing more, ever


KINDS = ["CallAnswered", "CallConnected", "CallConnected", "CallDisconnected", "CallDisconnected",
         "MediaStreamEnded", "AnswerFailed", "CallTransferAccepted", "CallTransferFailed", "PlayCompleted",
         "CallActionRequested"]
STEP = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(KINDS), st.integers(0, 30)),
    st.tuples(st.just("timer"), st.just(""), st.integers(0, 0)),
    st.tuples(st.just("result"), st.sampled_from(["ok", "fail"]), st.integers(0, 5)),
)


def _payload(driver: Driver, kind: str) -> dict[str, object]:
    if kind == "CallActionRequested":
        return {"actionId": "api-transfer-1", "action": "transfer", "source": "api", "target": "+14255550123"}
    transfer = next((a for a in driver.names(RUN_ACTION) if a.input.get("action") == "transfer"), None)
    context = transfer.input["actionId"] if transfer else "none"
    return {"callConnectionId": "cc-1", "operationContext": context, "result": {"code": 200, "subCode": 7015}}


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, max_size=40))
def test_any_sequence_ends_in_one_outcome_and_one_email(steps: list[tuple[str, str, int]]) -> None:
    driver = Driver().begin()
    for what, detail, after in steps:
        if driver.output is not None:
            break
        if what == "event":
            driver.event(detail, after=after, **_payload(driver, detail))
        elif what == "timer":
            driver.fire()
        elif driver.running:
            name = next(iter(driver.running.values())).name
            ok = {"status": "accepted"} if name == RUN_ACTION else {"status": "ok", "summaryBlob": "b"}
            driver.done(name, ok if detail == "ok" else None, None if detail == "ok" else "boom", after=after)
    for _ in range(200):  # then time passes and every activity succeeds: the call must end
        if driver.output is not None:
            break
        if driver.running:
            name = next(iter(driver.running.values())).name
            driver.done(name, {"status": "accepted"} if name == RUN_ACTION else
                        {"status": "Succeeded", "summaryBlob": "b"})
        else:
            driver.fire()
    assert driver.finishes == 1 and driver.output is not None
    assert driver.output["outcome"] in ("completed", "missed", "max_duration", "answer_failed", "transferred")
    # One email: re-issued only as a retry of the same command after a failure (same id, idempotent send).
    assert len({a.activity_id for a in driver.names(SEND_EMAIL)}) == 1
    assert len({a.activity_id for a in driver.names(PREPARE_SUMMARY)}) == 1
    assert driver.state.phase == "done"


def _refused_call(policy: dict[str, str]) -> Driver:
    driver = Driver()
    driver.state, commands = machine.start({**START, "policy": policy}, driver.now)
    driver._take(commands)
    return driver


def test_a_rejected_call_goes_straight_to_its_summary_and_short_email() -> None:
    driver = _refused_call({"action": "reject", "reason": "blocked_caller", "rejectReason": "forbidden"})
    assert [a.name for a in driver.started] == [PREPARE_SUMMARY]  # no flow, no answer wait
    fields = driver.started[0].input
    assert fields["outcome"] == "rejected" and fields["end_reason"] == "blocked_caller"
    assert fields["connected_at"] is None and fields["ended_at"] == START["ringingAt"]
    assert {"at": START["ringingAt"], "event": "rejected", "detail": "forbidden: blocked_caller"} in fields["timeline"]
    driver.done(PREPARE_SUMMARY, {"status": "ok", "summaryBlob": "calls/call-abc/summary.json"})
    driver.done(SEND_EMAIL, {"status": "sent", "operationId": "op"})
    assert driver.output is not None
    assert driver.output["outcome"] == "rejected" and driver.output["partial"] is False
    assert driver.output["email"]["status"] == "sent"


def test_a_redirected_call_records_its_masked_target_and_reason() -> None:
    driver = _refused_call({"action": "redirect", "reason": "media_host_full", "target": "4:+1 425 *** **99"})
    fields = driver.started[0].input
    assert fields["outcome"] == "redirected" and fields["end_reason"] == "media_host_full"
    assert {"at": START["ringingAt"], "event": "redirected",
            "detail": "to 4:+1 425 *** **99: media_host_full"} in fields["timeline"]


def _connected(**flow: object) -> Driver:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, flow)
    driver.event("CallConnected", after=3, callConnectionId="cc-1")
    return driver


def test_limits_are_pinned() -> None:
    assert (machine.ACTIVITY_POLL_SECONDS, machine.MAX_ACTIVITY_POLL_SECONDS) == (2, 60)
    assert (machine.MAX_ERROR_CHARS, machine.MAX_SUMMARY_ERROR_CHARS) == (300, 300)


def test_activity_and_action_ids_are_known_answers() -> None:
    # Replay must give the same ids: activities by name and serial, flow actions by uuid5 of instance and serial.
    driver = _connected(greeting={"text": "Hi", "url": None, "voice": "en-US-JennyNeural"})
    assert [a.activity_id for a in driver.started] == ["load_call_flow-1", "run_call_action-3"]
    [action] = driver.names(RUN_ACTION)
    assert action.input["actionId"] == "4b356fcc-ad9c-5b6b-a55f-602b52182513"  # uuid5(namespace, "call-abc/2")


def test_the_trace_context_rides_in_every_activity_input() -> None:
    state, commands = machine.start({**START, "traceparent": "00-abc-def-01"}, T0)
    [load] = [c for c in commands if isinstance(c, StartActivity)]
    assert load.input == {"instanceId": "call-abc", "traceparent": "00-abc-def-01"}
    assert state.trace == {"traceparent": "00-abc-def-01"}
    assert machine.start({**START, "traceparent": 7}, T0)[0].trace == {}


def test_start_reads_twice_encoded_json_input() -> None:
    state, commands = machine.start(json.dumps(json.dumps(START)), T0)
    assert state.record.start.instance_id == "call-abc"
    assert [type(c) for c in commands] == [StartActivity, SetStatus, WaitUntil]
    assert commands[1] == SetStatus({"stage": "ringing", "since": "2026-03-01T12:00:00Z", "outcome": None,
                                     "callConnectionId": None, "correlationId": "c", "flow": "waiting",
                                     "pendingActions": 0})
    assert commands[2] == WaitUntil(T0 + timedelta(seconds=2), 1) and state.wait_seq == 1


def test_the_poll_doubles_with_the_activitys_age_up_to_a_minute() -> None:
    driver = Driver().begin()
    waits = []
    for after in (0, 2, 4, 8, 16, 32):
        driver.now = T0 + timedelta(seconds=after)
        driver.feed(TimerFired(driver.wait.seq))
        waits.append((driver.wait.at - driver.now).total_seconds())
    # The flow load never reports: the poll grows with its age until the connect deadline (45 s) is earlier.
    assert waits == [2, 2, 4, 8, 16, 13]
    state = replace(driver.state, running=tuple(replace(a, started=T0) for a in driver.state.running))
    assert machine._poll(state, T0 + timedelta(seconds=100)) == timedelta(seconds=60)
    assert machine._poll(state, T0 + timedelta(seconds=59)) == timedelta(seconds=59)
    assert machine._poll(state, T0 + timedelta(seconds=1)) == timedelta(seconds=2)


def test_the_wait_is_the_earliest_deadline() -> None:
    driver = _connected()
    assert driver.wait.at == T0 + timedelta(seconds=3 + MAX_DURATION)
    assert driver.wait.seq == driver.state.wait_seq
    seq = driver.wait.seq
    driver.event("ParticipantsUpdated", id="p1")
    assert driver.wait.seq == seq + 1
    driver.event("CallDisconnected", after=10)
    assert driver.wait.at == driver.now + timedelta(seconds=MEDIA_WAIT)


def test_inbox_events_after_the_call_phase_and_unknown_kinds_change_nothing() -> None:
    driver = _connected()
    record = driver.state.record
    driver.event("NotAKind", callConnectionId="cc-2")
    driver.feed(InboxEvent("not json"), InboxEvent({"type": "CallDisconnected"}))
    assert driver.state.record == record
    driver.event("CallDisconnected", after=1)
    driver.event("MediaStreamEnded", after=1, closeCode=1000)
    assert driver.state.phase == "summarizing"
    summarizing = driver.state.record
    driver.event("CallConnected", after=1)
    driver.event("MediaStreamEnded", after=1, closeCode=1006)
    assert driver.state.record == summarizing


def test_an_unknown_activity_result_changes_nothing() -> None:
    driver = Driver().begin()
    before = driver.state
    assert driver.feed(ActivityDone("load_call_flow-99", {})) == [SetStatus(machine.status_of(before)),
                                                                  WaitUntil(before.running[0].started
                                                                            + timedelta(seconds=2), 2)]
    assert driver.state.running == before.running


def test_a_flow_load_failing_for_good_runs_the_default_flow_and_notes_it() -> None:
    driver = Driver().begin()
    for attempt in range(RETRIES[LOAD_FLOW].max_attempts):
        driver.done(LOAD_FLOW, error="x" * 500)
        if attempt < RETRIES[LOAD_FLOW].max_attempts - 1:
            assert driver.state.retries[0].due == driver.now + timedelta(seconds=1)
            assert driver.state.retries[0].activity.attempt == attempt + 2
            driver.fire()
    assert len(driver.names(LOAD_FLOW)) == 3 and len({a.activity_id for a in driver.names(LOAD_FLOW)}) == 1
    assert driver.state.control.flow.phase == "waiting" and driver.state.control.flow.settings is not None
    assert [e.event for e in driver.state.record.timeline][-1] == "flow_settings_failed"


def test_a_retry_not_yet_due_waits_for_its_time() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, error="503")
    due = driver.state.retries[0].due
    assert driver.wait.at == due
    driver.now = due - timedelta(milliseconds=1)
    driver.feed(TimerFired(driver.wait.seq))
    assert len(driver.names(LOAD_FLOW)) == 1 and driver.state.retries
    driver.now = due
    driver.feed(TimerFired(driver.wait.seq))
    assert len(driver.names(LOAD_FLOW)) == 2 and not driver.state.retries


def test_an_action_is_never_retried_and_its_failure_is_noted() -> None:
    driver = _connected(greeting={"text": "Hi", "url": None, "voice": "en-US-JennyNeural"})
    driver.done(RUN_ACTION, error="boom")
    assert not driver.state.retries and len(driver.names(RUN_ACTION)) == 1
    last = driver.state.record.timeline[-1]
    assert (last.event, last.detail) == ("action_failed", "play (greeting) 4b356fcc: failed")


def test_actions_go_one_at_a_time_and_only_with_a_connection_id() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {"greeting": {"text": "Hi", "url": None, "voice": "en-US-JennyNeural"}})
    driver.event("CallConnected", after=3)  # no callConnectionId yet
    assert not driver.names(RUN_ACTION)
    driver.event("CallAnswered", callConnectionId="cc-1")  # any lifecycle event brings the id
    [greeting] = driver.names(RUN_ACTION)
    request = {"actionId": "api-1", "action": "play", "source": "api", "prompt": {"text": "Two"}}
    driver.event("CallActionRequested", **request)
    assert len(driver.names(RUN_ACTION)) == 1  # the greeting is still being sent
    driver.done(RUN_ACTION, {"status": "accepted"})
    assert [a.input["actionId"] for a in driver.names(RUN_ACTION)] == [greeting.input["actionId"], "api-1"]
    assert "callerRef" in greeting.input and greeting.input["instanceId"] == "call-abc"


def test_without_a_caller_ref_actions_carry_none_but_still_name_their_call() -> None:
    driver = Driver()
    driver.state, commands = machine.start({**START, "callerRef": None}, driver.now)
    driver._take(commands)
    driver.done(LOAD_FLOW, {"greeting": {"text": "Hi", "url": None, "voice": "en-US-JennyNeural"}})
    driver.event("CallConnected", callConnectionId="cc-1")
    [action] = driver.names(RUN_ACTION)
    # The instance id still goes along: a sealed transfer target opens only for its own call.
    assert "callerRef" not in action.input and action.input["instanceId"] == "call-abc"


def _to_summary(driver: Driver) -> Driver:
    driver.event("CallDisconnected", after=10)
    driver.event("MediaStreamEnded", after=1, closeCode=1000)
    return driver


def test_a_summary_blob_goes_to_the_email_and_the_output_is_a_known_answer() -> None:
    driver = _to_summary(_connected())
    driver.done(PREPARE_SUMMARY, {"status": "ok", "summaryBlob": "calls/call-abc/summary.json"}, after=2)
    [email] = driver.names(SEND_EMAIL)
    assert email.input == {"instanceId": "call-abc", "summaryBlob": "calls/call-abc/summary.json"}
    assert email.activity_id == "send_summary_email-3" and driver.state.phase == "emailing"
    driver.done(SEND_EMAIL, {"status": "sent", "operationId": "op-1"}, after=1)
    output = driver.output
    assert output is not None and output["timeline"][-1] == {
        "at": "2026-03-01T12:00:17Z", "event": "summarized", "detail": "email sent (operation op-1)"}
    assert {key: value for key, value in output.items() if key != "timeline"} == {
        "outcome": "completed", "connectedAt": "2026-03-01T12:00:03Z", "endedAt": "2026-03-01T12:00:13Z",
        "endReason": None, "partial": False, "summaryBlob": "calls/call-abc/summary.json",
        "summary": {"status": "ok"}, "email": {"status": "sent", "operationId": "op-1"}}
    assert driver.state.phase == "done" and driver.state.record.stage == "summarized"


def test_a_summary_without_status_reports_ok_and_one_without_blob_sends_the_record() -> None:
    driver = _to_summary(_connected())
    driver.done(PREPARE_SUMMARY, {"summaryBlob": "b"})
    driver.done(SEND_EMAIL, {"status": "sent"})
    assert driver.output["summary"] == {"status": "ok"} and driver.output["summaryBlob"] == "b"
    driver = _to_summary(_connected())
    driver.done(PREPARE_SUMMARY, {"status": "skipped", "error": "  \n"})
    [email] = driver.names(SEND_EMAIL)
    assert email.input["call"]["summary_error"] == "unknown error" and "summaryBlob" not in email.input
    driver.done(SEND_EMAIL, {"status": "sent"})
    assert driver.output["summary"] == {"status": "skipped", "error": "  \n"} and driver.output["summaryBlob"] is None


def test_a_summary_error_keeps_its_first_line_only_and_short() -> None:
    driver = _to_summary(_connected())
    for _ in range(RETRIES[PREPARE_SUMMARY].max_attempts):
        driver.done(PREPARE_SUMMARY, error="  " + "e" * 400 + "  \nTraceback (most recent call last):\n  File x")
        if driver.state.retries:
            driver.fire()
    [email] = driver.names(SEND_EMAIL)
    assert email.input["call"]["summary_error"] == "e" * 298  # the error was clipped to 300 before the strip
    driver = _to_summary(_connected())
    for _ in range(RETRIES[PREPARE_SUMMARY].max_attempts):
        driver.done(PREPARE_SUMMARY, error=" blob down \nTraceback")
        if driver.state.retries:
            driver.fire()
    assert driver.names(SEND_EMAIL)[0].input["call"]["summary_error"] == "blob down"


def test_the_flow_loaded_after_connect_greets_with_fresh_ids() -> None:
    driver = Driver().begin()
    driver.event("CallConnected", after=3, callConnectionId="cc-1")
    driver.done(LOAD_FLOW, {"greeting": {"text": "Hi", "url": None, "voice": "en-US-JennyNeural"}})
    [greeting] = driver.names(RUN_ACTION)
    assert (greeting.activity_id, greeting.input["actionId"]) == (
        "run_call_action-3", "4b356fcc-ad9c-5b6b-a55f-602b52182513")


def test_an_overdue_greeting_is_settled_by_the_timer_at_its_exact_due_time() -> None:
    driver = _connected(greeting={"text": "Hi", "url": None, "voice": "en-US-JennyNeural"},
                        menuPrompt={"text": "Press 0", "url": None, "voice": "en-US-JennyNeural"},
                        menuOptions={"0": "continue"})
    driver.done(RUN_ACTION, {"status": "accepted"})
    due = driver.now + timedelta(seconds=120)
    assert driver.wait.at == due
    driver.fire()
    assert driver.now == due
    assert [(e.at, e.event) for e in driver.state.record.timeline][-2:] == [
        ("2026-03-01T12:02:03Z", "action_timed_out"), ("2026-03-01T12:02:03Z", "action_requested")]
    [_, menu] = driver.names(RUN_ACTION)
    assert menu.input["action"] == "recognize_dtmf" and driver.state.control.flow.phase == "menu"


def test_a_retried_activity_starts_again_with_the_same_input_and_a_fresh_poll() -> None:
    driver = Driver()
    driver.state, commands = machine.start({**START, "traceparent": "00-t-s-01"}, T0)
    driver._take(commands)
    driver.now = T0 + timedelta(seconds=10)
    driver.feed(TimerFired(driver.wait.seq))
    driver.done(LOAD_FLOW, error="503")
    driver.fire()
    first, second = driver.names(LOAD_FLOW)
    assert second == first and second.input == {"instanceId": "call-abc", "traceparent": "00-t-s-01"}
    assert driver.now == T0 + timedelta(seconds=11)
    assert driver.wait.at == T0 + timedelta(seconds=13)  # polled from the restart, not the first start


def test_other_activities_running_or_retrying_do_not_hold_back_actions() -> None:
    driver = Driver().begin()
    driver.event("CallConnected", after=3, callConnectionId="cc-1")
    request = {"actionId": "api-1", "action": "play", "source": "api", "prompt": {"text": "One"}}
    driver.event("CallActionRequested", **request)  # the flow load still runs
    assert [a.input["actionId"] for a in driver.names(RUN_ACTION)] == ["api-1"]
    driver.done(RUN_ACTION, {"status": "accepted"})
    driver.done(LOAD_FLOW, error="503")  # its retry now waits
    driver.event("CallActionRequested", **{**request, "actionId": "api-2"})
    assert [a.input["actionId"] for a in driver.names(RUN_ACTION)] == ["api-1", "api-2"]


def test_a_hang_up_leaves_the_action_in_flight_alone() -> None:
    driver = _connected(greeting={"text": "Hi", "url": None, "voice": "en-US-JennyNeural"})
    driver.event("CallActionRequested", actionId="api-h", action="hang_up", source="api")
    assert "action_canceled" not in [e.event for e in driver.state.record.timeline]
    assert [a.input for a in driver.names(HANG_UP)] == [{"callConnectionId": "cc-1"}]


def test_a_recording_start_carries_the_call_locator() -> None:
    driver = _connected()
    driver.event("CallActionRequested", actionId="api-r", action="start_recording", source="api")
    [start] = driver.names(RUN_ACTION)
    assert (start.input["serverCallId"], start.input["instanceId"], start.input["action"]) == (
        "s", "call-abc", "start_recording")


def test_late_callbacks_after_the_call_phase_are_not_noted() -> None:
    driver = _to_summary(_connected())
    record = driver.state.record
    driver.event("ParticipantsUpdated", id="late-1", details={"participantCount": 1})
    assert driver.state.record == record


def test_messages_in_one_batch_share_the_id_counter() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {"greeting": {"text": "Hi", "url": None, "voice": "en-US-JennyNeural"}})
    request = {"actionId": "api-1", "action": "play", "source": "api", "prompt": {"text": "One"}}
    driver.feed(InboxEvent(inbox_payload("CallConnected", {"callConnectionId": "cc-1"})),
                InboxEvent(inbox_payload("CallActionRequested", request)), TimerFired(driver.wait.seq))
    assert [a.activity_id for a in driver.started] == ["load_call_flow-1", "run_call_action-3"]


def test_a_retry_started_by_one_message_is_kept_with_the_rest_of_the_batch() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, error="503")
    driver.now = driver.wait.at
    commands = driver.feed(TimerFired(driver.wait.seq),
                           InboxEvent(inbox_payload("CallConnected", {"callConnectionId": "cc-1"})))
    assert [c.name for c in commands if isinstance(c, StartActivity)] == [LOAD_FLOW]


def test_an_email_activity_without_output_finishes_as_skipped_and_the_last_status_is_final() -> None:
    driver = _to_summary(_connected())
    driver.done(PREPARE_SUMMARY, {"status": "ok", "summaryBlob": "b"})
    commands = driver.done(SEND_EMAIL, None)
    assert driver.output["email"] == {"status": "skipped", "reason": "no summary"}
    [status] = [c for c in commands if isinstance(c, SetStatus)]
    assert status.status["stage"] == "summarized" and status.status["outcome"] == "completed"


def test_a_greeting_refused_by_acs_goes_on_to_the_menu() -> None:
    driver = _connected(greeting={"text": "Hi", "url": None, "voice": "en-US-JennyNeural"},
                        menuPrompt={"text": "Press 0", "url": None, "voice": "en-US-JennyNeural"},
                        menuOptions={"0": "continue"})
    driver.done(RUN_ACTION, {"status": "failed", "code": 400})
    [_, menu] = driver.names(RUN_ACTION)
    assert menu.input["action"] == "recognize_dtmf" and menu.activity_id == "run_call_action-5"


def test_a_recording_pause_names_the_recording_started_before() -> None:
    driver = _connected()
    driver.event("CallActionRequested", actionId="api-r", action="start_recording", source="api")
    driver.done(RUN_ACTION, {"status": "ok", "recordingId": "rec-1"})
    driver.event("CallActionRequested", actionId="api-p", action="pause_recording", source="api")
    [_, pause] = driver.names(RUN_ACTION)
    assert (pause.input["action"], pause.input["recordingId"]) == ("pause_recording", "rec-1")


def test_a_summary_failure_without_error_text_is_an_unknown_error() -> None:
    driver = _to_summary(_connected())
    driver.done(PREPARE_SUMMARY, {"status": "failed"})
    assert driver.names(SEND_EMAIL)[0].input["call"]["summary_error"] == "unknown error"
