"""Local ACS simulator: Call Automation + Email REST fake, call engine and scripted scenarios."""

from __future__ import annotations

from tools.acs_simulator.call_registry import CallConnection, OfferedCall
from tools.acs_simulator.faults import FaultPlan, InjectedFault
from tools.acs_simulator.records import CallOperation, DeliveredEmail, RecordedRequest
from tools.acs_simulator.server import AcsSimulatorServer

__all__ = [
    "AcsSimulatorServer",
    "CallConnection",
    "CallOperation",
    "DeliveredEmail",
    "FaultPlan",
    "InjectedFault",
    "OfferedCall",
    "RecordedRequest",
]
