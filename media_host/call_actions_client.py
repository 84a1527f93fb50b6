"""The media host's side of call control: ask the function app for a transfer or hang-up, report silence.

- `POST {CALLBACK_BASE_URL}/api/media/{instanceId}/actions?token=...` with `{"action": "transfer", "target"}`
  or `{"action": "hang_up"}`: 202 `{"actionId"}`; the call's orchestration performs it.
- `POST {CALLBACK_BASE_URL}/api/media/{instanceId}/silence?token=...` with `{"silentMs", "utterances"}`
  (see shared/caller_silence.py for when).

Authenticated by the per-call token the media host already holds from the WebSocket URL. Bounded like the
media-ended notification: a few short attempts, 4xx other than 408/429 final. Action requests carry an
`Idempotency-Key`, so a retried POST never becomes a second action.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from shared.caller_silence import SilenceReport

log = logging.getLogger("media_host.call_actions_client")


def media_route_url(base_url: str, instance_id: str, route: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/api/media/{quote(instance_id, safe='')}/{route}?token={quote(token, safe='')}"


@dataclass(frozen=True)
class ActionReply:
    status: int | None  # None when the function app could not be reached
    action_id: str | None = None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 202


class CallActionsClient:
    def __init__(self, base_url: str, *, attempts: int = 3, attempt_timeout: float = 5.0,
                 backoff: float = 0.3) -> None:
        self._base_url = base_url
        self._attempts = attempts
        self._attempt_timeout = attempt_timeout
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    async def _post(self, url: str, body: dict[str, Any], headers: dict[str, str], instance_id: str
                    ) -> tuple[int | None, dict[str, Any]]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        for attempt in range(self._attempts):
            try:
                timeout = aiohttp.ClientTimeout(total=self._attempt_timeout)
                async with self._session.post(url, data=json.dumps(body), timeout=timeout,
                                              headers={"Content-Type": "application/json", **headers}) as response:
                    text = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                log.warning("call-control request failed: %s", type(error).__name__,
                            extra={"instanceId": instance_id, "attempt": attempt + 1})
            else:
                try:
                    answer = json.loads(text) if text else {}
                except ValueError:
                    answer = {}
                if status < 500 and status not in (408, 429):
                    return status, answer if isinstance(answer, dict) else {}
            await asyncio.sleep(self._backoff * (2**attempt))
        return None, {}

    async def request_action(self, instance_id: str, token: str, action: dict[str, Any]) -> ActionReply:
        """Ask for `{"action": "transfer", "target": "+1..."}` or `{"action": "hang_up"}`."""
        url = media_route_url(self._base_url, instance_id, "actions", token)
        status, answer = await self._post(url, action, {"Idempotency-Key": str(uuid.uuid4())}, instance_id)
        action_id = answer.get("actionId")
        error = answer.get("message")
        return ActionReply(status, action_id if isinstance(action_id, str) else None,
                           error if isinstance(error, str) else None)

    async def report_silence(self, instance_id: str, token: str, report: SilenceReport) -> bool:
        url = media_route_url(self._base_url, instance_id, "silence", token)
        status, _ = await self._post(url, report.to_json(), {}, instance_id)
        return status is not None and 200 <= status < 300

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
