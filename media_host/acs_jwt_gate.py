"""ACS's bearer JWT on the media WebSocket handshake, checked before the upgrade and before routing.

Wraps the server's `process_request`: every request but the probes (`/healthz`, `/readyz`) must carry
`Authorization: Bearer <jwt>` signed by ACS for our resource (`ACS_RESOURCE_ID`), else 401 with a JSON body.
The JWT names no call; the per-call token in the path (checked by the wrapped `process_request`) binds the
socket to its call. Verifying with a cached key is CPU only; a fetch (first use, rotation) runs in a thread
so other calls' audio keeps flowing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from adapters.jwks_keys import BearerVerifier, KeysUnavailable
from shared.acs_jwt import JwtRejected
from shared.security_settings import JwtSource

log = logging.getLogger("media_host.acs_jwt_gate")
PROBE_PATHS = ("/healthz", "/readyz")
ProcessRequest = Callable[[ServerConnection, Request], "Response | None | Awaitable[Response | None]"]


def verifier_for(source: JwtSource | None) -> BearerVerifier | None:
    return BearerVerifier(source) if source is not None else None


def _refusal(status: int, body: dict[str, str]) -> Response:
    headers = Headers()
    headers["Content-Type"] = "application/json"
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    data = json.dumps(body).encode()
    headers["Content-Length"] = str(len(data))
    reason = {401: "Unauthorized", 503: "Service Unavailable"}[status]
    return Response(status, reason, headers, data)


async def _check(verifier: BearerVerifier, authorization: str | None) -> Response | None:
    try:
        if verifier.needs_fetch(authorization):
            await asyncio.to_thread(verifier.verify, authorization)
        else:
            verifier.verify(authorization)
    except JwtRejected as rejected:
        log.warning("media socket refused: %s", rejected.reason)
        return _refusal(401, {"error": "unauthorized", "reason": rejected.reason})
    except KeysUnavailable:
        log.error("media socket refused: ACS signing keys unavailable")
        return _refusal(503, {"error": "signing keys unavailable"})
    return None


def with_acs_jwt(inner: ProcessRequest, verifier: BearerVerifier | None) -> ProcessRequest:
    """`inner`, preceded by the JWT check (unchanged when no verifier is configured)."""
    if verifier is None:
        return inner

    async def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path not in PROBE_PATHS:
            refusal = await _check(verifier, request.headers.get("Authorization"))
            if refusal is not None:
                return refusal
        response = inner(connection, request)
        return await response if isinstance(response, Awaitable) else response

    return process_request


async def warm(verifier: BearerVerifier | None) -> None:
    """Fetch ACS's key set at start-up so the first call does not wait; failure is logged, not fatal."""
    if verifier is None:
        return
    try:
        await asyncio.to_thread(verifier.keys.warm)
    except Exception as error:  # noqa: BLE001 - retried on the first socket
        log.warning("could not prefetch ACS signing keys: %s", type(error).__name__)
