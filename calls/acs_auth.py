"""Bearer-token checks for the function app's HTTP functions: ACS on callbacks, Entra on Event Grid deliveries.

A thin shell over `adapters/jwks_keys.BearerVerifier`: it turns a rejection into the HTTP answer. A missing or
invalid token is 401 (never retried by Event Grid, and ACS does not retry it either); keys that cannot be
fetched are 503, because the request may be genuine and the sender retries. The check (and a key-set fetch: first
request, rotation) runs in a thread, so it never stalls the worker's event loop and the other calls it serves.
"""

from __future__ import annotations

import asyncio
import logging

import azure.functions as func

from adapters.jwks_keys import BearerVerifier, KeysUnavailable
from calls.http_responses import json_response
from shared.acs_jwt import JwtRejected

log = logging.getLogger(__name__)


async def refuse_unauthenticated(verifier: BearerVerifier | None, req: func.HttpRequest,
                                 what: str) -> func.HttpResponse | None:
    """None when the request's bearer token is valid (or no verifier is configured), else the refusal."""
    if verifier is None:
        return None
    authorization = req.headers.get("authorization")
    try:
        # Always in a thread: an RS256 check (PyJWT's base64 validation is pure Python) holds the worker's loop for
        # milliseconds, and under a burst every callback's check delayed the IncomingCalls queued behind it.
        await asyncio.to_thread(verifier.verify, authorization)
    except JwtRejected as rejected:
        log.warning("Rejected %s: %s", what, rejected.reason)
        return json_response(401, {"error": "unauthorized", "message": rejected.reason, "path": "Authorization"},
                             headers={"WWW-Authenticate": "Bearer"})
    except KeysUnavailable as error:
        log.error("Cannot authenticate %s: %s", what, error)
        return json_response(503, {"error": "unavailable", "message": "signing keys unavailable; try again",
                                   "path": ""})
    return None
