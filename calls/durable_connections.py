"""More connections for the Durable SDK's client calls: a private hook, measured, isolated and guarded.

azure-functions-durable 1.x sends every client call (start, raise event, status) through one process-wide
aiohttp session whose connector allows 30 connections to the host (models/utils/http_utils.py `_get_session`).
Under a burst of ringing calls each IncomingCall needs one start while the calls answered a moment earlier
raise their callbacks over the same 30 connections, so the start queued for a connection: with 100 calls in
1 s (`python -m bench.e2e_load`) the start took 220-290 ms at p50; with `CONNECTIONS` it took about 90 ms.

`install` points the SDK's `_get_session` at `pooled_session`, which builds the same session (the SDK's
timeouts, its module globals `_client_session` and `_session_lock`, so its own close and reset still apply)
with `CONNECTIONS` connections, aiohttp's own default. tests/calls/test_durable_connections.py checks that
the pinned SDK still reaches the session through that name; an SDK that does not keeps its 30 and says so.
"""

from __future__ import annotations

import importlib
import logging

import aiohttp

log = logging.getLogger(__name__)

http_utils = importlib.import_module("azure.durable_functions.models.utils.http_utils")

CONNECTIONS = 100
# The SDK's own timeouts (http_utils._get_session): localhost IPC with the host.
TIMEOUT = aiohttp.ClientTimeout(total=240, sock_connect=10, sock_read=None)


async def pooled_session() -> aiohttp.ClientSession:
    """The SDK's shared session, created with CONNECTIONS connections when there is none (or it was closed)."""
    session: aiohttp.ClientSession | None = http_utils._client_session
    if session is None or session.closed:
        async with http_utils._session_lock:
            session = http_utils._client_session
            if session is None or session.closed:
                connector = aiohttp.TCPConnector(limit=CONNECTIONS, limit_per_host=CONNECTIONS,
                                                 enable_cleanup_closed=True)
                session = aiohttp.ClientSession(timeout=TIMEOUT, connector=connector)
                http_utils._client_session = session  # type: ignore[attr-defined]
    return session


def install() -> bool:
    """Point the SDK at `pooled_session`; False (and a warning) when the SDK has no such hook."""
    current = getattr(http_utils, "_get_session", None)
    if current is pooled_session:
        return True
    if current is None or not hasattr(http_utils, "_client_session") or not hasattr(http_utils, "_session_lock"):
        log.warning("Durable SDK has no _get_session hook: its client keeps its own connection limit")
        return False
    http_utils._get_session = pooled_session  # type: ignore[attr-defined]
    return True
