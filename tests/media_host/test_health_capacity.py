"""The function app's capacity probe (calls/answer_policy.py) against the real media host's /healthz."""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect

from calls.answer_policy import media_capacity
from media_host.config import load_media_host_config
from media_host.server import serve_media_host
from shared.answer_policy import MediaCapacity
from tests.media_host.test_server import ws_url


def test_the_real_media_host_reports_its_room(media_env: dict[str, str]) -> None:
    config = load_media_host_config(dict(media_env, MEDIA_MAX_CONNECTIONS="1"))

    async def scenario() -> tuple[MediaCapacity | None, MediaCapacity | None]:
        async with serve_media_host(config, host="127.0.0.1", port=0) as host:
            url = f"http://127.0.0.1:{host.port}/healthz"
            empty = await media_capacity(url)
            async with connect(ws_url(host.port), compression=None):
                full = await media_capacity(url)
            return empty, full

    assert asyncio.run(scenario()) == (MediaCapacity(0, 1), MediaCapacity(1, 1))
