"""Episode decisions against the real SDK replay, without sockets or threads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as T

from tests.tools.sample_durable_app import app
from tools.dev_host import history as h
from tools.dev_host.episode import (
    ContinuedAsNew,
    Finished,
    RunActivity,
    SdkAnswer,
    StartTimer,
    begin_episode,
    context_input,
    finish_episode,
    new_instance,
    terminate_episode,
)
from tools.dev_host.functions import index_functions, run_orchestrator
from tools.dev_host.instance import Instance

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def step(instance: Instance, message: dict, now: datetime) -> list:
    """One episode: replay through the SDK, then apply its answer."""
    new_events, context_json = begin_episode(instance, message, now)
    param, handle = index_functions(app).orchestrators[instance.name]
    try:
        answer = SdkAnswer(json.loads(run_orchestrator(param, handle, context_json)))
    except Exception as exc:  # noqa: BLE001 - the SDK signals orchestrator failure by raising
        answer = SdkAnswer.from_exception(exc)
    return finish_episode(instance, new_events, answer, now)


def first(instance: Instance, now: datetime = T0) -> list:
    _, message = instance.inbox.popleft()
    return step(instance, message, now)


def test_retry_ids_follow_the_sdk_sequence() -> None:
    params = json.dumps(json.dumps({"key": "k", "attempts": 2, "interval_ms": 2000}))
    instance = new_instance("r1", "retrying", params, T0)
    assert first(instance) == [RunActivity(0, "flaky", json.dumps({"key": "k", "attempts": 2, "interval_ms": 2000}))]
    failed = h.task_failed(T0, 0, reason="boom", details=None)
    commands = step(instance, failed, T0 + timedelta(seconds=1))
    assert commands == [StartTimer(1, T0 + timedelta(seconds=3), timedelta(seconds=2))]
    fired = h.timer_fired(T0 + timedelta(seconds=3), 1, h.format_timestamp(T0 + timedelta(seconds=3)))
    commands = step(instance, fired, T0 + timedelta(seconds=3))
    assert [type(c) for c in commands] == [RunActivity] and commands[0].task_id == 2
    # The last failure still gets its timer (DTFx's RetryInterceptor); only when it fires does the task fail.
    commands = step(instance, h.task_failed(T0, 2, reason="boom again", details=None), T0 + timedelta(seconds=4))
    assert [type(c) for c in commands] == [StartTimer] and commands[0].timer_id == 3
    fired = h.timer_fired(T0 + timedelta(seconds=6), 3, h.format_timestamp(T0 + timedelta(seconds=6)))
    assert step(instance, fired, T0 + timedelta(seconds=6)) == [Finished("Failed")]
    assert "boom again" in instance.output_text


def test_event_before_wait_is_replayed_from_history() -> None:
    instance = new_instance("b1", "slow_then_wait", json.dumps(json.dumps({"sleep": 1})), T0)
    assert [type(c) for c in first(instance)] == [RunActivity]
    assert step(instance, h.event_raised(T0, "early", json.dumps("v")), T0) == []
    assert instance.runtime_status == "Running"
    assert step(instance, h.task_completed(T0, 0, "1"), T0) == [Finished("Completed")]
    assert json.loads(instance.output_text) == "v"


def test_timer_fired_moves_the_orchestration_clock_to_fire_at() -> None:
    instance = new_instance("t1", "timer_only", json.dumps(json.dumps(600)), T0)
    (timer,) = first(instance)
    assert timer.fire_at == T0 + timedelta(seconds=600)
    early = T0 + timedelta(seconds=6)  # an accelerated timer fires early in wall-clock time
    fired = h.timer_fired(early, timer.timer_id, h.format_timestamp(timer.fire_at))
    assert step(instance, fired, early) == [Finished("Completed")]
    started = [e for e in instance.history if e["EventType"] == T.ORCHESTRATOR_STARTED][-1]
    assert started["Timestamp"] == h.format_timestamp(timer.fire_at)


def test_continue_as_new_and_orchestrator_failure() -> None:
    instance = new_instance("c1", "counter", json.dumps(json.dumps(2)), T0)
    assert [type(c) for c in first(instance)] == [RunActivity]
    assert step(instance, h.task_completed(T0, 0, '"Hello 2"'), T0) == [ContinuedAsNew(json.dumps("3"))]
    failing = new_instance("f1", "failing", None, T0)
    first(failing)
    assert step(failing, h.task_completed(T0, 0, '"x"'), T0) == [Finished("Failed")]
    assert failing.output_text == "Orchestrator function 'failing' failed: orchestrator gave up"


def test_terminate_records_reason_as_output() -> None:
    instance = new_instance("x1", "wait_for_events", None, T0)
    first(instance)
    assert terminate_episode(instance, h.execution_terminated(T0, "stop"), T0) == [Finished("Terminated")]
    assert instance.runtime_status == "Terminated" and instance.output_text == "stop"
    assert [e["EventType"] for e in instance.history[-4:]] == [
        T.ORCHESTRATOR_STARTED, T.EXECUTION_TERMINATED, T.EXECUTION_COMPLETED, T.ORCHESTRATOR_COMPLETED]


def test_context_input_is_the_stored_input_decoded_once() -> None:
    assert context_input(None) is None
    assert context_input(json.dumps('{"a": 1}')) == '{"a": 1}'  # what the SDK client sends
    assert context_input('{"a": 1}') == '{"a": 1}'  # a raw JSON body posted to the webhook
    assert SdkAnswer.from_exception(Exception('bad\n\n$OutOfProcData$:{"isDone": false}')) == SdkAnswer(
        state={"isDone": False}, error="bad")
