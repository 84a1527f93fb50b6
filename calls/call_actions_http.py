"""Acting on a live call from outside: the control API and the media host's routes.

- `POST /api/calls/{instanceId}/actions` (function key): play, recognize_dtmf, transfer, handoff, hang_up, mute,
  start_transcription, stop_transcription, start/pause/resume/stop_recording. 202 with the action id; 400 bad
  input, 404 unknown call, 409 a call that is not connected (ringing, ended or finished), 422 an action this
  call or deployment cannot take (a transfer without a target when CALL_TRANSFER_TARGET is not set, a
  recording with CALL_RECORDING off, a pause/resume/stop with no recording in that state).
- `POST /api/media/{instanceId}/actions?token=...` (per-call token): the media host's voice processor asks for
  transfer or hang_up, with the same answers.
- `POST /api/media/{instanceId}/silence?token=...` (per-call token): the media host reports caller silence.

Nothing here touches ACS: each request becomes an event on the call's orchestration, which is the only writer
of the call and runs the action through an activity. An optional `Idempotency-Key` header makes a retried
POST the same action (the orchestration ignores an action id it has seen).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from calls import app_context
from calls.call_authorization import authorize_call
from calls.callbacks_http import raise_outcome_response
from calls.durable_gateway import DurableGateway, RaiseResult
from calls.http_responses import error_response, json_response, read_json
from shared.action_availability import CallFacts, unavailable_reason
from shared.call_actions import CONFIGURED_TARGET, MEDIA_HOST_ACTIONS, CallAction, mask_target, parse_action_request
from shared.call_lifecycle import iso
from shared.call_progress import CALL_ACTION_REQUESTED, CALLER_SILENCE
from shared.call_start import CallStart
from shared.call_token import is_valid_instance_id
from shared.json_body import BadRequest, optional_int, require_object
from shared.sealed_value import NONCE_BYTES, TRANSFER_TARGET, seal
from shared.transcription_settings import NOT_CONFIGURED

bp = df.Blueprint()
log = logging.getLogger(__name__)

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")
_ACTION_NAMESPACE = uuid.UUID("2b0f8f5e-8d6c-4f6e-9a57-3f3f0c8f4a21")
MAX_SILENCE_MS = 24 * 3600 * 1000
MAX_UTTERANCES = 1_000_000
_FINISHED = ("Completed", "Failed", "Terminated", "Canceled")


def _refusal(status: int, error: str, message: str, path: str = "instanceId") -> func.HttpResponse:
    return json_response(status, {"error": error, "message": message, "path": path})


def action_id_for(instance_id: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return str(uuid.uuid4())
    if _IDEMPOTENCY_KEY.fullmatch(idempotency_key) is None:
        raise BadRequest("Idempotency-Key must be 1 to 128 printable ASCII characters", path="Idempotency-Key")
    return str(uuid.uuid5(_ACTION_NAMESPACE, f"{instance_id}\n{idempotency_key}"))


def _custom_status(value: object) -> Mapping[str, object]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class _CallState:
    runtime: str
    stage: str | None
    start: CallStart | None
    recording: str | None = None  # the custom status' `recording` (shared/call_recording.py)


async def _call_state(client: df.DurableOrchestrationClient, instance_id: str) -> _CallState | None:
    """The call's runtime status, lifecycle stage and start record; None for no such call."""
    try:
        status = await client.get_status(instance_id)
    except Exception:  # noqa: BLE001 - a 404 arrives as a body the SDK cannot parse
        return None
    runtime = getattr(status, "runtime_status", None)
    if runtime is None:
        return None
    custom = _custom_status(getattr(status, "custom_status", None))
    stage, recording = custom.get("stage"), custom.get("recording")
    start_fields = _custom_status(getattr(status, "input_", None))  # JSON text through the SDK (#295)
    try:
        start = CallStart.from_dict(start_fields) if start_fields else None
    except (KeyError, TypeError, ValueError):
        start = None
    return _CallState(str(getattr(runtime, "value", runtime)), stage if isinstance(stage, str) else None, start,
                      recording if isinstance(recording, str) else None)


