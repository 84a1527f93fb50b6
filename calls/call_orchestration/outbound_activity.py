"""The createCall activity of an outbound call (shared/outbound_call.py): the only place its number is opened.

It dials with the same media streaming and transcription as an answer (calls/events_http.py) and the same
per-call callback URL (with the call's token). Activities run at least once, so every attempt sends the same
`Repeatability-Request-ID` and `Repeatability-First-Sent`: ACS treats a repeat as the same request and places
one call (Azure REST API guidelines, repeatable requests; the simulator replays the first answer).
ACS's refusal is a result (`{"status": "rejected", ...}`), which ends the call as not answered.
"""

from __future__ import annotations

import logging
import uuid
from email.utils import format_datetime

from azure.communication.callautomation import PhoneNumberIdentifier
from azure.core.exceptions import HttpResponseError

from calls import app_context
from calls.activity_telemetry import traced_activity
from calls.call_action_runner import identifier_from_raw_id
from calls.call_orchestration.blueprint import activity_input, bp
from calls.events_http import callback_url, media_streaming_options, transcription_options
from shared.call_activity_names import PLACE_CALL
from shared.call_lifecycle import parse_time
from shared.call_token import call_token, is_valid_instance_id
from shared.outbound_call import OUTBOUND_TARGET
from shared.pii import mask_phone_numbers_in_text
from shared.sealed_value import SealError, unseal

log = logging.getLogger(__name__)
_REPEATABILITY_NAMESPACE = uuid.UUID("3c6e2f1a-7b4d-4a8e-9f20-1d5c8b7e6a43")
MAX_MESSAGE_CHARS = 200


def _rejected(message: str) -> dict[str, object]:
    return {"status": "rejected", "message": mask_phone_numbers_in_text(message)[:MAX_MESSAGE_CHARS]}


def _repeatability_headers(instance_id: str, first_sent: object) -> dict[str, str]:
    moment = parse_time(first_sent)
    headers = {"Repeatability-Request-ID": str(uuid.uuid5(_REPEATABILITY_NAMESPACE, instance_id))}
    if moment is not None:
        headers["Repeatability-First-Sent"] = format_datetime(moment, usegmt=True)
    return headers


@bp.activity_trigger(input_name="payload", activity=PLACE_CALL)
@traced_activity(PLACE_CALL)
def place_outbound_call(payload: object) -> dict[str, object]:
    request = activity_input(payload)
    instance_id, target_ref = request.get("instanceId"), request.get("targetRef")
    if not isinstance(instance_id, str) or not is_valid_instance_id(instance_id) or not isinstance(target_ref, str):
        return _rejected("invalid activity input")
    settings, caller_id = app_context.settings(), app_context.outbound_settings().caller_id
    if caller_id is None:
        return _rejected("ACS_CALLER_ID is not set")
    try:
        target = identifier_from_raw_id(unseal(settings.call_token_secret, OUTBOUND_TARGET, instance_id, target_ref))
    except (SealError, ValueError):
        return _rejected("the target could not be opened")
    token = call_token(settings.call_token_secret, instance_id)
    raw_trace = request.get("traceparent")
    traceparent = raw_trace if isinstance(raw_trace, str) and raw_trace else None
    try:
        created = app_context.outbound_call_client().create_call(
            target, callback_url(settings, instance_id, token),
            source_caller_id_number=PhoneNumberIdentifier(caller_id) if caller_id.startswith("+") else None,
            operation_context=instance_id,
            cognitive_services_endpoint=app_context.transcription_settings().cognitive_services_endpoint,
            media_streaming=media_streaming_options(settings, instance_id, token, traceparent),
            transcription=transcription_options(settings, instance_id, token, traceparent),
            headers=_repeatability_headers(instance_id, request.get("ringingAt")),
        )
    except HttpResponseError as error:
        log.warning("createCall refused for %s: %s", instance_id, error.status_code)
        return _rejected(f"createCall refused: {error.status_code} {getattr(error, 'message', '') or ''}".strip())
    log.info("Outbound call %s placed (connection %s)", instance_id, created.call_connection_id)
    return {"status": "ok", "callConnectionId": created.call_connection_id, "serverCallId": created.server_call_id}
