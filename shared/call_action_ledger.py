"""The ledger of one call's actions: queued, sent to ACS, then settled by their result callback. Pure.

Each action's id is the `operationContext` sent with its request, so ACS echoes it in the result callback
(PlayCompleted, RecognizeFailed, CallTransferAccepted, ...). A callback settles at most one action, once:
a second or late result for a settled action is recognised as such and changes nothing, and a result whose
type does not belong to the action's kind (a PlayStarted for a recognize, say) is not a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.call_actions import (
    ADD_AGENT,
    BRIEF_AGENT,
    CANCEL_ADD,
    HANDOFF,
    HANG_UP,
    HOLD,
    LEAVE,
    MUTE,
    PLAY,
    RECOGNIZE_DTMF,
    RECORDING_ACTIONS,
    REMOVE_AGENT,
    START_TRANSCRIPTION,
    STOP_TRANSCRIPTION,
    TRANSFER,
    UNHOLD,
    CallAction,
)

MAX_ACTIONS = 40  # per call: bounds history and the control API's reach on one call
# How long the flow waits for the result of its own prompt (beyond a recognize's own timeout) before it
# counts the prompt as failed and goes on: a lost callback must not leave a caller in a menu, or a call
# that was meant to end, open until the maximum duration.
FLOW_RESULT_WAIT_SECONDS = 120

QUEUED, SENDING, SENT = "queued", "sending", "sent"
COMPLETED, FAILED, CANCELED = "completed", "failed", "canceled"
SETTLED = frozenset({COMPLETED, FAILED, CANCELED})

# callback name -> (action kinds it settles, how); None: progress only (PlayStarted).
RESULT_EVENTS: dict[str, tuple[frozenset[str], str | None]] = {
    "PlayStarted": (frozenset({PLAY, BRIEF_AGENT}), None),
    "PlayCompleted": (frozenset({PLAY, BRIEF_AGENT}), COMPLETED),
    "PlayFailed": (frozenset({PLAY, BRIEF_AGENT}), FAILED),
    "PlayCanceled": (frozenset({PLAY, BRIEF_AGENT}), CANCELED),
    # The hand-off's invitation (AddParticipantRequest.operationContext is echoed in these events).
    "AddParticipantSucceeded": (frozenset({ADD_AGENT}), COMPLETED),
    "AddParticipantFailed": (frozenset({ADD_AGENT}), FAILED),
    # Withdrawing it, and removing an agent who answered too late: these results echo the operationContext
    # of the cancel / remove request itself (CancelAddParticipantRequest, RemoveParticipantRequest; SDK
    # `cancel_add_participant_operation`, `remove_participant`).
    "CancelAddParticipantSucceeded": (frozenset({CANCEL_ADD}), COMPLETED),
    "CancelAddParticipantFailed": (frozenset({CANCEL_ADD}), FAILED),
    "RemoveParticipantSucceeded": (frozenset({REMOVE_AGENT}), COMPLETED),
    "RemoveParticipantFailed": (frozenset({REMOVE_AGENT}), FAILED),
    "RecognizeCompleted": (frozenset({RECOGNIZE_DTMF}), COMPLETED),
    "RecognizeFailed": (frozenset({RECOGNIZE_DTMF}), FAILED),
    "RecognizeCanceled": (frozenset({RECOGNIZE_DTMF}), CANCELED),
    "CallTransferAccepted": (frozenset({TRANSFER}), COMPLETED),
    "CallTransferFailed": (frozenset({TRANSFER}), FAILED),
    "TranscriptionStarted": (frozenset({START_TRANSCRIPTION}), COMPLETED),
    "TranscriptionStopped": (frozenset({STOP_TRANSCRIPTION}), COMPLETED),
    "TranscriptionFailed": (frozenset({START_TRANSCRIPTION, STOP_TRANSCRIPTION}), FAILED),
}
# Settled by the request itself: no callback follows (recording requests carry no operation context, and
# RecordingStateChanged none either: REST spec, CallAutomation stable 2026-03-12).
# Hold, unhold and our leg's hang-up answer 200/204 when done (SDK `hold`, `unhold`, `hang_up`).
SYNCHRONOUS_KINDS = frozenset({MUTE, HANG_UP, HOLD, UNHOLD, LEAVE, *RECORDING_ACTIONS})
# The machine's margin past ACS's own invitation timeout (shared/warm_transfer.py).
ADD_ANSWER_MARGIN_SECONDS = 15


@dataclass(frozen=True)
class LedgerEntry:
    action: CallAction
    state: str = QUEUED
    detail: str | None = None
    result_due: datetime | None = None  # for the flow's prompts: when a missing result counts as failed


@dataclass(frozen=True)
class Outcome:
    """An action settled: how, why (the result's code and message), and what the result carried."""

    action: CallAction
    status: str  # completed | failed | canceled
    detail: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)  # e.g. {"dtmfTones": "0"}
    overdue: bool = False  # settled by the machine's deadline, not by ACS: ACS may still act on the request


@dataclass(frozen=True)
class Match:
    """What a callback meant for the ledger."""

    entry: LedgerEntry | None  # the action it belongs to, if any
    outcome: Outcome | None  # set when this callback settled it now
    repeated: bool = False  # a result for an action already settled: late or duplicate


Ledger = tuple[LedgerEntry, ...]


def find(ledger: Ledger, action_id: object) -> LedgerEntry | None:
    if not isinstance(action_id, str):
        return None
    return next((entry for entry in ledger if entry.action.action_id == action_id), None)