async def submit_action(client: df.DurableOrchestrationClient, instance_id: str, action: CallAction
                        ) -> func.HttpResponse:
    state = await _call_state(client, instance_id)
    if state is None:
        return _refusal(404, "not_found", "no such call")
    if state.runtime in _FINISHED or state.stage in ("ended", "summarized"):
        return _refusal(409, "conflict", "the call has ended")
    if state.stage != "connected":
        return _refusal(409, "conflict", "the call is not connected yet")
    start = state.start
    facts = CallFacts(caller_kind=start.caller_kind if start is not None else "unknown",
                      transcription_available=start is not None and start.transcription != NOT_CONFIGURED,
                      transfer_target_configured=app_context.call_flow_settings().transfer_target is not None,
                      recording_configured=app_context.recording_settings().enabled, recording=state.recording)
    unavailable = unavailable_reason(action.kind, action.target, facts)
    if unavailable is not None:
        return _refusal(422, unavailable.error, unavailable.message, unavailable.path)
    outcome = await DurableGateway(client).raise_event(instance_id, CALL_ACTION_REQUESTED, action.to_payload())
    if outcome is RaiseResult.NOT_FOUND:
        return _refusal(404, "not_found", "no such call")
    if outcome is RaiseResult.FINISHED:
        return _refusal(409, "conflict", "the call has ended")
    log.info("Action %s %s (%s) requested on %s", action.kind, action.action_id, action.source, instance_id)
    return json_response(202, {"instanceId": instance_id, "actionId": action.action_id, "action": action.kind,
                               "status": "accepted"})


def _parse(req: func.HttpRequest, instance_id: str, source: str, allowed: frozenset[str] | None) -> CallAction:
    action_id = action_id_for(instance_id, req.headers.get("idempotency-key"))
    return sealed_target(parse_action_request(read_json(req), action_id, source, allowed), instance_id)


def sealed_target(action: CallAction, instance_id: str) -> CallAction:
    """A target given in the request, sealed for this call: the orchestration's history, status, story and
    email hold only the sealed form and its mask, and only the action activity opens it."""
    if action.target is None or action.target == CONFIGURED_TARGET:
        return action
    secret = app_context.settings().call_token_secret
    return replace(action, target=seal(secret, os.urandom(NONCE_BYTES), TRANSFER_TARGET, instance_id, action.target),
                   target_mask=mask_target(action.target))


@bp.route(route="calls/{instanceId}/actions", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def call_actions(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = req.route_params.get("instanceId", "")
    if not is_valid_instance_id(instance_id):
        return _refusal(400, "bad_request", "invalid instance id")
    try:
        action = _parse(req, instance_id, "api", None)
    except BadRequest as error:
        return error_response(error)
    return await submit_action(client, instance_id, action)


@bp.route(route="media/{instanceId}/actions", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def media_actions(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id, refusal = authorize_call(req)
    if refusal is not None:
        return refusal
    try:
        action = _parse(req, instance_id, "media", MEDIA_HOST_ACTIONS)
    except BadRequest as error:
        return error_response(error)
    return await submit_action(client, instance_id, action)


def silence_payload(body: object, now: datetime) -> dict[str, object]:
    report = require_object(body, "")
    silent_ms, utterances = optional_int(report, "silentMs", ""), optional_int(report, "utterances", "")
    if silent_ms is None or not 0 <= silent_ms <= MAX_SILENCE_MS:
        raise BadRequest(f"silentMs must be an integer from 0 to {MAX_SILENCE_MS}", path="silentMs")
    if utterances is None or not 0 <= utterances <= MAX_UTTERANCES:
        raise BadRequest(f"utterances must be an integer from 0 to {MAX_UTTERANCES}", path="utterances")
    return {"type": CALLER_SILENCE, "time": iso(now), "silentMs": silent_ms, "utterances": utterances}


@bp.route(route="media/{instanceId}/silence", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def caller_silence(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id, refusal = authorize_call(req)
    if refusal is not None:
        return refusal
    try:
        payload = silence_payload(read_json(req), datetime.now(UTC))
    except BadRequest as error:
        return error_response(error)
    outcome = await DurableGateway(client).raise_event(instance_id, CALLER_SILENCE, payload)
    return raise_outcome_response(instance_id, [outcome])
