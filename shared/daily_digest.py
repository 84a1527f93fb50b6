"""The daily digest's decisions (pure): which day is due, its time window, each call's category, the counts, and
whether a run may claim the day's send. calls/digest_timer.py does the I/O; shared/digest_render.py the email.

One digest per local day: the timer runs every quarter hour, and from `DIGEST_TIME` on the previous local day's
digest is due until it has been sent (a marker row per day, claimed with a conditional create, so two instances
or a rerun send it once). A run that claimed the day and crashed leaves a claim that a later run takes over
once it is older than `CLAIM_STALE`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from shared.call_lifecycle import (
    AFTER_HOURS_MESSAGE,
    ANSWER_FAILED,
    COMPLETED,
    HANDED_OFF,
    MAX_DURATION,
    MISSED,
    NOT_ANSWERED,
    REDIRECTED,
    REJECTED,
    TRANSFERRED,
    parse_time,
)
from shared.pii import mask_phone_numbers_in_text, mask_raw_id

CLAIM_STALE = timedelta(minutes=30)
SENDING, SENT = "sending", "sent"
RUNNING = "running"  # a call without a recorded outcome: still going, or its end write failed
# Outcomes where the caller (or, outbound, the callee) was not served: listed one by one in the digest.
NOT_SERVED = (MISSED, REJECTED, REDIRECTED, NOT_ANSWERED, ANSWER_FAILED, AFTER_HOURS_MESSAGE)
# Every outcome in the order the digest shows them (shared/call_lifecycle.py), then anything unknown.
OUTCOME_ORDER = (COMPLETED, MAX_DURATION, TRANSFERRED, HANDED_OFF, MISSED, REJECTED, REDIRECTED,
                 AFTER_HOURS_MESSAGE, NOT_ANSWERED, ANSWER_FAILED, RUNNING)
WITH_REASONS = (REJECTED, REDIRECTED)
_MAX_TEXT = 120


def due_day(now: datetime, send_at: time, zone: tzinfo) -> date | None:
    """The local day whose digest is due at `now`: yesterday in `zone` once the local time reaches `send_at`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(zone)
    return local.date() - timedelta(days=1) if local.time() >= send_at else None


def day_window(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[since, to] in UTC covering the local `day` (23 or 25 hours on a daylight-saving change)."""
    since = datetime.combine(day, time(0), zone).astimezone(UTC)
    until = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return since, until - timedelta(microseconds=1)


ClaimAction = Literal["create", "take_over", "skip"]


def claim_action(marker: Mapping[str, Any] | None, now: datetime) -> ClaimAction:
    """What a run does with the day's marker row: none yet -> create it; sent, or claimed recently by another
    run -> skip; claimed long ago (that run died) -> take it over (conditionally, on the row's ETag)."""
    if marker is None:
        return "create"
    if marker.get("state") == SENT:
        return "skip"
    claimed = parse_time(marker.get("claimedAt"))
    return "take_over" if claimed is None or now - claimed > CLAIM_STALE else "skip"


@dataclass(frozen=True)
class DigestCall:
    instance_id: str
    ringing_at: datetime | None
    caller: str  # masked
    outcome: str
    reason: str  # "" when none; masked
    direction: str
    dropped: bool


def _text(entity: Mapping[str, Any], name: str) -> str:
    value = entity.get(name)
    return value[:_MAX_TEXT] if isinstance(value, str) else ""


def digest_call(entity: Mapping[str, Any]) -> DigestCall:
    """One call from its call-index row (shared/call_index_keys.py). The index holds the caller masked; it is
    masked again here so that a row written by anything else cannot put a number into the email."""
    caller = _text(entity, "caller")
    return DigestCall(
        instance_id=_text(entity, "instanceId"),
        ringing_at=parse_time(entity.get("ringingAt")),
        caller=mask_raw_id(caller) if caller else "unknown",
        outcome=_text(entity, "outcome") or RUNNING,
        reason=mask_phone_numbers_in_text(_text(entity, "reason")),
        direction=_text(entity, "direction") or "inbound",
        dropped=entity.get("dropped") == "yes",
    )


@dataclass(frozen=True)
class DigestCounts:
    total: int
    by_outcome: tuple[tuple[str, int], ...]
    by_direction: tuple[tuple[str, int], ...]
    reasons: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)  # rejected/redirected
    dropped: int = 0
    not_served: int = 0


def count_calls(calls: Iterable[DigestCall]) -> DigestCounts:
    listed = list(calls)
    outcomes = Counter(call.outcome for call in listed)
    order = [*OUTCOME_ORDER, *sorted(set(outcomes) - set(OUTCOME_ORDER))]
    reasons = {outcome: tuple(sorted(Counter(call.reason or "unknown" for call in listed
                                             if call.outcome == outcome).items()))
               for outcome in WITH_REASONS if outcomes[outcome]}
    directions = Counter(call.direction for call in listed)
    return DigestCounts(
        total=len(listed),
        by_outcome=tuple((outcome, outcomes[outcome]) for outcome in order if outcomes[outcome]),
        by_direction=tuple(sorted(directions.items())),
        reasons=reasons,
        dropped=sum(1 for call in listed if call.dropped),
        not_served=sum(1 for call in listed if call.outcome in NOT_SERVED),
    )
