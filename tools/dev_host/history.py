"""Durable history events as the Durable Task Framework writes them, and the status API's view of them (pure).

Events are plain dicts with DTFx's JSON names: `EventType` (the int enum the Python SDK reads, see
azure/durable_functions/models/history/HistoryEventType.py), `EventId` (the task's sequence number for
TaskScheduled / TimerCreated / SubOrchestrationInstanceCreated, -1 otherwise), `IsPlayed`, `Timestamp`, plus the
fields of each type. Payloads (`Input`, `Result`) are JSON text, as DTFx stores them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as T
from dateutil.parser import isoparse

# DTFx's OrchestrationStatus numbers, as written in ExecutionCompleted.OrchestrationStatus.
ORCHESTRATION_STATUS_NUMBERS = {
    "Running": 0, "Completed": 1, "ContinuedAsNew": 2, "Failed": 3, "Canceled": 4, "Terminated": 5,
    "Pending": 6, "Suspended": 7,
}
_STATUS_NAMES = {number: name for name, number in ORCHESTRATION_STATUS_NUMBERS.items()}
_TASK_ID_KINDS = {
    T.TASK_SCHEDULED: "TaskScheduled",
    T.SUB_ORCHESTRATION_INSTANCE_CREATED: "SubOrchestrationInstanceCreated",
}


@lru_cache(maxsize=65536)
def parse_timestamp(text: str) -> datetime:
    """`isoparse`, remembered: each episode's extension-style replay reads every timestamp of the history again,
    and under a burst that parsing was the largest cost on the dev host's loop (bench.e2e_load --profile).
    A datetime is immutable, so a shared result is safe."""
    moment: datetime = isoparse(text)
    return moment


def format_timestamp(moment: datetime) -> str:
    """DTFx's round-trip form, e.g. 2026-11-25T22:31:46.123456Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_status_time(moment: datetime) -> str:
    """The status API's form: whole seconds ("s" format) and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(event_type: T, moment: datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    return {"EventType": int(event_type), "EventId": event_id, "IsPlayed": False,
            "Timestamp": format_timestamp(moment), **fields}


def orchestrator_started(moment: datetime) -> dict[str, Any]:
    return _event(T.ORCHESTRATOR_STARTED, moment)


def orchestrator_completed(moment: datetime) -> dict[str, Any]:
    return _event(T.ORCHESTRATOR_COMPLETED, moment)


def execution_started(moment: datetime, *, name: str, input_json: str | None, version: str, instance_id: str,
                      execution_id: str, parent: dict[str, Any] | None = None) -> dict[str, Any]:
    return _event(T.EXECUTION_STARTED, moment, Name=name, Input=input_json, Version=version,
                  OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
                  ParentInstance=parent, Tags=None)


def execution_completed(moment: datetime, *, status: str, result: str | None) -> dict[str, Any]:
    return _event(T.EXECUTION_COMPLETED, moment, OrchestrationStatus=ORCHESTRATION_STATUS_NUMBERS[status],
                  Result=result, FailureDetails=None)


def execution_terminated(moment: datetime, reason: str | None) -> dict[str, Any]:
    return _event(T.EXECUTION_TERMINATED, moment, Input=reason)


def task_scheduled(moment: datetime, task_id: int, *, name: str, input_json: str | None) -> dict[str, Any]:
    return _event(T.TASK_SCHEDULED, moment, task_id, Name=name, Version="", Input=input_json)


def task_completed(moment: datetime, task_id: int, result_json: str | None) -> dict[str, Any]:
    return _event(T.TASK_COMPLETED, moment, TaskScheduledId=task_id, Result=result_json)


def task_failed(moment: datetime, task_id: int, *, reason: str, details: str | None) -> dict[str, Any]:
    return _event(T.TASK_FAILED, moment, TaskScheduledId=task_id, Reason=reason, Details=details)


def timer_created(moment: datetime, timer_id: int, fire_at: str) -> dict[str, Any]:
    return _event(T.TIMER_CREATED, moment, timer_id, FireAt=fire_at)


def timer_fired(moment: datetime, timer_id: int, fire_at: str) -> dict[str, Any]:
    return _event(T.TIMER_FIRED, moment, TimerId=timer_id, FireAt=fire_at)


def event_raised(moment: datetime, name: str, input_json: str | None) -> dict[str, Any]:
    return _event(T.EVENT_RAISED, moment, Name=name, Input=input_json)


def sub_orchestration_created(moment: datetime, task_id: int, *, name: str, instance_id: str,
                              input_json: str | None) -> dict[str, Any]:
    return _event(T.SUB_ORCHESTRATION_INSTANCE_CREATED, moment, task_id, Name=name, Version="",
                  InstanceId=instance_id, Input=input_json)


def sub_orchestration_completed(moment: datetime, task_id: int, result_json: str | None) -> dict[str, Any]:
    return _event(T.SUB_ORCHESTRATION_INSTANCE_COMPLETED, moment, TaskScheduledId=task_id, Result=result_json)


def sub_orchestration_failed(moment: datetime, task_id: int, *, reason: str, details: str | None) -> dict[str, Any]:
    return _event(T.SUB_ORCHESTRATION_INSTANCE_FAILED, moment, TaskScheduledId=task_id, Reason=reason,
                  Details=details)


def parse_payload(text: str | None) -> Any:
    """The extension's ParseToJToken: JSON when it parses, else the raw text (common for terminate reasons)."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        return json.loads(stripped)
    except ValueError:
        return text


