"""Ops endpoints for reading calls (function-key auth):

- `GET /api/calls/{instanceId}`: the call's story as JSON (shared/call_story.py), from its Durable status
  with history;
- `GET /api/calls/{instanceId}/view`: the same story as a small HTML page that draws the timeline;
- `GET /api/calls?from=&to=&outcome=`: the calls created in a time range, newest first, optionally only
  those with one outcome.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from calls.http_responses import json_response
from shared.call_activity_names import ORCHESTRATOR as ORCHESTRATOR_NAME
from shared.call_lifecycle import parse_time
from shared.call_story import build_call_story, list_entry
from shared.call_story_page import render_call_story_page
from shared.call_token import is_valid_instance_id

bp = df.Blueprint()
log = logging.getLogger(__name__)

MAX_LISTED_CALLS = 500
DEFAULT_LIST_WINDOW = timedelta(days=1)
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


@bp.route(route="calls", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def list_calls(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    to, refusal = _time_param(req, "to")
    if refusal is not None:
        return refusal
    since, refusal = _time_param(req, "from")
    if refusal is not None:
        return refusal
    to = to or datetime.now(UTC)
    since = since or to - DEFAULT_LIST_WINDOW
    if since > to:
        return json_response(400, {"error": "bad_request", "message": "from is after to", "path": "from"})
    outcome = req.params.get("outcome") or None
    if outcome is not None and (len(outcome) > MAX_OUTCOME_CHARS or not outcome.replace("_", "").isalnum()):
        return json_response(400, {"error": "bad_request", "message": "unknown outcome", "path": "outcome"})
    try:
        statuses = await client.get_status_by(created_time_from=since, created_time_to=to)
    except Exception:  # noqa: BLE001 - Durable unavailable: the caller may retry
        log.exception("Could not list call orchestrations")
        return json_response(503, {"error": "unavailable", "message": "try again", "path": ""})
    rows = [list_entry(document) for document in (_status_json(status) for status in statuses)
            if document is not None and document.get("name") == ORCHESTRATOR_NAME]
    if outcome is not None:
        rows = [row for row in rows if row["outcome"] == outcome]
    rows.sort(key=lambda row: row["createdTime"] or "", reverse=True)
    return json_response(200, {"from": since.isoformat(), "to": to.isoformat(), "outcome": outcome,
                               "count": len(rows[:MAX_LISTED_CALLS]), "truncated": len(rows) > MAX_LISTED_CALLS,
                               "calls": rows[:MAX_LISTED_CALLS]}, {"Cache-Control": "no-store"})
