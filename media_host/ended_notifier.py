"""Tells the function app that a call's media socket closed:
`POST {CALLBACK_BASE_URL}/api/media/{instanceId}/ended?token={token}` with the media.json body.

Bounded: a few attempts with short timeouts inside one overall deadline, so a slow or absent function app
never holds a call's clean-up (or the host's shutdown) for long. 4xx answers other than 408/429 are final.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from shared.media_codec import encode_json

log = logging.getLogger("media_host.ended_notifier")


def ended_url(base_url: str, instance_id: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/api/media/{quote(instance_id, safe='')}/ended?token={quote(token, safe='')}"


class EndedNotifier:
    def __init__(
        self,
        base_url: str,
        *,
        attempts: int = 3,
        attempt_timeout: float = 5.0,
        deadline_seconds: float = 10.0,
        backoff: float = 0.5,
    ) -> None:
        self._base_url = base_url
        self._attempts = attempts
        self._attempt_timeout = attempt_timeout
        self._deadline = deadline_seconds
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, instance_id: str, token: str, summary: dict[str, Any]) -> bool:
        """POST the summary; True when the function app accepted it (2xx)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = ended_url(self._base_url, instance_id, token)
        body = encode_json(summary)
        end = time.monotonic() + self._deadline
        for attempt in range(self._attempts):
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            status: int | None = None
            try:
                timeout = aiohttp.ClientTimeout(total=min(self._attempt_timeout, remaining))
                async with self._session.post(url, data=body, timeout=timeout,
                                              headers={"Content-Type": "application/json"}) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                log.warning("media-ended notification failed: %s", type(error).__name__,
                            extra={"instanceId": instance_id, "attempt": attempt + 1})
            if status is not None:
                if 200 <= status < 300:
                    return True
                log.warning("media-ended notification answered %d", status,
                            extra={"instanceId": instance_id, "attempt": attempt + 1})
                if 400 <= status < 500 and status not in (408, 429):
                    return False
            await asyncio.sleep(min(self._backoff * (2**attempt), max(0.0, end - time.monotonic())))
        return False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
