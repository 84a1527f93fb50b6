"""The media host's room as ringing calls see it: one health read for the calls that ring together.

Each ringing call used to ask the media host for its room: one GET and one thread per call, and under a burst
every call of the same instant got the same figure, because the media host counts a call only once its socket
is open, which is after the answer. The gauge reads once for all the calls waiting at that moment (one read in
flight at a time), keeps a good reading for `FRESH_SECONDS`, and counts every call it hands that reading to as
one more call on the host. So a burst costs one read per `FRESH_SECONDS`, and the calls of one reading cannot
all take the last free place: stricter than a read per call, never more lenient. A failed read (the host
counts as full) is shared only by the calls that waited for it; the next call reads again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from shared.answer_policy import MediaCapacity

FRESH_SECONDS = 0.25

Read = Callable[[str], Coroutine[Any, Any, MediaCapacity | None]]


@dataclass
class _Reading:
    capacity: MediaCapacity
    taken_at: float
    handed: int = 0


class MediaCapacityGauge:
    def __init__(self, read: Read, clock: Callable[[], float] = time.monotonic,
                 fresh_seconds: float = FRESH_SECONDS) -> None:
        self._read = read
        self._clock = clock
        self._fresh_seconds = fresh_seconds
        self._readings: dict[str, _Reading] = {}
        self._in_flight: dict[str, asyncio.Task[MediaCapacity | None]] = {}

    async def room_for_one_more(self, url: str) -> MediaCapacity | None:
        """The host's room, counting the calls handed this reading before; None when it counts as full."""
        reading = self._readings.get(url)
        if reading is None or self._clock() - reading.taken_at > self._fresh_seconds:
            capacity = await self._read_once(url)
            if capacity is None:
                return None
            reading = self._readings.get(url)
            if reading is None or reading.capacity is not capacity:
                reading = self._readings[url] = _Reading(capacity, self._clock())
        calls = reading.capacity.calls + reading.handed
        reading.handed += 1
        return MediaCapacity(calls, reading.capacity.limit)

    async def _read_once(self, url: str) -> MediaCapacity | None:
        """The read in flight for `url` on this loop, or a new one: concurrent callers share it (shielded, so
        a caller that gives up does not cancel the read for the others)."""
        loop = asyncio.get_running_loop()
        flight = self._in_flight.get(url)
        if flight is None or flight.get_loop() is not loop or flight.done():
            flight = self._in_flight[url] = loop.create_task(self._read(url))
            flight.add_done_callback(lambda done: self._land(url, done))
        return await asyncio.shield(flight)

    def _land(self, url: str, flight: asyncio.Task[MediaCapacity | None]) -> None:
        if self._in_flight.get(url) is flight:
            del self._in_flight[url]
