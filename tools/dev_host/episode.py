"""One orchestration episode, decided without I/O: the context the SDK replays, and what its answer causes.

An episode processes one new message (ExecutionStarted, TaskCompleted, TimerFired, EventRaised, ...): the shell
calls `begin_episode`, runs the orchestrator function with the returned context JSON (the real SDK replays the
whole history), then calls `finish_episode` with the SDK's answer. `finish_episode` appends the events DTFx would
write, updates the instance, and returns the side effects (activities to run, timers to start, ...) for the
shell to perform.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from azure.durable_functions.models.actions.ActionType import ActionType as A
from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as T

from . import extension_replay
from . import history as h
from .instance import Instance, ParentLink, RetryState

# What the extension sends with every orchestrator invocation (OrchestrationTriggerAttributeBindingProvider):
# schema V2 with V3 allowed, and the Azure Storage provider's long-timer settings (6-day maximum, 3-day steps).
CONTEXT_SETTINGS: dict[str, Any] = {
    "upperSchemaVersion": 1,
    "upperSchemaVersionNew": 2,
    "maximumShortTimerDuration": "6.00:00:00",
    "longRunningTimerIntervalDuration": "3.00:00:00",
    "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
}
log = logging.getLogger("dev_host")
OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"
UNSUPPORTED_ACTIONS = {A.CALL_ENTITY: "call_entity", A.SIGNAL_ENTITY: "signal_entity", A.CALL_HTTP: "call_http"}


@dataclass(frozen=True)
class RunActivity:
    task_id: int
    name: str
    input_json: str | None


@dataclass(frozen=True)
class StartTimer:
    timer_id: int
    fire_at: datetime
    # orchestration-time delay from the episode's clock; the shell scales it by time_scale
    delay: timedelta


@dataclass(frozen=True)
class StartSubOrchestration:
    task_id: int
    name: str
    instance_id: str
    input_json: str | None


@dataclass(frozen=True)
class Finished:
    """The execution ended (Completed, Failed, Terminated): wake waiters, notify a parent."""

    status: str


@dataclass(frozen=True)
class ContinuedAsNew:
    """A new execution starts with this input; the shell queues its ExecutionStarted."""

    input_json: str | None


Command = RunActivity | StartTimer | StartSubOrchestration | Finished | ContinuedAsNew


@dataclass(frozen=True)
class SdkAnswer:
    """The orchestrator function's answer: its state JSON, or the message of the exception it raised."""

    state: dict[str, Any] | None
    error: str | None = None
    # The extension's replay of this answer over the episode's history, when the engine computed it beside the SDK's
    # replay in a worker thread (pure, and the largest cost per episode): then the loop does not do it again.
    replayed: extension_replay.ReplayOutcome | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> SdkAnswer:
        text = str(exc)
        message, marker, data = text.partition(OUT_OF_PROC_MARKER)
        state = None
        if marker:
            try:
                state = json.loads(data)
            except ValueError:
                state = None
        return cls(state=state, error=message or type(exc).__name__)


def context_input(input_json: str | None) -> str | None:
    """The `input` the extension passes: the stored input decoded once (GetInputAsJson), as JSON text."""
    if input_json is None:
        return None
    try:
        value = json.loads(input_json)
    except ValueError:
        return input_json
    return value if isinstance(value, str) else input_json


def begin_episode(instance: Instance, message: dict[str, Any], now: datetime) -> tuple[list[dict[str, Any]], str]:
    """The new events of this episode (OrchestratorStarted + the message) and the context JSON for the SDK."""
    new_events, context = begin_episode_context(instance, message, now)
    return new_events, json.dumps(context)


