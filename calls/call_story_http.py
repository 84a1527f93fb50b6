"""Ops endpoints for reading calls (function-key auth):

- `GET /api/calls/{instanceId}`: the call's story as JSON (shared/call_story.py), from its Durable status
  with history;
- `GET /api/calls/{instanceId}/view`: the same story as a small HTML page that draws the timeline;
- `GET /api/calls?from=&to=&outcome=&limit=&continuation=`: the calls ringing in a time range, newest first,
  optionally only those with one outcome, a page at a time, from the call index (calls/call_index.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import azure.durable_functions as df
import azure.functions as func

from calls import call_index
from calls.http_responses import json_response
from shared.call_activity_names import ORCHESTRATOR as ORCHESTRATOR_NAME
from shared.call_index_keys import BadCursor, Cursor, decode_cursor, encode_cursor
from shared.call_lifecycle import parse_time
from shared.call_story import build_call_story
from shared.call_story_page import render_call_story_page
from shared.call_token import is_valid_instance_id

bp = df.Blueprint()
log = logging.getLogger(__name__)

MAX_LISTED_CALLS = 500
DEFAULT_PAGE_SIZE = 100
DEFAULT_LIST_WINDOW = timedelta(days=1)
# A year of day partitions; wider ranges would mostly walk empty days.
MAX_LIST_WINDOW = timedelta(days=366)
MAX_OUTCOME_CHARS = 40
# The page has no script at all; inline styles only.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _status_json(status: Any) -> dict[str, Any] | None:
    """The status as the HTTP API's JSON, history included (the SDK keeps it in `historyEvents`, #345)."""
    if not status or getattr(status, "instance_id", None) is None:
        return None
    document: dict[str, Any] = status.to_json()
    document["historyEvents"] = getattr(status, "historyEvents", None) or status.history or []
    return document


async def _story(client: df.DurableOrchestrationClient, instance_id: str) -> dict[str, Any] | None:
    try:
        status = await client.get_status(instance_id, show_history=True, show_history_output=True,
                                         show_input=True)
    except Exception:  # noqa: BLE001 - the SDK raises a bare exception when the host answers 404 without a body
        return None
    document = _status_json(status)
    if document is None or document.get("name") != ORCHESTRATOR_NAME:
        return None
    return build_call_story(document)


def _refuse_instance_id(instance_id: str) -> func.HttpResponse | None:
    if is_valid_instance_id(instance_id):
        return None
    return json_response(400, {"error": "bad_request", "message": "invalid instance id", "path": "instanceId"})


async def _requested_story(req: func.HttpRequest, client: df.DurableOrchestrationClient
                           ) -> tuple[dict[str, object], None] | tuple[dict[str, object], func.HttpResponse]:
    """The story of the call the route names, or the 400/404 that refuses the request."""
    instance_id = req.route_params.get("instanceId", "")
    refusal = _refuse_instance_id(instance_id)
    if refusal is not None:
        return {}, refusal
    story = await _story(client, instance_id)
    if story is None:
        return {}, json_response(404, {"error": "not_found", "message": "no such call", "path": "instanceId"})
    return story, None


@bp.route(route="calls/{instanceId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def call_story(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    story, refusal = await _requested_story(req, client)
    if refusal is not None:
        return refusal
    return json_response(200, story, {"Cache-Control": "no-store"})


@bp.route(route="calls/{instanceId}/view", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def call_story_view(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    story, refusal = await _requested_story(req, client)
    if refusal is not None:
        return refusal
    return func.HttpResponse(render_call_story_page(story), status_code=200, mimetype="text/html",
                             charset="utf-8", headers=PAGE_HEADERS)


def _time_param(req: func.HttpRequest, name: str) -> tuple[datetime | None, func.HttpResponse | None]:
    raw = req.params.get(name)
    if raw is None or raw == "":
        return None, None
    moment = parse_time(raw)
    if moment is None:
        return None, json_response(400, {"error": "bad_request", "path": name,
                                         "message": f"{name} must be an ISO 8601 time, e.g. 2026-01-31T08:00:00Z"})
    return moment, None


def _limit_param(req: func.HttpRequest) -> tuple[int, func.HttpResponse | None]:
    raw = req.params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE, None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LISTED_CALLS:
        return 0, json_response(400, {"error": "bad_request", "path": "limit",
                                      "message": f"limit must be a whole number from 1 to {MAX_LISTED_CALLS}"})
    return int(raw), None


def _cursor_param(req: func.HttpRequest) -> tuple[Cursor | None, func.HttpResponse | None]:
    raw = req.params.get("continuation")
    if raw is None or raw == "":
        return None, None
    try:
        return decode_cursor(raw), None
    except BadCursor as error:
        return None, json_response(400, {"error": "bad_request", "message": str(error), "path": "continuation"})


def _next_url(req: func.HttpRequest, query: dict[str, str]) -> str:
    # Without the request's `code`: the key stays with the client, which sends it again (header or query).
    parts = urlsplit(str(req.url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _list_query(req: func.HttpRequest) -> tuple[dict[str, Any], func.HttpResponse | None]:
    """from, to, outcome, limit and cursor of a list request, or the 400 that refuses it."""
    to, refusal = _time_param(req, "to")
    if refusal is not None:
        return {}, refusal
    since, refusal = _time_param(req, "from")
    if refusal is not None:
        return {}, refusal
    to = to or datetime.now(UTC)
    since = since or to - DEFAULT_LIST_WINDOW
    if since > to:
        return {}, json_response(400, {"error": "bad_request", "message": "from is after to", "path": "from"})
    if to - since > MAX_LIST_WINDOW:
        return {}, json_response(400, {"error": "bad_request", "path": "from",
                                       "message": f"from and to are at most {MAX_LIST_WINDOW.days} days apart"})
    outcome = req.params.get("outcome") or None
    if outcome is not None and (len(outcome) > MAX_OUTCOME_CHARS or not outcome.replace("_", "").isalnum()):
        return {}, json_response(400, {"error": "bad_request", "message": "unknown outcome", "path": "outcome"})
    limit, refusal = _limit_param(req)
    if refusal is not None:
        return {}, refusal
    cursor, refusal = _cursor_param(req)
    if refusal is not None:
        return {}, refusal
    return {"since": since, "to": to, "outcome": outcome, "limit": limit, "cursor": cursor}, None


@bp.route(route="calls", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def list_calls(req: func.HttpRequest) -> func.HttpResponse:
    """Calls by ringing time, newest first, from the call index (calls/call_index.py), a page at a time."""
    query, refusal = _list_query(req)
    if refusal is not None:
        return refusal
    try:
        rows, following = await asyncio.to_thread(call_index.list_calls, query["since"], query["to"],
                                                  query["outcome"], query["limit"], query["cursor"])
    except BadCursor as error:
        return json_response(400, {"error": "bad_request", "message": str(error), "path": "continuation"})
    except Exception:  # noqa: BLE001 - storage unavailable: the caller may retry
        log.exception("Could not read the call index")
        return json_response(503, {"error": "unavailable", "message": "try again", "path": ""})
    since, to, outcome = query["since"].isoformat(), query["to"].isoformat(), query["outcome"]
    token = encode_cursor(following) if following is not None else None
    next_url = None if token is None else _next_url(req, {
        "from": since, "to": to, **({"outcome": outcome} if outcome else {}), "limit": str(query["limit"]),
        "continuation": token})
    return json_response(200, {"from": since, "to": to, "outcome": outcome, "limit": query["limit"],
                               "count": len(rows), "truncated": token is not None, "continuation": token,
                               "next": next_url, "calls": rows}, {"Cache-Control": "no-store"})
