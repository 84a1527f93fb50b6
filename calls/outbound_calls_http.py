"""`POST /api/calls` (function key): place an outbound call. See docs/control-api.md "Outbound calls".

Body `{"to": E.164 or "8:acs:...", "greetingText"?: str, "flow"?: "configured" | "none"}`. Answers 202
`{"instanceId", "statusUrl"}`; 400 bad input, 409 `not_configured` (no ACS_CALLER_ID, or a phone number to
call from an ACS user id), 422 `idempotency_conflict` (a reused `Idempotency-Key` with another body), 429
`rate_limited` with Retry-After (OUTBOUND_CALLS_PER_MINUTE, calls/outbound_rate_limit.py), 503 `no_capacity`
with Retry-After when MEDIA_HOST_HEALTH_URL says the media host has no room (the answer policy's rule).

With an `Idempotency-Key` the instance id is derived from the key (shared/outbound_call.py): a retry, even
one after a crash between start and answer, finds the same orchestration and answers 202 again without
counting against the limit or placing a second call. The number never reaches Durable in clear: the input
holds it masked and sealed (shared/sealed_value.py), and only the createCall activity opens it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from calls import answer_policy, app_context, call_index, outbound_rate_limit, telemetry
from calls.call_actions_http import action_id_for
from calls.durable_gateway import DurableGateway
from calls.http_responses import error_response, json_response, read_json
from shared import outbound_call as outbound
from shared.answer_policy import no_room_reason
from shared.call_activity_names import ORCHESTRATOR
from shared.call_lifecycle import iso
from shared.call_start import CallStart, CallTimeouts
from shared.json_body import BadRequest
from shared.pii import mask_raw_id
from shared.sealed_value import CALLER, NONCE_BYTES, seal

bp = df.Blueprint()
log = logging.getLogger(__name__)
NO_ROOM_RETRY_AFTER_SECONDS = 10


def _refusal(status: int, error: str, message: str, path: str = "",
             headers: dict[str, str] | None = None) -> func.HttpResponse:
    return json_response(status, {"error": error, "message": message, "path": path}, headers)


def _idempotency_key(req: func.HttpRequest) -> str | None:
    key: str | None = req.headers.get("idempotency-key")
    if key is not None:
        action_id_for("outbound", key)  # the control API's rule for keys: BadRequest when malformed
    return key


def _configuration_refusal(request: outbound.OutboundRequest) -> func.HttpResponse | None:
    settings = app_context.outbound_settings()
    if settings.caller_id is None:
        return _refusal(409, "not_configured", "outbound calls need ACS_CALLER_ID")
    if not request.to.startswith("8:") and not settings.caller_is_number:
        # ACS needs a number of the resource as sourceCallerIdNumber to call a phone (troubleshooting-codes).
        return _refusal(409, "not_configured", "calling a phone number needs ACS_CALLER_ID to be a number", "to")
    return None


def _accepted(instance_id: str) -> func.HttpResponse:
    status_url = f"{app_context.settings().callback_base_url}/api/calls/{instance_id}"
    return json_response(202, {"instanceId": instance_id, "statusUrl": status_url})


def _same_request(instance_id: str, existing: dict[str, object], fingerprint: str) -> func.HttpResponse:
    section = existing.get("outbound")
    if isinstance(section, dict) and section.get("requestHash") == fingerprint:
        return _accepted(instance_id)
    return _refusal(422, "idempotency_conflict", "this Idempotency-Key was used with another request",
                    "Idempotency-Key")


def _call_start(instance_id: str, request: outbound.OutboundRequest, now: datetime) -> CallStart:
    settings, outbound_settings = app_context.settings(), app_context.outbound_settings()
    secret, raw_id = settings.call_token_secret, outbound.raw_id_of(request.to)
    target_ref = seal(secret, os.urandom(NONCE_BYTES), outbound.OUTBOUND_TARGET, instance_id, raw_id)
    return CallStart(
        instance_id=instance_id,
        caller=mask_raw_id(outbound_settings.caller_id or ""),
        callee=mask_raw_id(request.to),
        correlation_id="",
        server_call_id="",
        ringing_at=iso(now),
        timeouts=CallTimeouts(connect_seconds=outbound_settings.dial_timeout_seconds,
                              max_duration_seconds=settings.max_call_duration_seconds),
        # The other party, sealed as an inbound caller is: the flow's DTMF menu and mute address it.
        caller_ref=seal(secret, os.urandom(NONCE_BYTES), CALLER, instance_id, raw_id),
        caller_kind=outbound.identifier_kind(request.to),
        transcription=app_context.transcription_settings().state,
        outbound=outbound.outbound_section(request, target_ref, outbound.request_fingerprint(secret, request)),
    )


async def _no_room() -> func.HttpResponse | None:
    """As for a ringing call (calls/answer_policy.py): never dial a call the media host cannot stream."""
    policy = app_context.config().answer_policy
    if policy.media_host_health_url is None:
        return None
    reason = no_room_reason(policy, await answer_policy.media_room.room_for_one_more(policy.media_host_health_url))
    if reason is None:
        return None
    return _refusal(503, "no_capacity", f"no room to stream the call now ({reason})",
                    headers={"Retry-After": str(NO_ROOM_RETRY_AFTER_SECONDS)})


async def _place(gateway: DurableGateway, instance_id: str, request: outbound.OutboundRequest,
                 fingerprint: str) -> func.HttpResponse:
    existing = await gateway.orchestration_input(instance_id)
    if existing is not None:
        return _same_request(instance_id, existing, fingerprint)
    no_room = await _no_room()
    if no_room is not None:
        return no_room
    now = datetime.now(UTC)
    admission = await asyncio.get_running_loop().run_in_executor(
        None, outbound_rate_limit.admit, app_context.settings().storage,
        app_context.outbound_settings().calls_per_minute, now)
    if not admission.allowed:
        return _refusal(429, "rate_limited", "OUTBOUND_CALLS_PER_MINUTE reached; try again later",
                        headers={"Retry-After": str(admission.retry_after_seconds)})
    start = _call_start(instance_id, request, now)
    started = await gateway.start_once(ORCHESTRATOR, instance_id, start.to_dict())
    if not started.started:
        # A concurrent request with the same key started it between our check and our start.
        existing = await gateway.orchestration_input(instance_id)
        return _same_request(instance_id, existing or {}, fingerprint)
    call_index.record_call_started(start)
    telemetry.calls_outbound.add(1)
    log.info("Outbound call %s started (to %s)", instance_id, start.callee)
    return _accepted(instance_id)


@bp.route(route="calls", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def place_call(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        request = outbound.parse_outbound_request(read_json(req))
        key = _idempotency_key(req)
    except BadRequest as error:
        return error_response(error)
    refusal = _configuration_refusal(request)
    if refusal is not None:
        return refusal
    instance_id = outbound.instance_id_for_key(key) if key is not None else outbound.fresh_instance_id(uuid.uuid4())
    fingerprint = outbound.request_fingerprint(app_context.settings().call_token_secret, request)
    try:
        return await _place(DurableGateway(client), instance_id, request, fingerprint)
    except Exception:
        # Durable or storage unavailable: nothing was placed that a retry with the same key would not find.
        log.exception("Outbound call %s could not be started", instance_id)
        return _refusal(503, "unavailable", "try again")