def begin_episode_context(instance: Instance, message: dict[str, Any],
                          now: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`begin_episode` with the context not yet JSON: the engine encodes it in the worker thread (the whole
    history each episode, a large cost on the loop under a burst). Nothing in it changes afterwards."""
    moment = max(now, instance.clock or now)
    if message["EventType"] == T.TIMER_FIRED:
        moment = max(moment, h.parse_timestamp(message["FireAt"]))
    instance.clock = moment
    if message["EventType"] == T.EXECUTION_STARTED:
        instance.runtime_status = "Running"
    new_events = [h.orchestrator_started(moment), message]
    context = {
        "history": [{**event, "IsPlayed": True} for event in instance.history] + new_events,
        "instanceId": instance.instance_id,
        "isReplaying": bool(instance.history),
        "parentInstanceId": instance.parent.instance_id if instance.parent else None,
        "input": context_input(instance.input_json),
        **CONTEXT_SETTINGS,
    }
    return new_events, context


def finish_episode(instance: Instance, new_events: list[dict[str, Any]], answer: SdkAnswer,
                   now: datetime, *, extension_replay_on: bool = False) -> list[Command]:
    """Apply the SDK's answer: record history, schedule new work, complete or fail the execution.

    With `extension_replay_on`, the extension's C# replay of the action list (extension_replay) decides the ids
    and the new work, and fails the instance when history disagrees, as production does.
    """
    moment = max(now, instance.clock or now)
    events = list(new_events)
    commands: list[Command] = []
    state = answer.state or {}
    if state.get("customStatus") is not None:  # the shim sets it only when given: None keeps the last one
        instance.custom_status_json = json.dumps(state["customStatus"])
    actions = list(_flatten(state.get("actions") or []))
    new_actions = actions[instance.actions_seen:]
    instance.actions_seen = len(actions)
    error = answer.error
    if error is None:
        for action in new_actions:
            kind = action.get("actionType")
            if kind in UNSUPPORTED_ACTIONS:
                error = f"the dev host does not support {UNSUPPORTED_ACTIONS[A(kind)]}"
                break
    if extension_replay_on and error is None:
        commands.extend(_finish_as_extension(instance, events, moment, state, answer.replayed))
        events.append(h.orchestrator_completed(moment))
        instance.history.extend(events)
        instance.updated = moment
        return commands
    if error is not None:
        failure = f"Orchestrator function '{instance.name}' failed: {error}"
        commands.extend(_complete(instance, events, moment, "Failed", failure))
    elif state.get("isDone"):
        continuation = next((a for a in new_actions if a.get("actionType") == A.CONTINUE_AS_NEW), None)
        if continuation is not None:
            new_input = json.dumps(continuation.get("input")) if continuation.get("input") is not None else None
            events.append(h.execution_completed(moment, status="ContinuedAsNew", result=new_input))
            commands.append(ContinuedAsNew(new_input))
        else:
            output = state.get("output")
            commands.extend(_complete(instance, events, moment, "Completed",
                                      None if output is None else json.dumps(output)))
    else:
        for action in new_actions:
            commands.extend(_schedule(instance, events, moment, action))
        commands.extend(_advance_retry(instance, events, moment, new_events[-1]))
    events.append(h.orchestrator_completed(moment))
    instance.history.extend(events)
    instance.updated = moment
    return commands


def _finish_as_extension(instance: Instance, events: list[dict[str, Any]], moment: datetime,
                         state: dict[str, Any], replayed: extension_replay.ReplayOutcome | None) -> list[Command]:
    outcome = replayed if replayed is not None else extension_replay.replay(instance.history + events, state)
    for drift in outcome.fire_at_drift:
        if drift not in instance.replay_flags:
            log.warning("instance %s: %s (DTFx does not check FireAt: the ids swapped)", instance.instance_id, drift)
            instance.replay_flags.append(drift)
    if outcome.non_deterministic is not None:
        # TaskOrchestrationExecutor.ExecuteCore L206-209: FailOrchestration with the exception's message.
        instance.replay_flags.append(outcome.non_deterministic)
        return _complete(instance, events, moment, "Failed", outcome.non_deterministic)
    if state.get("isDone") and outcome.finished and outcome.open_tasks == 0:
        continuation = next((a for a in extension_replay.top_level_actions(state)
                             if a.get("actionType") == A.CONTINUE_AS_NEW), None)
        if continuation is not None:
            new_input = json.dumps(continuation.get("input")) if continuation.get("input") is not None else None
            events.append(h.execution_completed(moment, status="ContinuedAsNew", result=new_input))
            return [ContinuedAsNew(new_input)]
        output = state.get("output")
        return _complete(instance, events, moment, "Completed", None if output is None else json.dumps(output))
    if state.get("isDone"):
        # ExecuteCore L179: the orchestration completes only once C# has awaited every action and no task is open.
        log.warning("instance %s: the SDK is done but the extension's replay is not (%s of %s actions awaited, "
                    "%d tasks open): it stays Running", instance.instance_id, "all" if outcome.finished else "not all",
                    len(extension_replay.top_level_actions(state)), outcome.open_tasks)
    commands: list[Command] = []
    for new in outcome.new_actions:
        commands.extend(_schedule_new(instance, events, moment, new))
    instance.next_task_id = max([instance.next_task_id, *(a.task_id + 1 for a in outcome.new_actions)])
    return commands


def _schedule_new(instance: Instance, events: list[dict[str, Any]], moment: datetime,
                  new: extension_replay.NewAction) -> list[Command]:
    """What DTFx does with each action its replay left unmatched by history: write it, then start it."""
    if new.kind == "activity":
        events.append(h.task_scheduled(moment, new.task_id, name=str(new.name), input_json=new.input_json))
        return [RunActivity(new.task_id, str(new.name), new.input_json)]
    if new.kind == "timer":
        fire_at = new.fire_at or moment
        events.append(h.timer_created(moment, new.task_id, h.format_timestamp(fire_at)))
        return [StartTimer(new.task_id, fire_at, max(fire_at - moment, timedelta(0)))]
    child_id = new.instance_id or f"{instance.instance_id}:{new.task_id}"
    events.append(h.sub_orchestration_created(moment, new.task_id, name=str(new.name), instance_id=child_id,
                                              input_json=new.input_json))
    return [StartSubOrchestration(new.task_id, str(new.name), child_id, new.input_json)]


def terminate_episode(instance: Instance, message: dict[str, Any], now: datetime) -> list[Command]:
    """DTFx does not run the orchestrator for a termination: it records it and completes the execution."""
    moment = max(now, instance.clock or now)
    instance.clock = moment
    events = [h.orchestrator_started(moment), message]
    reason = message.get("Input")
    commands = _complete(instance, events, moment, "Terminated", reason)
    events.append(h.orchestrator_completed(moment))
    instance.history.extend(events)
    instance.updated = moment
    return commands


def _complete(instance: Instance, events: list[dict[str, Any]], moment: datetime, status: str,
              output: str | None) -> list[Command]:
    events.append(h.execution_completed(moment, status=status, result=output))
    instance.runtime_status = status
    instance.output_text = output
    instance.retries.clear()
    return [Finished(status)]


def _flatten(actions: list[Any]) -> Any:
    for action in actions:
        if isinstance(action, list):
            yield from _flatten(action)
        elif action.get("actionType") in (A.WHEN_ALL, A.WHEN_ANY):
            yield from _flatten(action.get("compoundActions") or [])
        else:
            yield action


def _next_id(instance: Instance) -> int:
    task_id = instance.next_task_id
    instance.next_task_id += 1
    return task_id


def _schedule(instance: Instance, events: list[dict[str, Any]], moment: datetime,
              action: dict[str, Any]) -> list[Command]:
    kind = action.get("actionType")
    if kind in (A.CALL_ACTIVITY, A.CALL_ACTIVITY_WITH_RETRY):
        task_id = _next_id(instance)
        name, input_json = action["functionName"], action.get("input")
        events.append(h.task_scheduled(moment, task_id, name=name, input_json=input_json))
        if kind == A.CALL_ACTIVITY_WITH_RETRY:
            instance.retries[task_id] = _retry_state("activity", name, input_json, action)
        return [RunActivity(task_id, name, input_json)]
    if kind in (A.CALL_SUB_ORCHESTRATOR, A.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
        task_id = _next_id(instance)
        name = action["functionName"]
        input_json = None if action.get("input") is None else json.dumps(action["input"])
        child_id = action.get("instanceId") or f"{instance.instance_id}:{task_id}"
        events.append(h.sub_orchestration_created(moment, task_id, name=name, instance_id=child_id,
                                                  input_json=input_json))
        if kind == A.CALL_SUB_ORCHESTRATOR_WITH_RETRY:
            retry = _retry_state("suborchestration", name, input_json, action)
            retry.sub_instance_id = action.get("instanceId")
            instance.retries[task_id] = retry
        return [StartSubOrchestration(task_id, name, child_id, input_json)]
    if kind == A.CREATE_TIMER:
        timer_id = _next_id(instance)
        fire_at = h.parse_timestamp(action["fireAt"])
        events.append(h.timer_created(moment, timer_id, h.format_timestamp(fire_at)))
        return [StartTimer(timer_id, fire_at, max(fire_at - moment, timedelta(0)))]
    if kind == A.CONTINUE_AS_NEW:
        _next_id(instance)  # the SDK gives fire-and-forget actions a sequence number too
    return []


def _retry_state(kind: str, name: str, input_json: str | None, action: dict[str, Any]) -> RetryState:
    options = action.get("retryOptions") or {}
    return RetryState(kind=kind, name=name, input_json=input_json,
                      first_retry_interval_ms=int(options.get("firstRetryIntervalInMilliseconds", 1000)),
                      max_attempts=int(options.get("maxNumberOfAttempts", 1)))


def _advance_retry(instance: Instance, events: list[dict[str, Any]], moment: datetime,
                   message: dict[str, Any]) -> list[Command]:
    """DTFx's RetryInterceptor: after each failure a timer (even after the last), then the next attempt."""
    kind = message["EventType"]
    if kind in (T.TASK_FAILED, T.SUB_ORCHESTRATION_INSTANCE_FAILED):
        retry = instance.retries.pop(message["TaskScheduledId"], None)
        if retry is None:
            return []
        timer_id = _next_id(instance)
        # The Python SDK's RetryOptions has no backoff coefficient: DTFx's default of 1 keeps the interval fixed.
        delay = timedelta(milliseconds=retry.first_retry_interval_ms)
        if retry.attempt >= retry.max_attempts:
            delay = timedelta(0)  # DTFx RetryInterceptor.Invoke L74-81: the timer after the last attempt is due now
        fire_at = moment + delay
        events.append(h.timer_created(moment, timer_id, h.format_timestamp(fire_at)))
        instance.retries[timer_id] = retry
        return [StartTimer(timer_id, fire_at, delay)]
    if kind in (T.TASK_COMPLETED, T.SUB_ORCHESTRATION_INSTANCE_COMPLETED):
        instance.retries.pop(message["TaskScheduledId"], None)
        return []
    if kind == T.TIMER_FIRED:
        retry = instance.retries.pop(message["TimerId"], None)
        if retry is None or retry.attempt >= retry.max_attempts:
            return []
        retry.attempt += 1
        task_id = _next_id(instance)
        instance.retries[task_id] = retry
        if retry.kind == "activity":
            events.append(h.task_scheduled(moment, task_id, name=retry.name, input_json=retry.input_json))
            return [RunActivity(task_id, retry.name, retry.input_json)]
        child_id = retry.sub_instance_id or f"{instance.instance_id}:{task_id}"
        events.append(h.sub_orchestration_created(moment, task_id, name=retry.name, instance_id=child_id,
                                                  input_json=retry.input_json))
        return [StartSubOrchestration(task_id, retry.name, child_id, retry.input_json)]
    return []


def new_instance(instance_id: str, name: str, input_json: str | None, now: datetime, *, version: str = "",
                 parent: ParentLink | None = None) -> Instance:
    """A Pending instance with its ExecutionStarted message queued."""
    execution_id = uuid.uuid4().hex
    instance = Instance(instance_id=instance_id, name=name, execution_id=execution_id, input_json=input_json,
                        version=version, created=now, updated=now, parent=parent)
    queue_execution_started(instance, now)
    return instance


def queue_execution_started(instance: Instance, now: datetime) -> None:
    parent = None
    if instance.parent is not None:
        parent = {"OrchestrationInstance": {"InstanceId": instance.parent.instance_id,
                                            "ExecutionId": instance.parent.execution_id},
                  "TaskScheduleId": instance.parent.task_id}
    started = h.execution_started(
        now, name=instance.name, input_json=instance.input_json, version=instance.version,
        instance_id=instance.instance_id, execution_id=instance.execution_id, parent=parent)
    instance.inbox.appendleft((instance.execution_id, started))


def continue_as_new(instance: Instance, input_json: str | None, now: datetime) -> None:
    """Start the next execution in place: fresh history and task ids; unprocessed messages stay queued."""
    instance.execution_id = uuid.uuid4().hex
    instance.input_json = input_json
    instance.history = []
    instance.actions_seen = 0
    instance.next_task_id = 0
    instance.retries.clear()
    instance.runtime_status = "Running"
    queue_execution_started(instance, now)
