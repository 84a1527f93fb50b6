"""The call orchestration: the orchestrator (a driver of shared/call_machine.py) and its activities, as ONE
blueprint for function_app.py to register."""

from calls.call_orchestration import (
    activities,
    orchestrator,
    outbound_activity,
    recording_activities,
    recovery_activity,
)
from calls.call_orchestration.blueprint import bp

__all__ = ["activities", "bp", "orchestrator", "outbound_activity", "recording_activities", "recovery_activity"]
