"""One orchestration instance's state, its status payload and the list/purge filters (pure)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .history import format_status_time, parse_payload, status_history

RUNNING_STATUSES = frozenset({"Pending", "Running", "ContinuedAsNew", "Suspended"})
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


@dataclass
class RetryState:
    """A CallActivityWithRetry / CallSubOrchestratorWithRetry in progress: the host, not the SDK, retries.

    The extension hands these actions to DTFx's RetryInterceptor, which reschedules the task after a durable
    timer; the Python SDK's RetryAbleTask only replays that history (it expects a timer after every failure,
    including the last).
    """

    kind: str  # "activity" | "suborchestration"
    name: str
    input_json: str | None
    first_retry_interval_ms: int
    max_attempts: int
    attempt: int = 1
    sub_instance_id: str | None = None


@dataclass
class ParentLink:
    instance_id: str
    execution_id: str
    task_id: int


@dataclass
class Instance:
    instance_id: str
    name: str
    execution_id: str
    input_json: str | None
    version: str
    created: datetime
    updated: datetime
    runtime_status: str = "Pending"
    output_text: str | None = None
    custom_status_json: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    # (execution id the message belongs to, or None for any execution; the message event)
    inbox: deque[tuple[str | None, dict[str, Any]]] = field(default_factory=deque)
    actions_seen: int = 0
    next_task_id: int = 0
    # The orchestration's own clock: never behind the last OrchestratorStarted; jumps to FireAt when an
    # accelerated timer fires, so `current_utc_datetime` stays consistent with the timers it created.
    clock: datetime | None = None
    # task / timer id -> retry in progress (keyed by the attempt's task id, then by its retry timer's id)
    retries: dict[int, RetryState] = field(default_factory=dict)
    parent: ParentLink | None = None
    # what the extension-style replay found: FireAt drift (ids swapped silently), NonDeterministic failures
    replay_flags: list[str] = field(default_factory=list)

    @property
    def is_running(self) -> bool:
        return self.runtime_status in RUNNING_STATUSES


def status_payload(instance: Instance, *, show_history: bool, show_history_output: bool,
                   show_input: bool) -> dict[str, Any]:
    """The status JSON of the HTTP/RPC API (the extension's StatusResponsePayload)."""
    payload: dict[str, Any] = {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.runtime_status,
        "input": parse_payload(instance.input_json) if show_input else None,
        "customStatus": parse_payload(instance.custom_status_json),
        "output": parse_payload(instance.output_text),
        "createdTime": format_status_time(instance.created),
        "lastUpdatedTime": format_status_time(instance.updated),
    }
    if show_history and instance.runtime_status != "Pending":
        payload["historyEvents"] = status_history(instance.history, show_output=show_history_output,
                                                  show_input=show_input)
    return payload


@dataclass(frozen=True)
class InstanceQuery:
    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: frozenset[str] = frozenset()
    instance_id_prefix: str | None = None

    def matches(self, instance: Instance) -> bool:
        if self.created_from is not None and instance.created < self.created_from:
            return False
        if self.created_to is not None and instance.created > self.created_to:
            return False
        if self.statuses and instance.runtime_status not in self.statuses:
            return False
        if self.instance_id_prefix and not instance.instance_id.startswith(self.instance_id_prefix):
            return False
        return True
