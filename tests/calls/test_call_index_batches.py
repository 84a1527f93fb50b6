"""calls.call_index_batches against Azurite: start rows land in one transaction per day, a failed transaction is
written row by row, and two rows of one call are merged."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.data.tables import TableClient

from calls.call_index_batches import StartRowWriter
from calls.storage_tables import table_client
from shared.call_index_keys import started_entity
from shared.settings import StorageSettings

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def storage(azurite_connection_string: str) -> StorageSettings:
    return StorageSettings(connection_string=azurite_connection_string, blob_service_uri=None,
                           transcripts_container="transcripts")


def _rows(table: TableClient, instance_prefix: str) -> dict[str, dict[str, Any]]:
    return {entity["instanceId"]: dict(entity) for entity in table.list_entities()
            if str(entity.get("instanceId", "")).startswith(instance_prefix)}


class CountingTables:
    """The real Table client, with its transactions counted (what the test asserts is what lands in Azurite)."""

    def __init__(self, name: str) -> None:
        self.name, self.transactions = name, 0

    def __call__(self, storage: StorageSettings) -> Any:
        return CountedTable(self, table_client(storage, self.name))


class CountedTable:
    def __init__(self, tables: CountingTables, real: TableClient) -> None:
        self.tables, self.real = tables, real

    def submit_transaction(self, *args: Any, **kwargs: Any) -> Any:
        self.tables.transactions += 1
        return self.real.submit_transaction(*args, **kwargs)

    def upsert_entity(self, *args: Any, **kwargs: Any) -> Any:
        return self.real.upsert_entity(*args, **kwargs)


def test_a_burst_of_start_rows_lands_as_one_transaction_per_day(storage: StorageSettings) -> None:
    tables = CountingTables("callindexbatchtest")
    writer = StartRowWriter(tables)
    rows = [(storage, started_entity(f"batch-a-{n:03d}", DAY + timedelta(days=n % 2, seconds=n), "4:+1 *** 23"))
            for n in range(60)]
    writer.write(rows)
    assert tables.transactions == 2  # two days, two partitions
    landed = _rows(table_client(storage, tables.name), "batch-a-")
    assert len(landed) == 60 and all(row["caller"] == "4:+1 *** 23" for row in landed.values())


def test_a_failed_transaction_is_written_row_by_row(storage: StorageSettings) -> None:
    tables = CountingTables("callindexbatchtest")
    good = [started_entity(f"batch-b-{n}", DAY + timedelta(seconds=n), "4:+1 *** 23") for n in range(3)]
    bad = {**started_entity("batch-b-bad", DAY, "4:+1 *** 23"), "RowKey": "has/a/slash"}  # refused by Table storage
    StartRowWriter(tables).write([(storage, row) for row in [*good, bad]])
    assert set(_rows(table_client(storage, tables.name), "batch-b-")) == {"batch-b-0", "batch-b-1", "batch-b-2"}


def test_two_rows_of_one_call_in_a_batch_are_merged(storage: StorageSettings) -> None:
    tables = CountingTables("callindexbatchtest")
    first = started_entity("batch-c-1", DAY, "4:+1 *** 23")
    again = {**first, "direction": "outbound"}
    StartRowWriter(tables).write([(storage, first), (storage, again)])
    (row,) = _rows(table_client(storage, tables.name), "batch-c-").values()
    assert row["direction"] == "outbound"


def test_rows_queued_together_are_written_together_by_the_thread(storage: StorageSettings) -> None:
    tables = CountingTables("callindexbatchtest")
    writer = StartRowWriter(tables, linger_seconds=0.5)
    for n in range(5):
        writer.submit(storage, started_entity(f"batch-d-{n}", DAY + timedelta(seconds=n), "4:+1 *** 23"))
    table = table_client(storage, tables.name)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while len(_rows(table, "batch-d-")) < 5 and datetime.now(UTC) < deadline:
        time.sleep(0.05)
    assert len(_rows(table, "batch-d-")) == 5
    assert tables.transactions == 1
