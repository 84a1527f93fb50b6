"""Start rows of the call index, written in batches off the answer path.

A burst of ringing calls wrote one start row each, one Table request each, in the very process answering them.
The writer thread takes what was queued within `LINGER_SECONDS` (at most `MAX_ROWS`) and writes each day's rows
as one entity-group transaction (Table storage: up to 100 operations on one partition key, all or nothing).
A transaction that fails is written again row by row, so a bad row loses only itself. The rows of one call in
one batch are merged first (a transaction may touch each entity once). The rows are upsert-merges either way,
so the index is the same as when each row was written alone; it only lands up to `LINGER_SECONDS` later.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from azure.data.tables import TableClient, UpdateMode

from shared.settings import StorageSettings

log = logging.getLogger(__name__)

LINGER_SECONDS = 0.2
MAX_ROWS = 100  # Table storage's limit of operations in one transaction

Row = tuple[StorageSettings, dict[str, str]]


class StartRowWriter:
    def __init__(self, table: Callable[[StorageSettings], TableClient], linger_seconds: float = LINGER_SECONDS) -> None:
        self._table = table
        self._linger_seconds = linger_seconds
        self._queue: queue.SimpleQueue[Row] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, storage: StorageSettings, entity: dict[str, str]) -> None:
        """Queue one row; the writer thread starts with the first."""
        self._queue.put((storage, entity))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="call-index", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self.write(self._next_batch())

    def _next_batch(self) -> list[Row]:
        batch = [self._queue.get()]
        deadline = time.monotonic() + self._linger_seconds
        while len(batch) < MAX_ROWS:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def write(self, batch: Iterable[Row]) -> None:
        """One transaction per table and partition; row by row where a transaction fails."""
        for (storage, _), entities in _grouped(batch).items():
            table = self._table(storage)
            try:
                table.submit_transaction([("upsert", entity, {"mode": UpdateMode.MERGE}) for entity in entities])
            except Exception as error:  # noqa: BLE001 - one bad row, or storage down: each row on its own
                log.info("Call index: a batch of %d start rows failed (%s); writing them one by one",
                         len(entities), type(error).__name__)
                for entity in entities:
                    self._write_one(table, entity)

    @staticmethod
    def _write_one(table: TableClient, entity: dict[str, str]) -> None:
        try:
            table.upsert_entity(entity, mode=UpdateMode.MERGE)
        except Exception as error:  # noqa: BLE001 - the index must never break a call; the end write repairs it
            log.warning("Call index: start of %s not recorded: %s", entity.get("instanceId"), type(error).__name__)


def _grouped(batch: Iterable[Row]) -> dict[tuple[StorageSettings, str], list[dict[str, str]]]:
    groups: dict[tuple[StorageSettings, str], dict[str, dict[str, str]]] = {}
    for storage, entity in batch:
        rows = groups.setdefault((storage, entity["PartitionKey"]), {})
        rows[entity["RowKey"]] = {**rows.get(entity["RowKey"], {}), **entity}
    return {key: list(rows.values()) for key, rows in groups.items()}
