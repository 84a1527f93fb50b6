"""POSTs callbacks in order, one event per request as ACS does, with optional scripted disorder
(each event delivered twice; adjacent events swapped). Thin asyncio shell over aiohttp."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from tools.acs_simulator.results import HttpDelivery, RequestSigner

REORDER_HOLD_S = 0.3  # how long a held event waits for a successor to swap with


async def post_json(session: aiohttp.ClientSession, url: str, payload: Any, headers: dict[str, str],
                    timeout_s: float = 30.0) -> tuple[int | None, bytes, str]:
    """(status, body, error); never raises for network failures, which are recorded instead."""
    try:
        async with session.post(url, data=json.dumps(payload).encode("utf-8"), headers=headers,
                                timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            return response.status, await response.read(), ""
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return None, b"", f"{type(exc).__name__}: {exc}"


class CallbackSender:
    def __init__(self, session: aiohttp.ClientSession, clock: Callable[[], float], *,
                 signer: RequestSigner | None = None,
                 duplicate: bool = False, reorder: bool = False) -> None:
        self._session = session
        self._clock = clock  # seconds since the scenario started
        self._signer = signer
        self._duplicate = duplicate
        self._reorder = reorder
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()
        self.deliveries: list[HttpDelivery] = []
        self._worker = asyncio.create_task(self._run())

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._session

    def send(self, url: str, event: dict[str, Any]) -> None:
        self._queue.put_nowait((url, event))

    async def close(self) -> None:
        """Deliver everything queued, then stop."""
        self._queue.put_nowait(None)
        await self._worker

    async def _post(self, url: str, event: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json"}
        if self._signer is not None:
            headers.update(self._signer(url))
        for _ in range(2 if self._duplicate else 1):
            status, _, error = await post_json(self._session, url, [event], headers, timeout_s=10.0)
            kind = str(event.get("type", "")).removeprefix("Microsoft.Communication.")
            self.deliveries.append(HttpDelivery(kind, str(event.get("id")), url, status, error, self._clock()))

    async def _run(self) -> None:
        held: tuple[str, dict[str, Any]] | None = None
        while True:
            if held is None:
                item = await self._queue.get()
            else:
                try:
                    item = await asyncio.wait_for(self._queue.get(), REORDER_HOLD_S)
                except TimeoutError:
                    await self._post(*held)
                    held = None
                    continue
            if item is None:
                if held is not None:
                    await self._post(*held)
                return
            if not self._reorder:
                await self._post(*item)
            elif held is None:
                held = item
            else:
                await self._post(*item)  # the later event first: adjacent pairs arrive swapped
                await self._post(*held)
                held = None