def _update(ledger: Ledger, action_id: str, **changes: object) -> Ledger:
    return tuple(replace(entry, **changes) if entry.action.action_id == action_id else entry  # type: ignore[arg-type]
                 for entry in ledger)


def enqueue(ledger: Ledger, action: CallAction, *, bounded: bool = True) -> tuple[Ledger, str | None]:
    """Add an action; the reason it was refused otherwise (an id seen before is a redelivery, not a new one).

    `bounded=False` for a hand-off's own steps: the hand-off counted against the limit when it was asked for,
    and a refused unhold would leave the caller on hold."""
    if find(ledger, action.action_id) is not None:
        return ledger, "duplicate action id"
    if bounded and len(ledger) >= MAX_ACTIONS:
        return ledger, f"more than {MAX_ACTIONS} actions on one call"
    # The lifecycle performs hang-ups itself, and a hand-off is carried out as its own steps.
    state = COMPLETED if action.kind in (HANG_UP, HANDOFF) else QUEUED
    return (*ledger, LedgerEntry(action, state)), None


def next_queued(ledger: Ledger) -> CallAction | None:
    if any(entry.state == SENDING for entry in ledger):
        return None  # one request at a time: ACS queues media operations in the order they were asked
    return next((entry.action for entry in ledger if entry.state == QUEUED), None)


def mark_sending(ledger: Ledger, action_id: str) -> Ledger:
    return _update(ledger, action_id, state=SENDING)


def cancel_queued(ledger: Ledger, reason: str) -> tuple[Ledger, tuple[CallAction, ...]]:
    """The call is ending: what was never sent will not be."""
    dropped = tuple(entry.action for entry in ledger if entry.state == QUEUED)
    return tuple(replace(entry, state=CANCELED, detail=reason) if entry.state == QUEUED else entry
                 for entry in ledger), dropped


def cancel_open(ledger: Ledger, action_ids: frozenset[str], reason: str) -> Ledger:
    """Settle the named actions that are not settled yet as canceled: their late results change nothing."""
    return tuple(replace(entry, state=CANCELED, detail=reason)
                 if entry.action.action_id in action_ids and entry.state not in SETTLED else entry
                 for entry in ledger)


def _result_due(action: CallAction, now: datetime | None) -> datetime | None:
    if now is not None and action.kind == ADD_AGENT:
        return now + timedelta(seconds=action.timeout_seconds + ADD_ANSWER_MARGIN_SECONDS)
    if now is not None and action.kind == BRIEF_AGENT:
        return now + timedelta(seconds=FLOW_RESULT_WAIT_SECONDS)
    if now is None or action.source != "flow" or action.kind not in (PLAY, RECOGNIZE_DTMF):
        return None
    extra = action.timeout_seconds if action.kind == RECOGNIZE_DTMF else 0
    return now + timedelta(seconds=FLOW_RESULT_WAIT_SECONDS + extra)


def on_request_result(ledger: Ledger, action_id: str, result: Mapping[str, object], now: datetime | None = None
                      ) -> tuple[Ledger, Outcome | None]:
    """The activity that sent the request finished: accepted (a callback will settle it) or failed now."""
    entry = find(ledger, action_id)
    if entry is None or entry.state in SETTLED:
        return ledger, None
    status = result.get("status")
    if status in ("accepted", "ok"):
        if entry.action.kind in SYNCHRONOUS_KINDS:
            return _update(ledger, action_id, state=COMPLETED), Outcome(entry.action, COMPLETED)
        return _update(ledger, action_id, state=SENT, result_due=_result_due(entry.action, now)), None
    parts = [str(result[key]) for key in ("status", "code", "message") if result.get(key) is not None]
    detail = ", ".join(parts)[:200] or "failed"
    return _update(ledger, action_id, state=FAILED, detail=detail), Outcome(entry.action, FAILED, detail)


def on_callback(ledger: Ledger, name: str, payload: Mapping[str, object], detail: str | None) -> tuple[Ledger, Match]:
    """Match a callback to the action named by its operation context, settling it if it is its result."""
    entry = find(ledger, payload.get("operationContext"))
    spec = RESULT_EVENTS.get(name)
    if entry is None or spec is None or entry.action.kind not in spec[0]:
        return ledger, Match(entry, None)
    settles = spec[1]
    if settles is None:
        return ledger, Match(entry, None)
    if entry.state in SETTLED:
        return ledger, Match(entry, None, repeated=True)
    raw_details = payload.get("details")
    details = dict(raw_details) if isinstance(raw_details, Mapping) else {}
    outcome = Outcome(entry.action, settles, detail, details)
    return _update(ledger, entry.action.action_id, state=settles, detail=detail), Match(entry, outcome)


def next_result_due(ledger: Ledger) -> datetime | None:
    """The earliest moment a sent flow prompt's result is overdue, if any is awaited."""
    return min((entry.result_due for entry in ledger if entry.state == SENT and entry.result_due is not None),
               default=None)


def on_overdue(ledger: Ledger, now: datetime) -> tuple[Ledger, tuple[Outcome, ...]]:
    """Settle every sent flow prompt whose result is overdue as failed."""
    overdue = tuple(entry for entry in ledger
                    if entry.state == SENT and entry.result_due is not None and entry.result_due <= now)
    for entry in overdue:
        ledger = _update(ledger, entry.action.action_id, state=FAILED, detail="no result")
    return ledger, tuple(Outcome(entry.action, FAILED, "no result from ACS in time", overdue=True)
                         for entry in overdue)


def pending_count(ledger: Ledger) -> int:
    return sum(1 for entry in ledger if entry.state not in SETTLED)
