"""The extension's second replay of an out-of-proc orchestration, in C#, over DTFx (pure, no I/O).

For Python the Functions host does not trust the SDK's task ids: after the SDK returns its action list, the
extension replays that list in C# and Durable Task Framework (DTFx) decides, from what C# does, which ids the
tasks get, whether history still matches, and what new work to schedule. Sources followed (Azure/azure-
functions-durable-extension at a7c6d69, Azure/durabletask at 5217032):

- OutOfProcOrchestrationShim.cs `ProcessAsyncActionsV2` (L199-219): each top-level action is invoked, then
  awaited, in turn; a failed task's exception is swallowed. `InvokeAPIFromAction` (L109-191): WhenAny /
  WhenAll invoke every compound child at once; a CreateTimer with `isCanceled` is cancelled right after it is
  created (L118-133), so its task (and a WhenAny holding it) completes at once, while its TimerCreated is
  still scheduled.
- DTFx TaskOrchestrationContext.cs: ids come from one counter in the order C# calls the APIs
  (`ScheduleTaskInternal` L129, `CreateTimer` L298); a cancelled timer leaves `openTasks` (L310-319);
  `HandleTaskScheduledEvent` (L327-359) and `HandleTimerCreatedEvent` (L361-389) throw
  NonDeterministicOrchestrationException when history's id is not the same kind (and, for activities, the same
  name, case-insensitive) in C#'s replay; FireAt is never compared; completions of ids no longer open are
  logged as duplicates and ignored (`HandleTimerFiredEvent` L575-589).
- DTFx TaskOrchestrationExecutor.cs `ExecuteCore` (L138-222): OrchestratorStarted sets the clock; events are
  processed in history order, each continuation running inline; a NonDeterministicOrchestrationException fails
  the instance (L206-209); the instance completes only when the C# task has finished and no task is open
  (L179).
- DTFx RetryInterceptor.cs `Invoke` (L52-101): the retry timer is created when the failure replays (L90-91),
  the next attempt when that timer fires; after the last attempt a timer at the current time (L80).
- The extension's DurableOrchestrationContext.cs `WaitForExternalEvent` (L849-898) and `RaiseEvent`
  (L905-970): waiters of one name form a stack, an event completes the NEWEST waiter; an event with no waiter
  is buffered and handed to the next waiter created, one event per waiter.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from azure.durable_functions.models.actions.ActionType import ActionType as A
from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as T

from .history import parse_timestamp

NON_DETERMINISTIC = "Non-Deterministic workflow detected: "
_FIRE_AT_TOLERANCE = timedelta(milliseconds=1)


@dataclass(frozen=True)
class NewAction:
    """Work C#'s replay scheduled that history does not hold yet: DTFx writes and starts it under this id."""

    task_id: int
    kind: str  # "activity" | "timer" | "suborchestration"
    name: str | None = None
    input_json: str | None = None
    fire_at: datetime | None = None
    instance_id: str | None = None


@dataclass
class ReplayOutcome:
    new_actions: list[NewAction] = field(default_factory=list)
    # NonDeterministicOrchestrationException's message, as DTFx fails the instance with it
    non_deterministic: str | None = None
    # timers whose FireAt in history differs from the replay's (DTFx never checks: a silent swap)
    fire_at_drift: list[str] = field(default_factory=list)
    # the C# replay awaited every action of the list (only then can the instance complete)
    finished: bool = False
    open_tasks: int = 0


class NonDeterministicError(Exception):
    pass


class _Task:
    """A C# Task: completes once, then runs its continuations inline (DTFx's synchronous scheduler)."""

    def __init__(self) -> None:
        self.done = False
        self.failed = False
        self._continuations: list[Callable[[_Task], None]] = []

    def then(self, continuation: Callable[[_Task], None]) -> None:
        if self.done:
            continuation(self)
        else:
            self._continuations.append(continuation)

    def finish(self, *, failed: bool = False) -> None:
        if self.done:
            return
        self.done, self.failed = True, failed
        continuations, self._continuations = self._continuations, []
        for continuation in continuations:
            continuation(self)


def _finished() -> _Task:
    task = _Task()
    task.finish()
    return task


