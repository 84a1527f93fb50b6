"""A loopback aiohttp server standing in for the function app's media-host routes
(`POST /api/media/{instanceId}/{actions|silence}?token=`): records each request, answers like the app does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp.web


@dataclass
class RecordedRequest:
    route: str
    instance_id: str
    query: dict[str, str]
    headers: dict[str, str]
    body: object
    at: float = field(default_factory=time.monotonic)  # when it arrived, on the test's clock


@dataclass
class FunctionAppStandIn:
    port: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    status: int = 202  # what every request is answered with

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def of(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    async def wait_for(self, route: str, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.of(route)) < count and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        return self.of(route)

    async def _handle(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        route, instance_id = request.match_info["route"], request.match_info["instance"]
        self.requests.append(RecordedRequest(route, instance_id, dict(request.query), dict(request.headers),
                                             await request.json()))
        if self.status != 202:
            return aiohttp.web.json_response({"error": "unavailable", "message": "down"}, status=self.status)
        if route == "actions":
            return aiohttp.web.json_response({"instanceId": instance_id, "actionId": "action-1",
                                              "status": "accepted"}, status=202)
        return aiohttp.web.json_response({"instanceId": instance_id}, status=202)


@asynccontextmanager
async def function_app_stand_in() -> AsyncIterator[FunctionAppStandIn]:
    stand_in = FunctionAppStandIn()
    app = aiohttp.web.Application()
    app.router.add_post("/api/media/{instance}/{route}", stand_in._handle)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stand_in.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield stand_in
    finally:
        await runner.cleanup()
