"""The call index's keys, entity shape and paging cursor (pure; calls/call_index.py does the I/O).

The Durable status API cannot list calls newest first (Azure Storage answers in instance-id order, at most 100
a page), so the app keeps a small Azure Table of its own. One partition per UTC day of ringing (`yyyymmdd`);
the row key is the inverted ringing time followed by the instance id, so a partition query (which Table
storage answers in PartitionKey, RowKey order) returns that day newest first, and two calls ringing in the
same microsecond still get distinct, stable rows.

The cursor of the next page names a day and the last row key already returned on that day ("" to start the
day from its newest row). It is opaque to clients: base64url of `1:<yyyymmdd>:<rowkey>`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# 16 digits of microseconds reach the year 2286; equal-length digit strings sort as their numbers.
_INVERT_FROM = 10**16 - 1
_DIGITS = 16
_CURSOR_VERSION = "1"
_PARTITION = re.compile(r"\d{8}")
# Instance ids the app creates ("call-" + 32 hex); any other row key character is refused in a cursor.
_ROW_KEY = re.compile(r"(\d{16})_([A-Za-z0-9-]{1,200})")
_MAX_CURSOR_CHARS = 400
# Table storage refuses these in PartitionKey/RowKey (Understanding the Table service data model).
_FORBIDDEN_KEY_CHARS = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
MAX_REASON_CHARS = 120


class BadCursor(ValueError):
    """A continuation token that this index did not issue, or one from another query window."""


def _micros(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    delta = aware.astimezone(UTC) - _EPOCH
    whole = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return min(max(whole, 0), _INVERT_FROM)


def day_partition(moment: datetime) -> str:
    """The partition key of a call ringing at `moment`: its UTC day as yyyymmdd."""
    return (_EPOCH + timedelta(microseconds=_micros(moment))).strftime("%Y%m%d")


def inverted_time(moment: datetime) -> str:
    """`moment` as 16 digits that sort newest first."""
    return f"{_INVERT_FROM - _micros(moment):0{_DIGITS}d}"


def row_key(ringing_at: datetime, instance_id: str) -> str:
    if not instance_id or _FORBIDDEN_KEY_CHARS.search(instance_id):
        raise ValueError("instance id cannot be part of a table row key")
    return f"{inverted_time(ringing_at)}_{instance_id}"


def _time_of_row_key(key: str) -> datetime:
    return _EPOCH + timedelta(microseconds=_INVERT_FROM - int(key[:_DIGITS]))


def started_entity(instance_id: str, ringing_at: datetime, caller_masked: str,
                   direction: str = "inbound") -> dict[str, str]:
    """The row written when a call is answered. No outcome or endedAt: an upsert-merge of this row can then
    never clear the outcome of a call whose end was recorded first."""
    return {"PartitionKey": day_partition(ringing_at), "RowKey": row_key(ringing_at, instance_id),
            "instanceId": instance_id, "ringingAt": _iso(ringing_at), "caller": caller_masked,
            "direction": direction}


def ended_entity(instance_id: str, ringing_at: datetime, outcome: str, ended_at: str | None,
                 reason: str | None = None, dropped: bool = False) -> dict[str, str]:
    """The fields merged in when the call ends (same keys as its start row). `reason` (the end reason, phone
    numbers already masked) and `dropped` (shared/kpis.py `call_end`) feed the daily digest."""
    return {"PartitionKey": day_partition(ringing_at), "RowKey": row_key(ringing_at, instance_id),
            "instanceId": instance_id, "ringingAt": _iso(ringing_at), "outcome": outcome,
            "endedAt": ended_at or "", "reason": (reason or "")[:MAX_REASON_CHARS], "dropped": "yes" if dropped else ""}


def list_row(entity: Mapping[str, Any]) -> dict[str, str | None]:
    """One row of `GET /api/calls` from an index entity; outcome and endedAt are null while the call runs."""
    def text(name: str, limit: int) -> str | None:
        value = entity.get(name)
        return value[:limit] if isinstance(value, str) and value else None

    return {"instanceId": text("instanceId", 256), "outcome": text("outcome", 40), "caller": text("caller", 80),
            "ringingAt": text("ringingAt", 64), "endedAt": text("endedAt", 64),
            "direction": text("direction", 16) or "inbound"}  # rows from before outbound calls are inbound


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: on `day` (yyyymmdd), after row `after` ("" = from the day's newest row)."""

    day: str
    after: str = ""


def encode_cursor(cursor: Cursor) -> str:
    raw = f"{_CURSOR_VERSION}:{cursor.day}:{cursor.after}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """The cursor a token names; `BadCursor` for anything `encode_cursor` could not have produced."""
    if not token or len(token) > _MAX_CURSOR_CHARS or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise BadCursor("continuation is not a token this list issued")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor("continuation is not a token this list issued") from error
    version, _, rest = raw.partition(":")
    day, separator, after = rest.partition(":")
    if version != _CURSOR_VERSION or not separator or not _PARTITION.fullmatch(day) or _day(day) is None:
        raise BadCursor("continuation is not a token this list issued")
    if after and (not _ROW_KEY.fullmatch(after) or day_partition(_time_of_row_key(after)) != day):
        raise BadCursor("continuation is not a token this list issued")
    if encode_cursor(Cursor(day, after)) != token:
        raise BadCursor("continuation is not a token this list issued")
    return Cursor(day, after)


def _day(partition: str) -> date | None:
    try:
        return datetime.strptime(partition, "%Y%m%d").date()
    except ValueError:
        return None


def days_newest_first(since: datetime, to: datetime, start: Cursor | None = None) -> Iterator[str]:
    """The partitions of the window [since, to], from `to`'s day (or the cursor's) back to `since`'s day.
    `BadCursor` when the cursor's day lies outside the window (a token from another query)."""
    first, last = day_partition(to), day_partition(since)
    if start is not None and not last <= start.day <= first:
        raise BadCursor("continuation does not belong to this from/to window")
    day, end = _day(start.day if start is not None else first), _day(last)
    while day is not None and end is not None and day >= end:
        yield day.strftime("%Y%m%d")
        day -= timedelta(days=1)


def partition_query(day: str, since: datetime, to: datetime, after: str = "",
                    outcome: str | None = None) -> tuple[str, dict[str, str]]:
    """The OData filter and its parameters for one day's rows ringing within [since, to], after a row key."""
    clauses = ["PartitionKey eq @day", "RowKey ge @newest", "RowKey lt @past"]
    # Row keys of calls ringing at `since` are inverted(since) + "_" + id; "`" follows "_" in ASCII, so this
    # bound keeps them all and nothing older (an older call's digits are larger).
    parameters = {"day": day, "newest": inverted_time(to), "past": inverted_time(since) + "`"}
    if after:
        clauses.append("RowKey gt @after")
        parameters["after"] = after
    if outcome is not None:
        clauses.append("outcome eq @outcome")
        parameters["outcome"] = outcome
    return " and ".join(clauses), parameters
