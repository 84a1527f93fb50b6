"""The outbound per-minute limit (OUTBOUND_CALLS_PER_MINUTE), counted in Azure Table storage.

The count must hold across every instance of the function app (Functions scales out), so it lives in the
app's own storage account, not in memory: one row per calendar minute (`outboundrate`, partition = UTC day,
row = HHMM) whose `count` is raised with optimistic concurrency (If-Match on the row's ETag; a 412 means
another instance counted first, so read again). A request the limit refuses does not count. Table storage
rather than a Durable entity: the answer is needed before anything is started, in one or two round trips.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from calls.storage_tables import table_client
from calls.table_purge import delete_rows_before
from shared.outbound_call import rate_window
from shared.settings import StorageSettings

log = logging.getLogger(__name__)

TABLE_NAME = "outboundrate"
# Instances counting the same minute at once each retry after losing a race; past this many, refuse (429)
# rather than hold the request.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Admission:
    allowed: bool
    retry_after_seconds: int = 0


def _table(storage: StorageSettings) -> TableClient:
    return table_client(storage, TABLE_NAME)


def admit(storage: StorageSettings, limit: int, now: datetime) -> Admission:
    """Count one more outbound call in this minute, unless the minute already holds `limit`."""
    day, minute, retry_after = rate_window(now)
    table = _table(storage)
    for _ in range(MAX_ATTEMPTS):
        try:
            row = table.get_entity(day, minute)
        except ResourceNotFoundError:
            try:
                table.create_entity({"PartitionKey": day, "RowKey": minute, "count": 1})
                return Admission(True)
            except ResourceExistsError:
                continue  # another instance opened the minute first
        count = int(row.get("count", 0))
        if count >= limit:
            return Admission(False, retry_after)
        row["count"] = count + 1
        try:
            table.update_entity(row, mode=UpdateMode.REPLACE, etag=row.metadata["etag"],
                                match_condition=MatchConditions.IfNotModified)
            return Admission(True)
        except ResourceModifiedError:
            continue
    log.warning("Outbound limit: %d attempts lost to concurrent counts in %s %s", MAX_ATTEMPTS, day, minute)
    return Admission(False, 1)


def purge_before(storage: StorageSettings, cutoff: datetime) -> int:
    """Delete the per-minute counts of days before the cutoff's (retention: one row a minute adds up)."""
    return delete_rows_before(_table(storage), cutoff)
