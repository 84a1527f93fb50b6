"""The retention purge against real parts: the dev host's Durable purge endpoint and Azurite. Finished calls
and blobs older than the cutoff go; running calls and younger blobs stay. The timer itself (not run by the dev
host) is called directly, as the Functions host would call it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from calls import app_context
from calls.retention_timer import purge_older_than, retention_purge
from shared import blob_names
from tests.conftest import _worker_loop, durable_client_binding
from tests.tools import sample_durable_app
from tools.dev_host import DevHost


def run(coroutine: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(coroutine, _worker_loop()).result(timeout=60)


@pytest.fixture
def container(app_env: pytest.MonkeyPatch, azurite_connection_string: str) -> Iterator[ContainerClient]:
    name = f"retention{datetime.now(UTC).strftime('%H%M%S%f')}"
    app_env.setenv("TRANSCRIPTS_CONTAINER", name)
    app_context.reset()
    client = BlobServiceClient.from_connection_string(azurite_connection_string).get_container_client(name)
    client.create_container()
    yield client
    client.delete_container()


@pytest.fixture
def host() -> Iterator:
    with DevHost(sample_durable_app.app, time_scale=0.01).run_in_thread() as running:
        yield running


def start(host, name: str, payload: object) -> str:
    async def go() -> str:
        client = df.DurableOrchestrationClient(durable_client_binding(host.base_url))
        return await client.start_new(name, None, payload)
    return run(go())


def put_call_blobs(container: ContainerClient, instance_id: str) -> None:
    container.upload_blob(blob_names.transcript_blob(instance_id), b'{"text":"hi"}\n')
    container.upload_blob(blob_names.summary_blob(instance_id), b"{}")
    container.upload_blob(blob_names.recording_blob(instance_id, 0, "wav"), b"RIFF")  # downloaded from ACS


def names(container: ContainerClient) -> set[str]:
    return {blob.name for blob in container.list_blobs()}


def test_finished_calls_and_old_blobs_are_purged_running_calls_kept(host, container: ContainerClient) -> None:
    finished = start(host, "timer_only", 1)
    running = start(host, "wait_for_events", {"timeout": 3600})
    host.wait_for_instance(finished, timeout=10)
    put_call_blobs(container, finished)
    container.upload_blob("unrelated/keep.txt", b"x")
    client = df.DurableOrchestrationClient(durable_client_binding(host.base_url))

    report = run(purge_older_than(client, container, datetime.now(UTC) + timedelta(seconds=5)))

    assert report.instances_deleted == 1
    assert report.blobs_deleted == 3  # the recording goes with the call
    assert host.instance_status(finished) is None
    assert host.instance_status(running)["runtimeStatus"] in ("Running", "Pending")
    assert names(container) == {"unrelated/keep.txt"}


def test_a_cutoff_in_the_past_keeps_everything(host, container: ContainerClient) -> None:
    finished = start(host, "timer_only", 1)
    host.wait_for_instance(finished, timeout=10)
    put_call_blobs(container, finished)
    client = df.DurableOrchestrationClient(durable_client_binding(host.base_url))
    report = run(purge_older_than(client, container, datetime.now(UTC) - timedelta(days=1)))
    assert (report.instances_deleted, report.blobs_deleted) == (0, 0)
    assert host.instance_status(finished)["runtimeStatus"] == "Completed"
    assert len(names(container)) == 3


def test_recordings_acs_wrote_into_our_container_are_purged_by_age(host, container: ContainerClient,
                                                                  azurite_connection_string: str) -> None:
    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    recordings = service.get_container_client(f"{container.container_name}-recordings")
    recordings.create_container()
    try:
        # Bring-your-own-storage: ACS's own folder layout, not calls/{id}/: the whole container is call data.
        recordings.upload_blob("20260101/call-1/rec-1/audio.wav", b"RIFF")
        client = df.DurableOrchestrationClient(durable_client_binding(host.base_url))
        kept = run(purge_older_than(client, container, datetime.now(UTC) - timedelta(days=1), recordings))
        assert kept.recordings_deleted == 0 and names(recordings) == {"20260101/call-1/rec-1/audio.wav"}
        report = run(purge_older_than(client, container, datetime.now(UTC) + timedelta(seconds=5), recordings))
        assert report.recordings_deleted == 1 and names(recordings) == set()
    finally:
        recordings.delete_container()


def test_the_timer_function_purges_by_retention_days(host, container: ContainerClient,
                                                     app_env: pytest.MonkeyPatch) -> None:
    finished = start(host, "timer_only", 1)
    host.wait_for_instance(finished, timeout=10)
    put_call_blobs(container, finished)
    app_env.setenv("RETENTION_DAYS", "1")
    run(retention_purge(timer=None, client=durable_client_binding(host.base_url)))
    # Everything is minutes old: one day of retention keeps it all.
    assert host.instance_status(finished)["runtimeStatus"] == "Completed"
    assert len(names(container)) == 3


def test_the_timer_function_purges_once_the_retention_has_passed(host, container: ContainerClient,
                                                                 app_env: pytest.MonkeyPatch) -> None:
    import calls.retention_timer as module

    finished = start(host, "timer_only", 1)
    host.wait_for_instance(finished, timeout=10)
    put_call_blobs(container, finished)
    app_env.setenv("RETENTION_DAYS", "1")

    class TwoDaysLater(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + timedelta(days=2)

    app_env.setattr(module, "datetime", TwoDaysLater)
    run(retention_purge(timer=None, client=durable_client_binding(host.base_url)))
    assert host.instance_status(finished) is None
    assert names(container) == set()


def test_call_index_and_outbound_rate_rows_of_days_past_retention_are_purged(
        host, container: ContainerClient, azurite_connection_string: str) -> None:
    from azure.data.tables import TableServiceClient

    from calls import call_index, outbound_rate_limit
    from calls.digest_timer import MARKER_TABLE
    from calls.storage_tables import table_client
    from shared.call_index_keys import started_entity
    from shared.outbound_call import rate_window

    storage = app_context.settings().storage
    index = call_index._table(storage)
    rate = outbound_rate_limit._table(storage)
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=40), now - timedelta(minutes=5)
    digests = table_client(storage, MARKER_TABLE)
    for moment, instance in ((old, "call-retention-old"), (recent, "call-retention-new")):
        index.upsert_entity(started_entity(instance, moment, "+1425***0100"))
        day, minute, _ = rate_window(moment)
        rate.upsert_entity({"PartitionKey": day, "RowKey": minute, "count": 1})
        digests.upsert_entity({"PartitionKey": day, "RowKey": "digest", "state": "sent"})
    client = df.DurableOrchestrationClient(durable_client_binding(host.base_url))

    report = run(purge_older_than(client, container, now - timedelta(days=30)))

    assert report.index_rows_deleted >= 1 and report.rate_rows_deleted >= 1 and report.digest_rows_deleted >= 1
    tables = TableServiceClient.from_connection_string(azurite_connection_string)
    left = {str(row["instanceId"]) for row in tables.get_table_client("callindex").list_entities()}
    assert "call-retention-old" not in left and "call-retention-new" in left
    days = {str(row["PartitionKey"]) for row in tables.get_table_client("outboundrate").list_entities()}
    assert rate_window(old)[0] not in days and rate_window(recent)[0] in days
    marked = {str(row["PartitionKey"]) for row in digests.list_entities()}
    assert rate_window(old)[0] not in marked and rate_window(recent)[0] in marked
