"""The call index in Azure Table storage: the only module that reads or writes it.

`GET /api/calls` cannot come from the Durable status API: on Azure Storage it answers in instance-id order,
100 a page, and the Python SDK's `get_status_by` drops the continuation (tests/tools/ shows 130 instances
listed as 100). So each call gets one row here, written when it is answered (batched with the calls that ring
with it: calls/call_index_batches.py) and merged when its summary is prepared; keys and cursor are in
shared/call_index_keys.py.

Writes are upsert-merges, so an activity or delivery that runs twice writes the same row again. A failed write
is logged and never fails the call: the index serves the ops list, not the call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from azure.data.tables import TableClient, UpdateMode

from calls import app_context
from calls.call_index_batches import StartRowWriter
from calls.storage_tables import table_client
from calls.table_purge import delete_rows_before
from shared.call_index_keys import (
    Cursor,
    days_newest_first,
    ended_entity,
    list_row,
    partition_query,
    started_entity,
)
from shared.call_lifecycle import parse_time
from shared.call_start import CallStart
from shared.settings import StorageSettings

log = logging.getLogger(__name__)

TABLE_NAME = "callindex"
# An empty day costs one query; past this many days a page ends early with a cursor (Table storage itself
# answers short or empty pages with a continuation, and clients follow it the same way).
MAX_DAYS_PER_PAGE = 31
_SELECT = ["RowKey", "instanceId", "outcome", "caller", "ringingAt", "endedAt", "direction"]
_DIGEST_SELECT = [*_SELECT, "reason", "dropped"]
# The digest reads one day in full to count it; past this many rows it counts what it read and says so.
MAX_DIGEST_ROWS = 100_000


def _table(storage: StorageSettings) -> TableClient:
    return table_client(storage, TABLE_NAME)


def _upsert(storage: StorageSettings, entity: dict[str, str]) -> None:
    _table(storage).upsert_entity(entity, mode=UpdateMode.MERGE)


# The start row is written off the answer path, in batches (calls/call_index_batches.py).
_start_rows = StartRowWriter(_table)


def record_call_started(start: CallStart) -> None:
    """Queue the call's row (masked caller only) without waiting: the caller is ringing."""
    ringing_at = parse_time(start.ringing_at)
    if ringing_at is None:  # CallStart is built by this app; the index must never break a call all the same
        log.warning("Call index: start of %s not recorded: ringing time is not ISO 8601", start.instance_id)
        return
    direction = "outbound" if start.outbound is not None else "inbound"
    _start_rows.submit(app_context.settings().storage,
                       started_entity(start.instance_id, ringing_at, start.caller, direction))


def record_call_ended(instance_id: str, ringing_at: str, outcome: str, ended_at: str | None,
                      reason: str | None = None, dropped: bool = False) -> None:
    """Merge the call's outcome into its row; logged, never raised, so the summary and email go on."""
    try:
        ringing = parse_time(ringing_at)
        if ringing is None:
            raise ValueError("ringing time is not ISO 8601")
        _upsert(app_context.settings().storage, ended_entity(instance_id, ringing, outcome, ended_at, reason, dropped))
    except Exception as error:  # noqa: BLE001 - the list is ops data; the summary must not fail for it
        log.warning("Call index: end of %s not recorded: %s", instance_id, type(error).__name__)


def list_calls(since: datetime, to: datetime, outcome: str | None, limit: int,
               cursor: Cursor | None) -> tuple[list[dict[str, str | None]], Cursor | None]:
    """Up to `limit` calls ringing within [since, to], newest first, and the cursor of the next page (None when
    there is no more). `BadCursor` for a cursor outside the window; Azure errors propagate."""
    table = _table(app_context.settings().storage)
    rows: list[dict[str, str | None]] = []
    last: Cursor | None = None
    for walked, day in enumerate(days_newest_first(since, to, cursor)):
        if walked == MAX_DAYS_PER_PAGE:
            return rows, Cursor(day)
        after = cursor.after if cursor is not None and day == cursor.day else ""
        query, parameters = partition_query(day, since, to, after, outcome)
        for entity in _entities(table, query, parameters, limit + 1 - len(rows)):
            if len(rows) == limit:
                return rows, last  # one more exists: the next page starts after the last one given
            rows.append(list_row(entity))
            last = Cursor(day, str(entity["RowKey"]))
    return rows, None


def _entities(table: TableClient, query: str, parameters: dict[str, str], wanted: int) -> Iterable[Any]:
    return table.query_entities(query, parameters=parameters, select=_SELECT,
                                results_per_page=max(1, min(wanted, 1000)))


def calls_between(since: datetime, to: datetime) -> tuple[list[dict[str, Any]], bool]:
    """Every row of calls ringing within [since, to] (the daily digest), newest first, and whether the read
    stopped at MAX_DIGEST_ROWS. Azure errors propagate: the digest run fails and is retried later."""
    table = _table(app_context.settings().storage)
    rows: list[dict[str, Any]] = []
    for day in days_newest_first(since, to):
        query, parameters = partition_query(day, since, to)
        for entity in table.query_entities(query, parameters=parameters, select=_DIGEST_SELECT,
                                           results_per_page=1000):
            if len(rows) == MAX_DIGEST_ROWS:
                return rows, True
            rows.append(dict(entity))
    return rows, False


def purge_before(cutoff: datetime) -> int:
    """Delete the rows of calls that rang on a day before the cutoff's (retention); the number deleted."""
    return delete_rows_before(_table(app_context.settings().storage), cutoff)
