"""What the retention purge deletes: Durable history of finished calls and call blobs older than the cutoff.

Pure decisions; the timer function (calls/retention_timer.py) does the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from shared.blob_names import call_prefix

# Running calls are never purged (at most MAX_CALL_DURATION_SECONDS old anyway): only terminal states.
PURGEABLE_STATUSES = ("Completed", "Failed", "Terminated")
# The Durable purge needs a lower bound; nothing of this product predates it.
HISTORY_FLOOR = datetime(2020, 1, 1, tzinfo=UTC)
CALLS_PREFIX = call_prefix("x").split("x")[0]  # "calls/": every call's blobs live under it


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Anything created or last modified before this is purged."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now - timedelta(days=days)


def expired_blob_names(blobs: Iterable[tuple[str, datetime | None]], cutoff: datetime, prefix: str = CALLS_PREFIX
                       ) -> list[str]:
    """Names of call blobs (under `calls/`, which holds each call's downloaded recording too) last modified
    before the cutoff. Unknown times are kept. `prefix=""`: every blob of a container that holds only call
    data, such as the `recordings` container ACS writes into (bring-your-own-storage)."""
    return [name for name, modified in blobs
            if name.startswith(prefix) and modified is not None and modified < cutoff]


def expired_partitions_query(cutoff: datetime) -> tuple[str, dict[str, str]]:
    """The OData filter for table rows of whole UTC days before the cutoff's day. The call index and the outbound
    rate table both partition by UTC day as yyyymmdd (shared/call_index_keys.py, shared/outbound_call.py), which
    sorts as the date: rows of the cutoff's own day wait for the next run, kept rather than cut short."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    return "PartitionKey lt @before", {"before": cutoff.astimezone(UTC).strftime("%Y%m%d")}