def status_history(history: list[dict[str, Any]], *, show_output: bool, show_input: bool) -> list[dict[str, Any]]:
    """The `historyEvents` of a status query, transformed as the extension's DurableClient does.

    EventType becomes its name; OrchestratorStarted/Completed and the TaskScheduled /
    SubOrchestrationInstanceCreated events are folded away (their Name becomes FunctionName and their Timestamp
    ScheduledTime on the matching completion); Results appear only with showHistoryOutput; Inputs only with
    showInput; EventId and IsPlayed are removed.
    """
    items = [dict(event) for event in history]
    scheduled: dict[str, tuple[int, dict[str, Any]]] = {}
    dropped: set[int] = set()
    for index, item in enumerate(items):
        event_type = T(item["EventType"])
        item["EventType"] = _pascal_name(event_type)
        if event_type in _TASK_ID_KINDS:
            scheduled[f"{_TASK_ID_KINDS[event_type]}_{item['EventId']}"] = (index, dict(item))
            item.pop("Version", None)
        elif event_type in (T.TASK_COMPLETED, T.TASK_FAILED, T.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
                            T.SUB_ORCHESTRATION_INSTANCE_FAILED):
            prefix = "TaskScheduled" if event_type in (T.TASK_COMPLETED, T.TASK_FAILED) \
                else "SubOrchestrationInstanceCreated"
            found = scheduled.get(f"{prefix}_{item.get('TaskScheduledId')}")
            if found is not None:
                source_index, source = found
                item["ScheduledTime"] = source["Timestamp"]
                item["FunctionName"] = source.get("Name")
                if show_input:
                    item["Input"] = source.get("Input")
                dropped.add(source_index)
            item.pop("TaskScheduledId", None)
            if event_type in (T.TASK_COMPLETED, T.SUB_ORCHESTRATION_INSTANCE_COMPLETED):
                if show_output:
                    item["Result"] = parse_payload(item.get("Result"))
                else:
                    item.pop("Result", None)
        elif event_type == T.EXECUTION_STARTED:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif event_type == T.EXECUTION_COMPLETED:
            item["OrchestrationStatus"] = _STATUS_NAMES.get(item["OrchestrationStatus"], item["OrchestrationStatus"])
            if show_output:
                item["Result"] = parse_payload(item.get("Result"))
            else:
                item.pop("Result", None)
        elif event_type == T.TIMER_FIRED:
            item.pop("TimerId", None)
        elif event_type in (T.ORCHESTRATOR_STARTED, T.ORCHESTRATOR_COMPLETED):
            dropped.add(index)
        if not show_input:
            item.pop("Input", None)
        item.pop("EventId", None)
        item.pop("IsPlayed", None)
    return [item for index, item in enumerate(items) if index not in dropped]


def _pascal_name(event_type: T) -> str:
    return "".join(part.capitalize() for part in event_type.name.split("_"))
