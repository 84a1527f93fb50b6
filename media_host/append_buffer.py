"""Per-call buffered appends to the transcript blob, off the audio loop, retried on failure.

`add()` never blocks and never raises: it puts the line in a bounded in-memory buffer and wakes a
background flusher, which appends everything buffered as one block. The append callable receives the
offset the previous append ended at, so that a retried append is not written twice (see
`CallBlobStore.append`). So a segment reaches the blob about
one round trip after it became final (kill -9 loses at most what is in flight), and a storage outage
only delays lines: they stay buffered and are retried with capped backoff.

Full policy: the buffer holds at most `max_buffered_bytes`; past that the OLDEST lines are dropped and
counted in `dropped_lines` (a stuck storage account must not grow memory without bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger("media_host.append_buffer")

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


class AppendBuffer:
    def __init__(
        self,
        append: Callable[[bytes, int | None], Awaitable[int]],
        *,
        max_buffered_bytes: int = 1024 * 1024,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self._append = append
        self._max_bytes = max_buffered_bytes
        self._retry_delays = retry_delays
        self._lines: deque[bytes] = deque()
        self._buffered_bytes = 0
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._offset: int | None = None  # the blob's length after our last append, once known
        self.appended_lines = 0
        self.dropped_lines = 0
        self.failures = 0

    @property
    def pending_lines(self) -> int:
        return len(self._lines)

    def add(self, line: str) -> None:
        data = line.encode("utf-8")
        self._lines.append(data)
        self._buffered_bytes += len(data)
        while self._buffered_bytes > self._max_bytes and len(self._lines) > 1:
            self._buffered_bytes -= len(self._lines.popleft())
            self.dropped_lines += 1
            if self._in_flight:
                self._in_flight -= 1  # the dropped line was part of the batch being sent
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    async def _flush_once(self) -> None:
        batch = list(self._lines)
        self._in_flight = len(batch)
        try:
            self._offset = await self._append(b"".join(batch), self._offset)
        except BaseException:
            self._in_flight = 0
            raise
        # Lines added while the append was in flight stay queued; only what is left of the sent batch is
        # removed (lines dropped meanwhile for a full buffer were already taken off `_in_flight`).
        for _ in range(self._in_flight):
            self._buffered_bytes -= len(self._lines.popleft())
        self._in_flight = 0
        self.appended_lines += len(batch)

    async def _run(self) -> None:
        attempt = 0
        while True:
            if not self._lines:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._flush_once()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - storage errors of any kind: keep the lines, retry later
                self.failures += 1
                delay = self._retry_delays[min(attempt, len(self._retry_delays) - 1)]
                attempt += 1
                log.warning("transcript append failed (%s); retrying in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)

    async def close(self, timeout: float) -> bool:
        """Flush what is buffered, trying until `timeout`. True when nothing is left unwritten."""
        self._closing = True
        self._wake.set()
        if self._task is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return not self._lines
