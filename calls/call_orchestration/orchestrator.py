"""Orchestration `call_lifecycle`: one instance per call, a driver of the pure machine in shared/call_machine.py.

It turns the machine's commands into Durable context calls and feeds what happened back; it takes no call
decision. It is written for the extension's own replay of the SDK's action list (OutOfProcOrchestrationShim
`ProcessAsyncActionsV2` awaits each action in turn, in C#), where only tasks not yet scheduled appear in a
race's WhenAny (azure-functions-durable 1.7, Task.py `CompoundTask.__init__`):
- each wait is ONE race of fresh tasks: a new inbox waiter, a new timer, and only the activities started
  just now. A task already scheduled is never raced again (in C# it would be missing from the WhenAny, so
  the replay would stall there); an activity that lost its first race is picked up after a later race,
  which the machine bounds with a short poll deadline.
- no timer is cancelled while the call goes on (a cancelled timer completes a C# WhenAny at once): a timer
  whose wait is over simply fires later, unraced. At the end every timer still pending is cancelled: DTFx
  completes an instance only when no task is open (TaskOrchestrationExecutor `ExecuteCore`), so a stale
  max-duration timer would otherwise keep the finished call Running for up to an hour.
- an inbox waiter that lost its race stays open, but never gets an event: the SDK (a list, `pop()`) and the
  extension (a stack, "the common case is a Task.WhenAny in a loop", DurableOrchestrationContext
  `WaitForExternalEvent`) both hand an event to the NEWEST waiter, and every wait has a fresh one. An event
  must never find no waiter: SDK 1.7 then keeps only the last such event and replays it into every later
  waiter of the name (TaskOrchestrationExecutor `set_task_value`, `deferred_tasks`), so nothing is ever
  awaited without the inbox.
- retries are the machine's own timer steps, never `call_activity_with_retry`.
Time is `context.current_utc_datetime`; all I/O happens in the activities (calls/call_orchestration/activities.py).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from calls.call_orchestration.blueprint import bp
from shared import call_machine as machine
from shared.call_activity_names import ORCHESTRATOR
from shared.call_inbox import INBOX_EVENT
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


def _finished(task: Any, activity_id: str) -> ActivityDone:
    # A failed activity does not raise inside task_any: the finished task carries the exception as its result.
    if isinstance(task.result, Exception):
        return ActivityDone(activity_id, error=str(task.result) or type(task.result).__name__)
    return ActivityDone(activity_id, output=task.result)


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR)
def call_lifecycle(context: df.DurableOrchestrationContext) -> Generator[Any, Any, object]:
    state, commands = machine.start(context.get_input(), context.current_utc_datetime)
    running: dict[str, Any] = {}
    timers: list[Any] = []
    while True:
        fresh: list[Any] = []
        wait: WaitUntil | None = None
        for command in commands:
            if isinstance(command, Finish):
                _cancel_pending(timers)
                return dict(command.output)
            wait = _carry_out(context, command, running, fresh) or wait
        assert wait is not None  # the machine ends every answer with WaitUntil or Finish
        inbox, timer = context.wait_for_external_event(INBOX_EVENT), context.create_timer(wait.at)
        timers.append(timer)
        winner = yield context.task_any([inbox, timer, *fresh])
        state, commands = machine.receive(state, _inputs(running, winner, inbox, timer, wait),
                                          context.current_utc_datetime)


def _inputs(running: dict[str, Any], winner: Any, inbox: Any, timer: Any, wait: WaitUntil) -> list[Input]:
    """What happened in one wait: the activities that finished, then the inbox event or the timer."""
    inputs: list[Input] = [_finished(running.pop(key), key) for key in list(running) if running[key].is_completed]
    if winner is inbox:
        inputs.append(InboxEvent(winner.result))
    elif winner is timer:
        inputs.append(TimerFired(wait.seq))
    return inputs


def _cancel_pending(timers: list[Any]) -> None:
    for timer in timers:
        if not timer.is_completed:
            timer.cancel()


def _carry_out(context: df.DurableOrchestrationContext, command: Command, running: dict[str, Any],
               fresh: list[Any]) -> WaitUntil | None:
    if isinstance(command, SetStatus):
        context.set_custom_status(dict(command.status))
    elif isinstance(command, StartActivity):
        running[command.activity_id] = task = context.call_activity(command.name, dict(command.input))
        fresh.append(task)
    elif isinstance(command, WaitUntil):
        return command
    return None
