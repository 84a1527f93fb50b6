"""The function app's capacity probe (calls/answer_policy.py) against the real media host's /healthz."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from calls.answer_policy import media_capacity
from media_host.config import load_media_host_config
from media_host.server import serve_media_host
from shared.answer_policy import MediaCapacity
from shared.settings import SettingsError
from tests.media_host.test_server import http_get, ws_url


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


def test_a_call_with_media_and_transcription_sockets_counts_once(media_env: dict[str, str]) -> None:
    # Four sockets: room for two calls of two sockets each (MEDIA_MAX_CALLS defaults to half).
    config = load_media_host_config(dict(media_env, MEDIA_MAX_CONNECTIONS="4"))
    assert config.max_calls == 2

    async def scenario() -> None:
        async with serve_media_host(config, host="127.0.0.1", port=0) as host:
            url = f"http://127.0.0.1:{host.port}/healthz"
            async with connect(ws_url(host.port, "call-a"), compression=None), \
                    connect(ws_url(host.port, "call-a", query="/transcription"), compression=None):
                assert await media_capacity(url) == MediaCapacity(1, 2)  # two sockets, one call: half full
                assert (await asyncio.to_thread(http_get, host.port, "/readyz"))[0] == 200
                async with connect(ws_url(host.port, "call-b"), compression=None):
                    assert await media_capacity(url) == MediaCapacity(2, 2)
                    assert await asyncio.to_thread(http_get, host.port, "/readyz") == \
                        (503, {"ready": False, "calls": 2})
                    with pytest.raises(InvalidStatus) as refused:  # a third call is beyond the call limit
                        async with connect(ws_url(host.port, "call-c"), compression=None):
                            pass
                    assert refused.value.response.status_code == 503
                    # The admitted call's second socket still fits.
                    async with connect(ws_url(host.port, "call-b", query="/transcription"), compression=None):
                        assert (await asyncio.to_thread(http_get, host.port, "/healthz"))[1] == \
                            {"status": "ok", "calls": 2, "limit": 2, "sockets": 4, "socketLimit": 4}

    asyncio.run(scenario())


def test_a_call_limit_that_the_sockets_cannot_hold_stops_the_start(media_env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="MEDIA_MAX_CALLS"):
        load_media_host_config(dict(media_env, MEDIA_MAX_CONNECTIONS="4", MEDIA_MAX_CALLS="3"))
    assert load_media_host_config(dict(media_env, MEDIA_MAX_CONNECTIONS="10", MEDIA_MAX_CALLS="3")).max_calls == 3
