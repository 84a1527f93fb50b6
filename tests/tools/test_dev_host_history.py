"""History events and the status API's view of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tools.dev_host import history as h
from tools.dev_host.host_config import HostConfig, parse_host_json

T0 = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


def sample_history() -> list[dict]:
    t = [T0 + timedelta(seconds=i) for i in range(8)]
    return [
        h.orchestrator_started(t[0]),
        h.execution_started(t[0], name="orch", input_json='"{\\"a\\": 1}"', version="", instance_id="i",
                            execution_id="e"),
        h.task_scheduled(t[0], 0, name="act", input_json='"x"'),
        h.orchestrator_completed(t[0]),
        h.orchestrator_started(t[1]),
        h.task_completed(t[1], 0, '{"r": 2}'),
        h.timer_created(t[1], 1, h.format_timestamp(t[5])),
        h.orchestrator_completed(t[1]),
        h.orchestrator_started(t[5]),
        h.timer_fired(t[5], 1, h.format_timestamp(t[5])),
        h.execution_completed(t[5], status="Completed", result='"done"'),
        h.orchestrator_completed(t[5]),
    ]


def test_events_carry_dtfx_fields() -> None:
    events = sample_history()
    assert [e["EventType"] for e in events] == [12, 0, 4, 13, 12, 5, 10, 13, 12, 11, 1, 13]
    assert events[2]["EventId"] == 0 and events[6]["EventId"] == 1 and events[5]["EventId"] == -1
    assert events[1]["Timestamp"] == "2026-01-02T03:04:05.600000Z"
    assert events[9]["TimerId"] == 1 and events[10]["OrchestrationStatus"] == 1


def test_status_history_folds_scheduling_and_hides_outputs_unless_asked() -> None:
    view = h.status_history(sample_history(), show_output=False, show_input=False)
    assert [e["EventType"] for e in view] == [
        "ExecutionStarted", "TaskCompleted", "TimerCreated", "TimerFired", "ExecutionCompleted"]
    assert view[0]["FunctionName"] == "orch" and "Input" not in view[0]
    assert view[1]["FunctionName"] == "act" and view[1]["ScheduledTime"] == "2026-01-02T03:04:05.600000Z"
    assert "Result" not in view[1] and "TaskScheduledId" not in view[1]
    assert all("EventId" not in e and "IsPlayed" not in e for e in view)
    assert "TimerId" not in view[3]
    assert view[4]["OrchestrationStatus"] == "Completed" and "Result" not in view[4]


def test_status_history_with_outputs_and_inputs() -> None:
    view = h.status_history(sample_history(), show_output=True, show_input=True)
    assert view[1]["Result"] == {"r": 2} and view[1]["Input"] == '"x"'
    assert view[4]["Result"] == "done"
    assert view[0]["Input"] == '"{\\"a\\": 1}"'


def test_payloads_parse_like_the_extension() -> None:
    assert h.parse_payload(None) is None
    assert h.parse_payload("  ") == ""
    assert h.parse_payload('{"a": 1}') == {"a": 1}
    assert h.parse_payload("caller hung up") == "caller hung up"  # raw text falls back to itself


def test_host_json_settings() -> None:
    text = ('{"version": "2.0", "extensions": {"http": {"routePrefix": "/v1/"}, '
            '"durableTask": {"hubName": "Calls", "overridableExistingInstanceStates": "AnyState"}}}')
    assert parse_host_json(text) == HostConfig(route_prefix="v1", hub_name="Calls",
                                               overridable_existing_instance_states="AnyState")
    assert parse_host_json('{"version": "2.0"}') == HostConfig()
    for bad in ('[]', '{"extensions": {"durableTask": {"overridableExistingInstanceStates": "Sometimes"}}}'):
        try:
            parse_host_json(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
