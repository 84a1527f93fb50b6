"""The Durable SDK's client connections: installed where the pinned SDK looks, and more than its 30 at once
against a real loopback server."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from calls import durable_connections
from calls.durable_connections import CONNECTIONS, http_utils


def test_the_hook_is_installed_where_the_pinned_sdk_calls_it() -> None:
    import function_app  # noqa: F401 - start-up installs it

    assert http_utils._get_session is durable_connections.pooled_session
    assert durable_connections.install()  # idempotent
    for request in (http_utils.post_async_request, http_utils.get_async_request, http_utils.delete_async_request):
        assert "_get_session" in request.__code__.co_names  # looked up by that global name at each call


def test_more_than_thirty_client_calls_reach_the_host_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    durable_connections.install()
    wanted = 60
    assert 30 < wanted <= CONNECTIONS

    async def scenario() -> int:
        monkeypatch.setattr(http_utils, "_client_session", None)
        monkeypatch.setattr(http_utils, "_session_lock", asyncio.Lock())
        in_flight, most = 0, 0
        all_arrived = asyncio.Event()

        async def held(request: web.Request) -> web.Response:
            nonlocal in_flight, most
            in_flight += 1
            try:
                most = max(most, in_flight)
                if most == wanted:
                    all_arrived.set()
                await asyncio.wait_for(all_arrived.wait(), 3)  # answers only once every request is in
            except TimeoutError:
                return web.json_response({}, status=503)
            finally:
                in_flight -= 1
            return web.json_response({})

        app = web.Application()
        app.router.add_post("/raise", held)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            await asyncio.gather(*(http_utils.post_async_request(f"http://127.0.0.1:{port}/raise", {})
                                   for _ in range(wanted)))
        finally:
            await http_utils._close_session()
            await runner.cleanup()
        return most

    assert asyncio.run(scenario()) == wanted  # with the SDK's 30 connections, 30 would wait for the others


def test_an_sdk_without_the_hook_keeps_working_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delattr(http_utils, "_get_session")
    assert not durable_connections.install()
    assert "connection limit" in caplog.text
