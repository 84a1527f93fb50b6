"""What the call's state machine (shared/call_machine.py) holds between two inputs: the call's record, its
control state, the activities running or waiting to be retried, and the phase. Frozen: every input gives a
new state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared import call_lifecycle as lifecycle
from shared import call_progress as progress
from shared import media_recovery
from shared import recording_files as files_ops

Phase = Literal["call", "summarizing", "emailing", "done"]


@dataclass(frozen=True)
class Activity:
    """An activity this call started (or will start again at a retry), by the id the driver tracks."""

    activity_id: str
    name: str
    input: Mapping[str, object]
    started: datetime
    attempt: int = 1
    action_id: str | None = None  # for RUN_ACTION: the ledger entry it sends


@dataclass(frozen=True)
class Retry:
    due: datetime
    activity: Activity


@dataclass(frozen=True)
class CallState:
    record: lifecycle.CallRecord
    control: progress.ControlState
    trace: Mapping[str, str]
    phase: Phase = "call"
    running: tuple[Activity, ...] = ()
    retries: tuple[Retry, ...] = ()
    serial: int = 0  # ids of activities and of the flow's actions
    wait_seq: int = 0  # the last WaitUntil's number
    summary: Mapping[str, object] | None = None
    email: Mapping[str, object] | None = None
    recording_files: files_ops.RecordingFiles = files_ops.RecordingFiles()
    recovery: media_recovery.Recovery | None = None  # lost streams and their restarts (shared/media_recovery.py)
