"""What goes into the call state machine (shared/call_machine.py) and what comes out of it.

Inputs: an inbox event, the deadline timer firing, an activity finishing. Commands: start an activity, set
the custom status, wait until a moment (the driver races one fresh inbox waiter against one fresh timer),
or finish with the orchestration's output. The orchestrator (calls/call_orchestration/orchestrator.py)
only turns commands into Durable context calls and results back into inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class InboxEvent:
    """One event raised on the call's inbox, as Durable hands it over (a mapping or JSON text)."""

    raw: object


@dataclass(frozen=True)
class TimerFired:
    """The timer of the `WaitUntil` numbered `seq` fired."""

    seq: int


@dataclass(frozen=True)
class ActivityDone:
    """The activity started as `activity_id` finished: its output, or `error` when it raised."""

    activity_id: str
    output: object = None
    error: str | None = None


Input = InboxEvent | TimerFired | ActivityDone


@dataclass(frozen=True)
class StartActivity:
    activity_id: str
    name: str
    input: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SetStatus:
    status: Mapping[str, object]


@dataclass(frozen=True)
class WaitUntil:
    """Wait for the next inbox event or activity result, or until `at`; `seq` names this wait's timer."""

    at: datetime
    seq: int


@dataclass(frozen=True)
class Finish:
    output: Mapping[str, object]


Command = StartActivity | SetStatus | WaitUntil | Finish
