"""`POST /api/media/{instanceId}/ended?token=...`: the media host reports that the call's stream closed.

The orchestration waits for this, bounded, before it summarises, so the transcript it reads is complete.
Only numeric statistics are kept from the body: the payload goes into Durable history.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func
from opentelemetry.trace import SpanKind

from calls import telemetry
from calls.call_authorization import authorize_call
from calls.call_trace import call_traceparent
from calls.callbacks_http import raise_outcome_response
from calls.durable_gateway import DurableGateway
from calls.http_responses import error_response, read_json
from shared.call_lifecycle import MEDIA_STREAM_ENDED
from shared.json_body import BadRequest
from shared.media_report import compact_media_report

bp = df.Blueprint()

def media_report_payload(body: object) -> dict[str, object]:
    if not isinstance(body, dict):
        raise BadRequest("media report must be a JSON object")
    report = compact_media_report(body)
    ended_at = body.get("endedAt")
    # The report's own end time places it on the call's timeline.
    time = {"time": ended_at[:64]} if isinstance(ended_at, str) else {}
    return {**report, **time, "type": MEDIA_STREAM_ENDED}


@bp.route(route="media/{instanceId}/ended", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def media_stream_ended(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id, refusal = authorize_call(req)
    if refusal is not None:
        return refusal
    try:
        payload = media_report_payload(read_json(req))
    except BadRequest as error:
        return error_response(error)
    gateway = DurableGateway(client)
    traceparent = await call_traceparent(gateway, instance_id, req.headers)
    with telemetry.call_span("MediaStreamEnded", traceparent=traceparent, kind=SpanKind.SERVER,
                             attributes={"call.instance_id": instance_id}):
        outcome = await gateway.raise_event(instance_id, MEDIA_STREAM_ENDED, payload)
    return raise_outcome_response(instance_id, [outcome])