class _CSharpReplay:
    """DTFx's TaskOrchestrationContext plus the extension's event stack, driven by the shim's action loop."""

    def __init__(self, actions: list[dict[str, Any]]) -> None:
        self.actions = actions
        self.position = 0
        self.finished = False
        self.now: datetime | None = None
        self.next_id = 0
        self.pending: dict[int, NewAction] = {}  # DTFx's orchestratorActionsMap
        self.open: dict[int, _Task] = {}  # DTFx's openTasks
        self.waiters: dict[str, list[_Task]] = {}
        self.buffered: dict[str, deque[str | None]] = {}
        self.drift: list[str] = []

    # ---- ProcessAsyncActionsV2 ----
    def resume(self, _: _Task | None = None) -> None:
        while self.position < len(self.actions):
            task = self.invoke(self.actions[self.position])
            self.position += 1
            if not task.done:
                task.then(self.resume)
                return
        self.finished = True

    def invoke(self, action: dict[str, Any]) -> _Task:
        kind = action.get("actionType")
        if kind in (A.WHEN_ANY, A.WHEN_ALL):
            children = [self.invoke(child) for child in action.get("compoundActions") or []]
            return _when(children, any_=kind == A.WHEN_ANY)
        if kind == A.CALL_ACTIVITY:
            return self.schedule(NewAction(self._take_id(), "activity", action["functionName"],
                                           _activity_input(action)))
        if kind == A.CALL_SUB_ORCHESTRATOR:
            return self.schedule(self._sub_orchestration(action, self._take_id()))
        if kind in (A.CALL_ACTIVITY_WITH_RETRY, A.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
            return self.with_retry(action)
        if kind == A.CREATE_TIMER:
            return self.create_timer(parse_timestamp(action["fireAt"]), cancelled=bool(action.get("isCanceled")))
        if kind == A.WAIT_FOR_EXTERNAL_EVENT:
            return self.wait_for_event(action["externalEventName"])
        return _finished()  # ContinueAsNew and signals are fire-and-forget (InvokeAPIFromAction L152-173)

    def _take_id(self) -> int:
        task_id, self.next_id = self.next_id, self.next_id + 1
        return task_id

    @staticmethod
    def _sub_orchestration(action: dict[str, Any], task_id: int) -> NewAction:
        payload = action.get("input")
        return NewAction(task_id, "suborchestration", action["functionName"],
                         None if payload is None else json.dumps(payload), instance_id=action.get("instanceId"))

    def schedule(self, new: NewAction) -> _Task:
        self.pending[new.task_id] = new
        task = _Task()
        self.open[new.task_id] = task
        return task

    def create_timer(self, fire_at: datetime, *, cancelled: bool = False) -> _Task:
        new = NewAction(self._take_id(), "timer", fire_at=fire_at)
        task = self.schedule(new)
        if cancelled:  # the shim cancels it at once: DTFx drops it from openTasks, its TimerCreated stays
            del self.open[new.task_id]
            task.finish(failed=True)
        return task

    def with_retry(self, action: dict[str, Any]) -> _Task:
        options = action.get("retryOptions") or {}
        attempts = max(int(options.get("maxNumberOfAttempts", 1)), 1)
        interval = timedelta(milliseconds=int(options.get("firstRetryIntervalInMilliseconds", 1000)))
        coefficient = float(options.get("backoffCoefficient", 1.0))
        outer = _Task()
        count = [0]

        def attempt(_: _Task | None = None) -> None:
            if action["actionType"] == A.CALL_ACTIVITY_WITH_RETRY:
                new = NewAction(self._take_id(), "activity", action["functionName"], _activity_input(action))
            else:
                new = self._sub_orchestration(action, self._take_id())
            self.schedule(new).then(settled)

        def settled(task: _Task) -> None:
            if not task.failed:
                outer.finish()
                return
            count[0] += 1
            now = self.now or datetime.min
            if count[0] >= attempts:  # RetryInterceptor.Invoke L74-81: one more timer, due now
                self.create_timer(now).then(lambda _: outer.finish(failed=True))
                return
            delay = interval * (coefficient ** (count[0] - 1))
            self.create_timer(now + delay).then(attempt)

        attempt()
        return outer

    def wait_for_event(self, name: str) -> _Task:
        task = _Task()
        self.waiters.setdefault(name, []).append(task)
        queue = self.buffered.get(name)
        if queue:
            payload = queue.popleft()
            if not queue:
                del self.buffered[name]
            self.raise_event(name, payload)
        return task

    def raise_event(self, name: str, payload: str | None) -> None:
        stack = self.waiters.get(name)
        if stack:
            waiter = stack.pop()
            if not stack:
                del self.waiters[name]
            waiter.finish()
        else:
            self.buffered.setdefault(name, deque()).append(payload)

    # ---- TaskOrchestrationExecutor.ProcessEvent ----
    def process(self, event: dict[str, Any]) -> None:
        kind = event["EventType"]
        if kind == T.ORCHESTRATOR_STARTED:
            self.now = parse_timestamp(event["Timestamp"])
        elif kind == T.EXECUTION_STARTED:
            self.resume()
        elif kind in (T.TASK_SCHEDULED, T.TIMER_CREATED, T.SUB_ORCHESTRATION_INSTANCE_CREATED):
            self.match_scheduled(event)
        elif kind in (T.TASK_COMPLETED, T.TASK_FAILED, T.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
                      T.SUB_ORCHESTRATION_INSTANCE_FAILED):
            task = self.open.pop(event["TaskScheduledId"], None)
            if task is not None:
                task.finish(failed=kind in (T.TASK_FAILED, T.SUB_ORCHESTRATION_INSTANCE_FAILED))
        elif kind == T.TIMER_FIRED:
            task = self.open.pop(event["TimerId"], None)
            if task is not None:
                task.finish()
        elif kind == T.EVENT_RAISED:
            self.raise_event(event["Name"], event.get("Input"))

    def match_scheduled(self, event: dict[str, Any]) -> None:
        """HandleTaskScheduledEvent / HandleTimerCreatedEvent / HandleSubOrchestrationCreatedEvent."""
        task_id, kind = event["EventId"], T(event["EventType"])
        wanted = {T.TASK_SCHEDULED: "activity", T.TIMER_CREATED: "timer",
                  T.SUB_ORCHESTRATION_INSTANCE_CREATED: "suborchestration"}[kind]
        label = {"activity": "an activity task", "timer": "a timer task",
                 "suborchestration": "a sub-orchestration task"}[wanted]
        named = f" named '{event['Name']}'" if event.get("Name") else ""
        replayed = self.pending.get(task_id)
        if replayed is None:
            raise NonDeterministicError(
                f"A previous execution of this orchestration scheduled {label} with sequence number {task_id}"
                f"{named}, but the current replay execution hasn't (yet?) scheduled this task. Was a change made "
                "to the orchestrator code after this instance had already started running?")
        if replayed.kind != wanted or (wanted != "timer" and
                                       str(replayed.name).lower() != str(event.get("Name")).lower()):
            what = f"{replayed.kind} '{replayed.name}'" if replayed.name else replayed.kind
            raise NonDeterministicError(
                f"A previous execution of this orchestration scheduled {label} with sequence number {task_id}"
                f"{named}, but the current orchestration replay instead produced a {what} action with this "
                "sequence number. Was a change made to the orchestrator code after this instance had already "
                "started running?")
        if wanted == "timer" and replayed.fire_at is not None:
            recorded = parse_timestamp(event["FireAt"])
            if abs(recorded - replayed.fire_at) > _FIRE_AT_TOLERANCE:
                self.drift.append(f"timer {task_id}: history FireAt {event['FireAt']}, "
                                  f"replayed FireAt {replayed.fire_at.isoformat()}")
        del self.pending[task_id]


def _activity_input(action: dict[str, Any]) -> str | None:
    payload = action.get("input")
    return payload if payload is None or isinstance(payload, str) else json.dumps(payload)


def _when(children: list[_Task], *, any_: bool) -> _Task:
    combined = _Task()
    if not children:
        combined.finish()
        return combined
    remaining = [len(children)]

    def settled(_: _Task) -> None:
        remaining[0] -= 1
        if any_ or remaining[0] == 0:
            combined.finish()

    for child in children:
        child.then(settled)
    return combined


def top_level_actions(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The SDK's action list as the shim reads it for schemas V2/V3: one inner array (L232-241)."""
    actions = state.get("actions") or []
    if actions and isinstance(actions[0], list):
        return [action for group in actions for action in group]
    return list(actions)


def replay(history: list[dict[str, Any]], state: dict[str, Any]) -> ReplayOutcome:
    """Replay `history` (past and new events, in order) against the SDK's answer `state`, as the extension does."""
    csharp = _CSharpReplay(top_level_actions(state))
    outcome = ReplayOutcome()
    try:
        for event in history:
            csharp.process(event)
    except NonDeterministicError as error:
        outcome.non_deterministic = NON_DETERMINISTIC + str(error)
    outcome.new_actions = [csharp.pending[task_id] for task_id in sorted(csharp.pending)]
    outcome.fire_at_drift = csharp.drift
    outcome.finished = csharp.finished
    outcome.open_tasks = len(csharp.open)
    return outcome


def check_history(history: list[dict[str, Any]], state: dict[str, Any]) -> ReplayOutcome:
    """For replay tests: the extension's replay of a finished episode must match its history exactly.

    Raises AssertionError when production would fail the instance (NonDeterministic), when a timer's FireAt
    drifted (ids swapped silently), or when history lacks work C# would have scheduled.
    """
    outcome = replay(history, state)
    assert outcome.non_deterministic is None, outcome.non_deterministic
    assert not outcome.fire_at_drift, "timer ids swapped: " + "; ".join(outcome.fire_at_drift)
    if not state.get("isDone"):
        missing = [f"{a.kind} {a.task_id} {a.name or a.fire_at}" for a in outcome.new_actions]
        assert not missing, "the extension would schedule work this history lacks: " + ", ".join(missing)
    return outcome
