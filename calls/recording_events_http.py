"""`POST /api/recording-events`: the Event Grid subscription for `Microsoft.Communication.RecordingFileStatusUpdated`
(infra: its own subscription, filtered to that type), when ACS keeps the recording (no bring-your-own-storage).

Authenticated like `POST /api/events` (function key, plus Event Grid's Entra token when EVENTGRID_AAD_APP_ID
is set) and answering the same validation handshakes (calls/events_http.py). Each event is raised on its
call's inbox, where the orchestration downloads the file (shared/recording_files.py).

Answers follow Event Grid's retry rules ("Event Grid message delivery and retry": 400 and 413 are not
retried, 5xx are): a malformed delivery is 400; an event naming no call of ours, or a call that already
finished, is acknowledged with 200 and counted as ignored (a retry could never succeed); only Durable
being unavailable answers 503, so the event comes again.
"""

from __future__ import annotations

import logging

import azure.durable_functions as df
import azure.functions as func

from calls import app_context
from calls.acs_auth import refuse_unauthenticated
from calls.durable_gateway import DurableGateway, RaiseResult
from calls.events_http import cloud_events_handshake, validation_response
from calls.http_responses import error_response, json_response, read_json
from shared.call_token import instance_id_for_call
from shared.event_grid import parse_event_grid_delivery
from shared.json_body import BadRequest
from shared.recording_file_event import (
    RECORDING_FILE_READY,
    RECORDING_FILE_STATUS_UPDATED,
    RecordingFileStatus,
    parse_recording_file_status,
)

bp = df.Blueprint()
log = logging.getLogger(__name__)


async def _raise(gateway: DurableGateway, status: RecordingFileStatus) -> str:
    if status.server_call_id is None:
        return "ignored"  # the older subject form names no server call: not a call of ours to find
    instance_id = instance_id_for_call(status.server_call_id)
    result = await gateway.raise_event(instance_id, RECORDING_FILE_READY, status.inbox_payload())
    if result is not RaiseResult.RAISED:
        log.info("RecordingFileStatusUpdated for %s ignored: %s", instance_id, result.value)
        return "ignored"
    return "raised"


@bp.route(route="recording-events", methods=["POST", "OPTIONS"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def recording_events(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    refusal = await refuse_unauthenticated(app_context.event_grid_jwt_verifier(), req, "Event Grid delivery")
    if refusal is not None:
        return refusal
    if req.method == "OPTIONS":
        return cloud_events_handshake(req)
    try:
        body = read_json(req)
        delivery = parse_event_grid_delivery(body)
        validation = validation_response(req, delivery)
        if validation is not None:
            return validation
        raw_events = body if isinstance(body, list) else [body]
        files = [parse_recording_file_status(event.subject, raw.get("data"), f"[{index}].data")
                 for index, (event, raw) in enumerate(zip(delivery, raw_events, strict=True))
                 if event.event_type == RECORDING_FILE_STATUS_UPDATED and isinstance(raw, dict)]
    except BadRequest as error:
        log.warning("Rejected recording file delivery: %s at %s", error.message, error.path or "body")
        return error_response(error)
    gateway = DurableGateway(client)
    try:
        outcomes = [await _raise(gateway, status) for status in files]
    except Exception:
        log.exception("Could not raise recording file events")
        return json_response(503, {"error": "unavailable", "message": "try again", "path": ""})
    return json_response(200, {"raised": outcomes.count("raised"),
                               "ignored": outcomes.count("ignored") + len(delivery) - len(files)})
