"""Daily retention purge (timer trigger): Durable history of finished calls and call blobs older than
`RETENTION_DAYS`, the calls' recordings with them (downloaded into `calls/{id}/`, or, with bring-your-own-
storage, written by ACS into the `recordings` container, purged by age as a whole), and the Table rows of days
before it: the call index (calls/call_index.py), the outbound per-minute counts (calls/outbound_rate_limit.py) and
the daily digest's markers (calls/digest_timer.py).
Storage lifecycle management (infra) deletes old blobs too; this also covers the task hub's history and the
tables, which lifecycle rules cannot see, and local runs on Azurite.

The dev host does not run timer triggers; tests call `retention_purge` (or `purge_older_than`) directly
against the dev host's purge endpoint and Azurite.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func
from azure.core.exceptions import ResourceNotFoundError
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus
from azure.storage.blob import ContainerClient

from calls import app_context, call_index, outbound_rate_limit
from calls.digest_timer import MARKER_TABLE
from calls.storage_tables import table_client
from calls.table_purge import delete_rows_before
from shared.retention import CALLS_PREFIX, HISTORY_FLOOR, PURGEABLE_STATUSES, expired_blob_names, retention_cutoff

bp = df.Blueprint()
log = logging.getLogger(__name__)
SCHEDULE = "0 17 3 * * *"  # daily at 03:17 UTC, off the hour when other jobs start


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    instances_deleted: int
    blobs_deleted: int
    recordings_deleted: int = 0
    index_rows_deleted: int = 0
    rate_rows_deleted: int = 0
    digest_rows_deleted: int = 0


def _delete_expired_blobs(container: ContainerClient, cutoff: datetime, prefix: str = CALLS_PREFIX) -> int:
    listed = ((blob.name, blob.last_modified) for blob in container.list_blobs(name_starts_with=prefix or None))
    deleted = 0
    for name in expired_blob_names(listed, cutoff, prefix):
        try:
            container.delete_blob(name, delete_snapshots="include")
            deleted += 1
        except ResourceNotFoundError:
            pass  # another run or the lifecycle rule got there first
    return deleted


async def purge_older_than(client: df.DurableOrchestrationClient, container: ContainerClient,
                           cutoff: datetime, recordings: ContainerClient | None = None) -> PurgeReport:
    history = await client.purge_instance_history_by(
        created_time_from=HISTORY_FLOOR, created_time_to=cutoff,
        runtime_status=[OrchestrationRuntimeStatus(status) for status in PURGEABLE_STATUSES])
    blobs = await asyncio.to_thread(_delete_expired_blobs, container, cutoff)
    recorded = await asyncio.to_thread(_delete_expired_blobs, recordings, cutoff, "") if recordings else 0
    index_rows = await asyncio.to_thread(call_index.purge_before, cutoff)
    rate_rows = await asyncio.to_thread(outbound_rate_limit.purge_before, app_context.settings().storage, cutoff)
    digests = await asyncio.to_thread(delete_rows_before, table_client(app_context.settings().storage, MARKER_TABLE),
                                      cutoff)
    return PurgeReport(cutoff, history.instances_deleted, blobs, recorded, index_rows, rate_rows, digests)


def _recordings_container() -> ContainerClient | None:
    """The bring-your-own-storage container (RECORDING_STORAGE_CONTAINER_URL), read with the app's identity."""
    url = app_context.recording_settings().storage_container_url
    if url is None:
        return None
    from azure.identity import DefaultAzureCredential

    return ContainerClient.from_container_url(url, credential=DefaultAzureCredential())


@bp.timer_trigger(schedule=SCHEDULE, arg_name="timer", run_on_startup=False, use_monitor=True)
@bp.durable_client_input(client_name="client")
async def retention_purge(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    cutoff = retention_cutoff(datetime.now(UTC), app_context.config().retention_days)
    report = await purge_older_than(client, app_context.transcripts_container(), cutoff, _recordings_container())
    log.info("Retention purge before %s: %d call histories, %d blobs, %d recordings, %d call-index rows and %d "
             "outbound-rate rows deleted", cutoff.isoformat(), report.instances_deleted, report.blobs_deleted,
             report.recordings_deleted, report.index_rows_deleted, report.rate_rows_deleted)
