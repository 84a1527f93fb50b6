"""calls.media_capacity_gauge: calls that ring together share one health read against a real loopback host, and
each counts as one more call on it; a reading ages out, and a failed one is not kept."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest

from calls.answer_policy import media_capacity
from calls.media_capacity_gauge import FRESH_SECONDS, MediaCapacityGauge
from shared.answer_policy import MediaCapacity


class HealthHost:
    """A media host's /healthz on loopback that answers slowly and counts the reads."""

    def __init__(self, calls: int, limit: int, delay_s: float = 0.05) -> None:
        self.calls, self.limit, self.delay_s, self.reads, self.broken = calls, limit, delay_s, 0, False
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                host.reads += 1
                time.sleep(host.delay_s)
                body = b"not json" if host.broken else json.dumps({"calls": host.calls, "limit": host.limit}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/healthz"


@pytest.fixture
def host() -> Iterator[HealthHost]:
    serving = HealthHost(calls=3, limit=10)
    yield serving
    serving.server.shutdown()
    serving.server.server_close()


def test_calls_that_ring_together_share_one_read_and_count_each_other(host: HealthHost) -> None:
    gauge = MediaCapacityGauge(media_capacity)

    async def burst() -> list[MediaCapacity | None]:
        return list(await asyncio.gather(*(gauge.room_for_one_more(host.url) for _ in range(12))))

    rooms = asyncio.run(burst())
    assert host.reads == 1
    # The host said 3 of 10: the calls handed that reading are counted on top, so only 7 see room.
    assert sorted(room.calls for room in rooms if room is not None) == list(range(3, 15))
    assert sum(1 for room in rooms if room is not None and room.calls < room.limit) == 7


def test_a_reading_ages_out_and_is_read_again(host: HealthHost) -> None:
    now = [100.0]
    gauge = MediaCapacityGauge(media_capacity, clock=lambda: now[0])
    assert asyncio.run(gauge.room_for_one_more(host.url)) == MediaCapacity(3, 10)
    now[0] += FRESH_SECONDS / 2
    assert asyncio.run(gauge.room_for_one_more(host.url)) == MediaCapacity(4, 10)  # same reading, one more call
    host.calls = 5
    now[0] += FRESH_SECONDS
    assert asyncio.run(gauge.room_for_one_more(host.url)) == MediaCapacity(5, 10)  # a new reading, none handed yet
    assert host.reads == 2


def test_a_failed_read_counts_as_full_and_is_not_kept(host: HealthHost) -> None:
    gauge = MediaCapacityGauge(media_capacity)
    host.broken = True
    assert asyncio.run(gauge.room_for_one_more(host.url)) is None
    host.broken = False
    assert asyncio.run(gauge.room_for_one_more(host.url)) == MediaCapacity(3, 10)
    assert host.reads == 2


def test_a_caller_that_gives_up_does_not_cancel_the_read_for_the_others(host: HealthHost) -> None:
    gauge = MediaCapacityGauge(media_capacity)

    async def one_gives_up() -> MediaCapacity | None:
        impatient = asyncio.ensure_future(gauge.room_for_one_more(host.url))
        patient = asyncio.ensure_future(gauge.room_for_one_more(host.url))
        await asyncio.sleep(0.01)
        impatient.cancel()
        return await patient

    assert asyncio.run(one_gives_up()) == MediaCapacity(3, 10)
    assert host.reads == 1
