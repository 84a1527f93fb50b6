"""`POST /api/callbacks/{instanceId}?token=...`: Call Automation callbacks for one call.

Each CloudEvent is raised on the call's orchestration, named by its type without the
`Microsoft.Communication.` prefix, with a compact payload. ACS's bearer JWT (when ACS_RESOURCE_ID is set)
and the per-call token (constant time) are checked before the body is read.
"""

from __future__ import annotations

import logging

import azure.durable_functions as df
import azure.functions as func
from opentelemetry.trace import SpanKind

from calls import app_context, telemetry
from calls.acs_auth import refuse_unauthenticated
from calls.call_authorization import authorize_call
from calls.call_trace import call_traceparent
from calls.durable_gateway import DurableGateway, RaiseResult
from calls.http_responses import error_response, json_response, read_json
from shared.call_progress import UNKNOWN_CALLBACK
from shared.callback_events import CallAutomationEvent, parse_callback_delivery
from shared.json_body import BadRequest

bp = df.Blueprint()
log = logging.getLogger(__name__)


def raise_outcome_response(instance_id: str, outcomes: list[RaiseResult]) -> func.HttpResponse:
    if RaiseResult.NOT_FOUND in outcomes:
        return json_response(404, {"error": "not_found", "message": "no such call", "path": "instanceId"})
    if RaiseResult.FINISHED in outcomes:
        log.info("Acknowledged and ignored events for finished call %s", instance_id)
    return json_response(200, {"instanceId": instance_id, "events": [outcome.value for outcome in outcomes]})


@bp.route(route="callbacks/{instanceId}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def callbacks(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id, refusal = authorize_call(req)
    if refusal is None:
        # ACS's JWT proves ACS sent this for our resource; it names no call, so the per-call token (checked
        # by authorize_call) is what binds the request to this call.
        refusal = await refuse_unauthenticated(app_context.acs_jwt_verifier(), req, f"callback for {instance_id}")
    if refusal is not None:
        return refusal
    try:
        events = parse_callback_delivery(read_json(req))
    except BadRequest as error:
        log.warning("Rejected callback for %s: %s at %s", instance_id, error.message, error.path or "body")
        return error_response(error)

    gateway = DurableGateway(client)
    traceparent = await call_traceparent(gateway, instance_id, req.headers)
    # A span in the call's trace for each delivery, so one trace shows every callback.
    with telemetry.call_span("Callback", traceparent=traceparent, kind=SpanKind.SERVER, attributes={
            "call.instance_id": instance_id, "acs.callback_types": ",".join(e.type for e in events)[:256]}):
        outcomes = await _raise_all(gateway, instance_id, events)
    return raise_outcome_response(instance_id, outcomes)


async def _raise_all(gateway: DurableGateway, instance_id: str, events: list[CallAutomationEvent]) -> list[RaiseResult]:
    outcomes: list[RaiseResult] = []
    for event in events:
        if not event.known:
            log.info("Callback of unknown type %s for %s: recorded, not an error", event.type, instance_id)
        # Unknown types share one event name, which the orchestration waits for, so they reach its timeline.
        name = event.name if event.known else UNKNOWN_CALLBACK
        outcome = await gateway.raise_event(instance_id, name, event.to_payload())
        outcomes.append(outcome)
        if outcome is RaiseResult.NOT_FOUND:
            break
    return outcomes
