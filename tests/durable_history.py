"""Writes an orchestration's history the way the Durable host does, and replays it through the real SDK.

Tests script what the outside world does (raise events, complete or fail activities, let time pass); the
builder turns the actions the orchestrator returns into TaskScheduled / TimerCreated events with the
sequence numbers the SDK expects, fires timers when their time comes (cancelled ones too: a durable timer
still fires, the SDK must ignore it), records retries as the host does (a failed attempt, a back-off
timer, the attempt rescheduled under a new id; one more timer, due at once, after the last attempt), and
replays the FULL history after every new event. Each replay's actions must start with the ones already
recorded, which is how the host detects a non-deterministic orchestrator. After each episode the extension's own
replay of the action list (tools/dev_host/extension_replay.py, the dev host's check) must agree with the history: no
NonDeterministic failure, no timer whose FireAt moved to another id, no work the extension would schedule
that the history lacks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as T

from tools.dev_host.extension_replay import check_history

Handle = Callable[[str], str]
Message = Callable[[], None]

ACTIVITY_TYPES = (0, 1)  # CallActivity, CallActivityWithRetry
TIMER_TYPE = 5
RETRY_HORIZON_SECONDS = 10  # longer than any retry interval of ours, shorter than any call deadline


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def flatten(actions: list[Any]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for action in actions:
        if isinstance(action, list):
            flat.extend(flatten(action))
        else:
            flat.append(action)
            flat.extend(flatten(action.get("compoundActions", [])))
    return flat


def signature(action: dict[str, Any]) -> tuple[object, ...]:
    # isCanceled may flip on a later replay; everything else must stay as first recorded.
    return (action["actionType"], action.get("functionName"), action.get("input"), action.get("fireAt"),
            action.get("externalEventName"))


@dataclass
class Activity:
    event_id: int
    name: str
    input: str | None
    retry: dict[str, int] | None
    attempts: int = 1
    state: str = "running"  # running | backing_off | completed | failed


@dataclass(frozen=True)
class _TimerAction:
    is_canceled: bool


@dataclass
class Timer:
    event_id: int
    fire_at: datetime
    retry_of: Activity | None = None
    fired: bool = False


class DurableHistory:
    def __init__(self, handle: Handle, name: str, instance_id: str, input_: object, now: datetime) -> None:
        self.handle, self.name, self.instance_id, self.now = handle, name, instance_id, now
        self.input = json.dumps(input_)
        self.history: list[dict[str, Any]] = []
        self.activities: list[Activity] = []
        self.timers: list[Timer] = []
        self.state: dict[str, Any] = {}
        self.statuses: list[Any] = []  # customStatus after each episode
        self._recorded: list[tuple[object, ...]] = []
        self._next_id = 0
        self._outbox: list[dict[str, Any]] = []

    # --- what the outside world does -------------------------------------------------------------------
    def start(self, *messages: Message) -> dict[str, Any]:
        """The first episode; `messages` are events raised before the orchestrator first ran."""
        return self._episode([lambda: self._append(T.EXECUTION_STARTED, Name=self.name, Version="",
                                                   Input=self.input), *messages])

    def raise_event(self, name: str, data: object, *, as_json_text: bool = False) -> Message:
        # The Python durable client sends event data JSON-encoded, so the host stores JSON of a string.
        payload = json.dumps(json.dumps(data) if as_json_text else data)
        return lambda: self._append(T.EVENT_RAISED, Name=name, Input=payload)

    def complete(self, activity: str, result: object) -> Message:
        def message() -> None:
            task = self.running(activity)
            task.state = "completed"
            self._append(T.TASK_COMPLETED, TaskScheduledId=task.event_id, Result=json.dumps(result))
        return message

    def fail(self, activity: str, reason: str = "activity failed") -> Message:
        def message() -> None:
            task = self.running(activity)
            self._append(T.TASK_FAILED, TaskScheduledId=task.event_id, Reason=reason, Details="trace")
            if task.retry is None:
                task.state = "failed"
                return
            task.state = "backing_off"
            back_off = timedelta(milliseconds=task.retry["firstRetryIntervalInMilliseconds"])
            if task.attempts >= task.retry.get("maxNumberOfAttempts", 1):
                back_off = timedelta(0)  # DTFx RetryInterceptor.Invoke: the timer after the last attempt is due now
            self._create_timer(self.now + back_off, retry_of=task)
        return message

    def deliver(self, *messages: Message, after: float = 0.0) -> dict[str, Any]:
        """Let `after` seconds pass (firing due timers), then one episode holding all `messages`."""
        self.advance(after)
        return self._episode(list(messages))

    def advance(self, seconds: float) -> dict[str, Any]:
        """Let time pass; each timer due by then fires in its own episode, at its time."""
        until = self.now + timedelta(seconds=seconds)
        while not self.state.get("isDone"):
            due = sorted((t for t in self.timers if not t.fired and t.fire_at <= until), key=lambda t: t.fire_at)
            if not due:
                break
            self.now = max(self.now, due[0].fire_at)
            self._episode([lambda timer=due[0]: self._fire(timer)])
        self.now = max(self.now, until)
        return self.state

    def fail_for_good(self, activity: str, reason: str = "activity failed") -> dict[str, Any]:
        """Fail every attempt of a retried activity, letting each back-off pass: the SDK's back-off timer, or
        the orchestration's own retry timer (any timer due within `RETRY_HORIZON_SECONDS`)."""
        while self.running_or_none(activity) is not None and not self.state.get("isDone"):
            self.deliver(self.fail(activity, reason))
            while self.running_or_none(activity) is None and not self.state.get("isDone"):
                due = sorted(t.fire_at for t in self.pending_timers())
                if not due or (due[0] - self.now).total_seconds() > RETRY_HORIZON_SECONDS:
                    break
                self.advance((due[0] - self.now).total_seconds())
        return self.state

    # --- what the history holds ---------------------------------------------------------------------------
    def running(self, activity: str) -> Activity:
        task = self.running_or_none(activity)
        assert task is not None, f"no running {activity} activity"
        return task

    def running_or_none(self, activity: str) -> Activity | None:
        return next((t for t in self.activities if t.name == activity and t.state == "running"), None)

    def scheduled_inputs(self, activity: str) -> list[Any]:
        """The input of every TaskScheduled of `activity`, retries included, decoded."""
        return [json.loads(e["Input"]) for e in self.history
                if e["EventType"] == T.TASK_SCHEDULED and e["Name"] == activity]

    def scheduled_at(self, activity: str) -> list[datetime]:
        """When each TaskScheduled of `activity` was written (its episode's time)."""
        return [datetime.fromisoformat(e["Timestamp"].replace("Z", "+00:00")) for e in self.history
                if e["EventType"] == T.TASK_SCHEDULED and e["Name"] == activity]

    def timer_actions(self) -> list[Any]:
        """Every CreateTimer action of the last replay, as the SDK returned it."""
        return [_TimerAction(a.get("isCanceled", False)) for a in flatten(self.state.get("actions", []))
                if a["actionType"] == TIMER_TYPE]

    def pending_timers(self) -> list[Timer]:
        return [t for t in self.timers if not t.fired]

    def replay(self) -> dict[str, Any]:
        """Run the orchestrator over the whole history, as the host does on every episode."""
        context = {"history": self.history, "instanceId": self.instance_id, "isReplaying": False,
                   "input": self.input, "upperSchemaVersion": 2, "parentInstanceId": None}
        return json.loads(self.handle(json.dumps(context)))

    # --- the host's part --------------------------------------------------------------------------------
    def _append(self, event_type: int, **fields: Any) -> None:
        self.history.append({"EventType": int(event_type), "EventId": -1, "IsPlayed": False,
                             "Timestamp": stamp(self.now), **fields})

    def _fire(self, timer: Timer) -> None:
        timer.fired = True
        self._append(T.TIMER_FIRED, TimerId=timer.event_id, FireAt=stamp(timer.fire_at))
        task = timer.retry_of
        if task is None or task.state != "backing_off":
            return
        if task.attempts >= (task.retry or {}).get("maxNumberOfAttempts", 1):
            task.state = "failed"  # the SDK fails the task on this extra timer
            return
        task.attempts, task.state, task.event_id = task.attempts + 1, "running", self._take_id()
        self._outbox.append(self._scheduled(task))

    def _episode(self, messages: list[Message]) -> dict[str, Any]:
        assert not self.state.get("isDone"), "the orchestration has already completed"
        self._append(T.ORCHESTRATOR_STARTED)
        for message in messages:
            message()
            self._record_new_actions(self.replay())
            if self.state.get("isDone"):
                break
        self.history.extend(self._outbox)
        self._outbox = []
        check_history(self.history, self.state)
        self._append(T.ORCHESTRATOR_COMPLETED)
        for event in self.history:
            event["IsPlayed"] = True
        self.statuses.append(self.state.get("customStatus"))
        return self.state

    def _record_new_actions(self, state: dict[str, Any]) -> None:
        self.state = state
        actions = flatten(state.get("actions", []))
        signatures = [signature(action) for action in actions]
        recorded = len(self._recorded)
        assert signatures[:recorded] == self._recorded, "non-deterministic replay: recorded actions changed"
        for action in actions[recorded:]:
            if action["actionType"] in ACTIVITY_TYPES:
                task = Activity(self._take_id(), action["functionName"], action.get("input"),
                                action.get("retryOptions"))
                self.activities.append(task)
                self._outbox.append(self._scheduled(task))
            elif action["actionType"] == TIMER_TYPE:
                self._create_timer(datetime.fromisoformat(action["fireAt"].replace("Z", "+00:00")))
        self._recorded = signatures

    def _create_timer(self, fire_at: datetime, retry_of: Activity | None = None) -> None:
        timer = Timer(self._take_id(), fire_at, retry_of)
        self.timers.append(timer)
        self._outbox.append({"EventType": int(T.TIMER_CREATED), "EventId": timer.event_id, "IsPlayed": False,
                             "Timestamp": stamp(self.now), "FireAt": stamp(fire_at)})

    def _scheduled(self, task: Activity) -> dict[str, Any]:
        return {"EventType": int(T.TASK_SCHEDULED), "EventId": task.event_id, "IsPlayed": False,
                "Timestamp": stamp(self.now), "Name": task.name, "Input": task.input}

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1
