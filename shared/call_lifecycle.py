"""Lifecycle decisions for one call, as a pure state machine.

The call machine (shared/call_machine.py) asks `next_step` what to do, then either starts the hang-up
activity (`HangUp`), summarises (`Summarize`), or waits (`Wait`) for the next inbox event, the hang-up's
result or the deadline, and feeds what happened back through `on_event`, `on_hang_up_result` or
`on_timeout`. Everything here is deterministic: time comes in as an argument (the orchestration's
`current_utc_datetime`), so replay always takes the same decisions.

`on_event` accepts every name in `EVENT_NAMES` in every stage. Callbacks arrive late, twice or out of order,
and the machine reads every inbox event in every stage, so a
duplicate or late event must be a no-op here rather than an event nobody expected.

Stages: ringing -> connected -> ended -> summarized.

Call control (shared/call_progress.py) asks for a hang-up with `request_hang_up` and reports an accepted
transfer with `mark_transferred`; both end the call through the same waits as the maximum duration does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from shared.call_start import POLICY_MESSAGE, CallStart, CallTimeouts  # noqa: F401 - re-exported
from shared.call_timeline import TimelineEntry
from shared.media_report import compact_media_report, transcript_may_be_incomplete

Stage = Literal["ringing", "connected", "ended", "summarized"]
# Why the orchestration is waiting, which is also what its deadline means.
WaitReason = Literal["answer", "late_connect", "disconnect", "disconnect_after_hang_up", "hang_up_result",
                     "media_report", "disconnect_after_transfer"]
# None: not asked; "requested": the activity runs; then its result ("ok", "gone", ...), "failed" when the
# activity failed after its retries, or "unconfirmed" when we stopped waiting for it.
HangUpState = str | None

# Outcomes shown in the summary and the custom status.
COMPLETED = "completed"
MISSED = "missed"
MAX_DURATION = "max_duration"
ANSWER_FAILED = "answer_failed"
TRANSFERRED = "transferred"
HANDED_OFF = "handed_off"  # a consultative hand-off (shared/warm_transfer.py): caller and agent connected
REJECTED = "rejected"  # the answer policy refused the call (shared/answer_policy.py): never answered
REDIRECTED = "redirected"  # the answer policy sent the ringing call elsewhere: never answered
NOT_ANSWERED = "not_answered"  # an outbound call nobody answered (shared/outbound_call.py)
# Answered only to play the after-hours message, then hung up (shared/after_hours_flow.py); nothing streamed.
AFTER_HOURS_MESSAGE = "after_hours_message"

# Kinds of inbox event (shared/call_inbox.py) the lifecycle itself reacts to.
CALL_ANSWERED = "CallAnswered"          # raised by the events function after a successful answer
ANSWER_FAILED_EVENT = "AnswerFailed"    # raised by ACS, or by the events function when answering fails
CALL_CONNECTED = "CallConnected"
CALL_DISCONNECTED = "CallDisconnected"
MEDIA_STREAM_ENDED = "MediaStreamEnded"  # raised when the media host reports the socket closed
EVENT_NAMES = (CALL_ANSWERED, ANSWER_FAILED_EVENT, CALL_CONNECTED, CALL_DISCONNECTED, MEDIA_STREAM_ENDED)

MAX_TIMELINE_ENTRIES = 200
MAX_DETAIL_CHARS = 200
# The media report is copied into history and the summary input: numbers and a few known short texts.


@dataclass(frozen=True)
class CallRecord:
    """Everything the orchestration knows about the call, rebuilt identically on every replay."""

    start: CallStart
    stage: Stage
    stage_since: datetime
    outcome: str | None = None
    end_reason: str | None = None
    call_connection_id: str | None = None
    answered: bool = False
    connected_at: str | None = None
    ended_at: str | None = None
    disconnected_while_ringing: bool = False
    hang_up: HangUpState = None
    hang_up_at: datetime | None = None
    hang_up_wanted: bool = False  # call control asked to end the call
    transferred_at: datetime | None = None
    media_report: Mapping[str, object] | None = None
    media_report_missing: bool = False
    timeline: tuple[TimelineEntry, ...] = ()


@dataclass(frozen=True)
class Wait:
    """Wait for the next external event (or the hang-up's result) until `deadline`."""

    reason: WaitReason
    deadline: datetime


@dataclass(frozen=True)
class HangUp:
    """Start the hang-up activity; the orchestrator then reports `on_hang_up_started`."""

    call_connection_id: str


@dataclass(frozen=True)
class Summarize:
    pass


Step = Wait | HangUp | Summarize


def iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _note(record: CallRecord, at: str, event: str, detail: str | None = None) -> tuple[TimelineEntry, ...]:
    if len(record.timeline) >= MAX_TIMELINE_ENTRIES:
        return record.timeline
    clipped = detail[:MAX_DETAIL_CHARS] if detail else None
    return (*record.timeline, TimelineEntry(at, event[:MAX_DETAIL_CHARS], clipped))


def note(record: CallRecord, at: str, event: str, detail: str | None = None) -> CallRecord:
    """The record with one more timeline entry (bounded, like every entry)."""
    return replace(record, timeline=_note(record, at, event, detail))


def begin(start: CallStart, now: datetime) -> CallRecord:
    record = CallRecord(start=start, stage="ringing", stage_since=now)
    record = replace(record, timeline=_note(record, start.ringing_at, "ringing", f"from {start.caller}"))
    if start.policy is None:
        return record
    if start.policy.get("action") == POLICY_MESSAGE:  # answered for the message: the reason stays its end reason
        return replace(record, end_reason=start.policy.get("reason", "policy"))
    return _refused(record, start.policy)


def _refused(record: CallRecord, policy: Mapping[str, str]) -> CallRecord:
    # Decided before answering, so the call ends where it began: no answer, connect or media to wait for.
    redirected = policy.get("action") == "redirect"
    reason = policy.get("reason", "policy")
    detail = (f"to {policy.get('target', '-')}: {reason}" if redirected
              else f"{policy.get('rejectReason', 'none')}: {reason}")
    outcome = REDIRECTED if redirected else REJECTED
    at = record.start.ringing_at
    return replace(record, stage="ended", outcome=outcome, end_reason=reason, ended_at=at,
                   timeline=_note(record, at, outcome, detail))


def _after(moment: datetime, seconds: int) -> datetime:
    return moment + timedelta(seconds=seconds)


def _ringing_step(record: CallRecord) -> Step:
    if record.disconnected_while_ringing:
        return Wait("late_connect", _after(record.stage_since, record.start.timeouts.reorder_grace_seconds))
    return Wait("answer", _after(record.stage_since, record.start.timeouts.connect_seconds))


def _connected_step(record: CallRecord) -> Step:
    since = record.stage_since
    timeouts = record.start.timeouts
    if record.hang_up is not None:
        return Wait("disconnect_after_hang_up", _after(record.hang_up_at or since, timeouts.hang_up_wait_seconds))
    if record.outcome in (TRANSFERRED, HANDED_OFF):
        # ACS ends our leg after an accepted transfer; wait for that, bounded.
        return Wait("disconnect_after_transfer", _after(record.transferred_at or since, timeouts.hang_up_wait_seconds))
    if (record.outcome == MAX_DURATION or record.hang_up_wanted) and record.call_connection_id:
        return HangUp(record.call_connection_id)
    return Wait("disconnect", _after(since, timeouts.max_duration_seconds))


def _ended_step(record: CallRecord) -> Step:
    since = record.stage_since
    timeouts = record.start.timeouts
    # A call answered by the policy (the after-hours message) streamed nothing: no report to wait for.
    if (record.connected_at and record.media_report is None and not record.media_report_missing
            and record.start.policy is None):
        return Wait("media_report", _after(since, timeouts.media_report_wait_seconds))
    if (record.outcome in (MISSED, NOT_ANSWERED) and record.call_connection_id and record.hang_up is None
            and not record.disconnected_while_ringing):
        # Answered but never connected: release the call leg rather than leave it to ACS's own timeout.
        return HangUp(record.call_connection_id)
    if record.hang_up == "requested":
        return Wait("hang_up_result", _after(record.hang_up_at or since, timeouts.hang_up_wait_seconds))
    return Summarize()


_STEP_BY_STAGE: dict[Stage, Callable[[CallRecord], Step]] = {
    "ringing": _ringing_step, "connected": _connected_step, "ended": _ended_step,
}


def next_step(record: CallRecord) -> Step:
    """What the orchestration does next, given what it knows."""
    step_for = _STEP_BY_STAGE.get(record.stage)
    return step_for(record) if step_for is not None else Summarize()


def _result_detail(payload: Mapping[str, object]) -> str | None:
    result = payload.get("result")
    if not isinstance(result, Mapping):
        return None
    parts = [f"{key} {result[key]}" for key in ("code", "subCode") if result.get(key) is not None]
    message = result.get("message")
    if isinstance(message, str) and message:
        parts.append(message)
    return ", ".join(str(part) for part in parts) or None


@dataclass(frozen=True)
class _Arrival:
    """One inbox event as the lifecycle reads it: its name, when it happened, and ACS's result detail."""

    name: str
    at: str
    now: datetime
    detail: str | None
    payload: Mapping[str, object]


def _on_answered(record: CallRecord, event: _Arrival) -> CallRecord:
    if record.stage != "ringing" or record.answered:
        return record
    return replace(record, answered=True, timeline=_note(record, event.at, event.name))


def _on_answer_failed(record: CallRecord, event: _Arrival) -> CallRecord:
    if record.stage != "ringing":
        return record
    return replace(record, stage="ended", stage_since=event.now, outcome=ANSWER_FAILED, end_reason=event.detail,
                   ended_at=record.ended_at or event.at, timeline=_note(record, event.at, event.name, event.detail))


def _on_connected(record: CallRecord, event: _Arrival) -> CallRecord:
    if record.stage != "ringing":
        return record
    timeline = _note(record, event.at, event.name)
    if record.disconnected_while_ringing:
        # The late CallConnected of a call whose CallDisconnected overtook it: the call did connect.
        return replace(record, stage="ended", stage_since=event.now, outcome=COMPLETED, connected_at=event.at,
                       timeline=timeline)
    return replace(record, stage="connected", stage_since=event.now, connected_at=event.at, timeline=timeline)


def _on_disconnected(record: CallRecord, event: _Arrival) -> CallRecord:
    timeline = _note(record, event.at, event.name, event.detail)
    if record.stage == "ringing" and not record.disconnected_while_ringing:
        return replace(record, disconnected_while_ringing=True, stage_since=event.now, ended_at=event.at,
                       end_reason=event.detail, timeline=timeline)
    if record.stage == "connected":
        outcome = record.outcome if record.outcome in (MAX_DURATION, TRANSFERRED, HANDED_OFF) else _completed(record)
        return replace(record, stage="ended", stage_since=event.now, outcome=outcome, ended_at=event.at,
                       end_reason=record.end_reason or event.detail, timeline=timeline)
    return record


def _completed(record: CallRecord) -> str:
    return AFTER_HOURS_MESSAGE if record.start.policy is not None else COMPLETED


def _on_media_stream_ended(record: CallRecord, event: _Arrival) -> CallRecord:
    if record.media_report is not None or record.stage == "summarized":
        return record
    # May come before CallDisconnected: kept, so the ended stage need not wait for it.
    return replace(record, media_report=compact_media_report(event.payload),
                   timeline=_note(record, event.at, event.name))


_EVENT_HANDLERS: dict[str, Callable[[CallRecord, _Arrival], CallRecord]] = {
    CALL_ANSWERED: _on_answered,
    ANSWER_FAILED_EVENT: _on_answer_failed,
    CALL_CONNECTED: _on_connected,
    CALL_DISCONNECTED: _on_disconnected,
    MEDIA_STREAM_ENDED: _on_media_stream_ended,
}


def on_event(record: CallRecord, name: str, payload: Mapping[str, object], now: datetime) -> CallRecord:
    """Apply one external event, whatever the stage: duplicates and events too late to matter change nothing."""
    connection_id = payload.get("callConnectionId")
    if isinstance(connection_id, str) and connection_id and record.call_connection_id is None:
        # Kept whenever it first shows up: a late CallConnected still lets a missed call be hung up.
        record = replace(record, call_connection_id=connection_id[:MAX_DETAIL_CHARS])
    handler = _EVENT_HANDLERS.get(name)
    if handler is None:
        return record
    at = iso(parse_time(payload.get("time")) or now)
    return handler(record, _Arrival(name, at, now, _result_detail(payload), payload))


def on_timeout(record: CallRecord, now: datetime) -> CallRecord:
    """The deadline of the current `Wait` passed first."""
    step = next_step(record)
    if not isinstance(step, Wait):
        return record
    at = iso(now)
    if step.reason in ("answer", "late_connect"):
        reason = "caller hung up before connect" if step.reason == "late_connect" else "not connected in time"
        outcome = MISSED if record.start.outbound is None else NOT_ANSWERED  # dial timeout of an outbound call
        return replace(record, stage="ended", stage_since=now, outcome=outcome, end_reason=reason,
                       ended_at=record.ended_at or at, timeline=_note(record, at, outcome, reason))
    if step.reason == "disconnect":
        reason = f"maximum duration of {record.start.timeouts.max_duration_seconds} s reached"
        timeline = _note(record, at, "max_duration_reached", reason)
        if record.call_connection_id is None:
            # Nothing to hang up: end here rather than wait for a disconnect that cannot be asked for.
            return replace(record, stage="ended", stage_since=now, outcome=MAX_DURATION, end_reason=reason,
                           ended_at=at, timeline=timeline)
        return replace(record, outcome=MAX_DURATION, end_reason=reason, timeline=timeline)
    if step.reason in ("disconnect_after_hang_up", "disconnect_after_transfer"):
        # Our own hang-up or an accepted transfer ended a connected call: completed unless already decided.
        return replace(record, stage="ended", stage_since=now, ended_at=at,
                       outcome=record.outcome or _completed(record),
                       timeline=_note(record, at, "disconnect_not_confirmed"))
    if step.reason == "hang_up_result":
        return replace(record, hang_up="unconfirmed", timeline=_note(record, at, "hang_up_unconfirmed"))
    return replace(record, media_report_missing=True,
                   timeline=_note(record, at, "media_report_missing", "transcript may be incomplete"))


def request_hang_up(record: CallRecord, reason: str) -> CallRecord:
    """Call control wants the call ended; the orchestrator then gets `HangUp` from `next_step`."""
    if record.stage != "connected" or record.hang_up_wanted or record.hang_up is not None:
        return record
    return replace(record, hang_up_wanted=True, end_reason=record.end_reason or reason)


def mark_transferred(record: CallRecord, now: datetime, reason: str, outcome: str = TRANSFERRED) -> CallRecord:
    """ACS accepted a transfer (or our leg left a hand-off): our leg ends, with that outcome."""
    if record.stage != "connected" or record.outcome is not None:
        return record
    return replace(record, outcome=outcome, transferred_at=now, end_reason=reason)


def on_hang_up_started(record: CallRecord, now: datetime) -> CallRecord:
    return replace(record, hang_up="requested", hang_up_at=now,
                   timeline=_note(record, iso(now), "hang_up_requested"))


def on_hang_up_result(record: CallRecord, result: Mapping[str, object], now: datetime) -> CallRecord:
    """The hang-up activity finished: `result` is its output, or {"status": "failed"} after its retries."""
    status = str(result.get("status", "unknown"))[:40]
    record = replace(record, hang_up=status, timeline=_note(record, iso(now), "hang_up_result", status))
    if status == "gone" and record.stage == "connected":
        # ACS no longer knows the call, so no CallDisconnected is coming.
        return replace(record, stage="ended", stage_since=now, ended_at=iso(now),
                       outcome=record.outcome or _completed(record))
    return record


def mark_summarized(record: CallRecord, now: datetime, email: Mapping[str, object]) -> CallRecord:
    detail = f"email {email.get('status', 'unknown')} (operation {email.get('operationId', '-')})"
    return replace(record, stage="summarized", stage_since=now, timeline=_note(record, iso(now), "summarized", detail))


def is_partial(record: CallRecord) -> bool:
    """True when the transcript may be incomplete (shared/media_report.py says when)."""
    if record.connected_at is None:
        return False
    return record.media_report_missing or transcript_may_be_incomplete(record.media_report or {})


def custom_status(record: CallRecord) -> dict[str, object]:
    """What ops see in the Durable status without reading history."""
    return {
        "stage": record.stage,
        "since": iso(record.stage_since),
        "outcome": record.outcome,
        "callConnectionId": record.call_connection_id,
        "correlationId": record.start.correlation_id,
    }


def summary_fields(record: CallRecord) -> dict[str, object]:
    """The compact call description handed to the summary activity (see shared/summary.py)."""
    return {
        "instance_id": record.start.instance_id,
        "caller": record.start.caller,
        "callee": record.start.callee,
        "outcome": record.outcome or COMPLETED,
        "ringing_at": record.start.ringing_at,
        "connected_at": record.connected_at,
        "ended_at": record.ended_at,
        "end_reason": record.end_reason,
        "timeline": [entry.to_dict() for entry in record.timeline],
        "media": dict(record.media_report) if record.media_report else None,
        "partial": is_partial(record),
        "transcription": record.start.transcription,
        **({"direction": "outbound"} if record.start.outbound is not None else {}),
    }
