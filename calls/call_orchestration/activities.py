"""Activities of the call orchestration (shared/call_activity_names.py): all of its I/O (ACS call actions
and hang-up, Blob, Email).

Activities run at least once, so each is safe to repeat: hang-up treats "already gone" as done, the
summary is rewritten identically, and the email is sent under a deterministic operation id with a receipt
blob checked first.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from azure.communication.callautomation import CommunicationIdentifier
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from calls import app_context, call_index
from calls.activity_telemetry import traced_activity
from calls.call_action_runner import TransferExtras, identifier_from_raw_id, run_action, run_recording_action
from calls.call_orchestration.blueprint import activity_input, bp
from calls.events_http import callback_url
from shared import blob_names
from shared.call_actions import (
    ADD_AGENT,
    CONFIGURED_TARGET,
    RECORDING_ACTIONS,
    SEALED_TARGET,
    TRANSFER,
    CallAction,
    action_from_payload,
)
from shared.call_activity_names import HANG_UP, LOAD_FLOW, PREPARE_SUMMARY, RUN_ACTION, SEND_EMAIL
from shared.call_token import call_token, is_valid_instance_id
from shared.kpis import call_end
from shared.sealed_value import CALLER, TRANSFER_TARGET, SealError, unseal
from shared.summary import CallSummaryInput, summary_input_from_dict
from shared.summary_render import RenderedSummary, render_summary
from shared.transcript_lines import parse_transcript
from shared.transfer_context import calling_context, story_url
from shared.turn_timeline import TURN_TIMELINE

log = logging.getLogger(__name__)

# Keys of the MediaStreamEnded event itself, not statistics of the stream; the turns' timeline is the story's.
_EVENT_KEYS = frozenset({"type", "time", TURN_TIMELINE})
_EMAIL_NAMESPACE = uuid.UUID("6f1d3c52-0e55-4c38-9d0e-6a8c2f7c1b11")


def _read_text(name: str) -> str | None:
    try:
        return app_context.transcripts_container().download_blob(name).readall().decode("utf-8", "replace")
    except ResourceNotFoundError:
        return None


def _write_json(name: str, body: Mapping[str, object]) -> None:
    container = app_context.transcripts_container()
    try:
        container.create_container()
    except ResourceExistsError:
        pass
    container.upload_blob(name, json.dumps(body).encode("utf-8"), overwrite=True)


def email_operation_id(instance_id: str) -> str:
    """The same GUID for every attempt of one call's email, so ACS can refuse a second delivery."""
    return str(uuid.uuid5(_EMAIL_NAMESPACE, instance_id))


@bp.activity_trigger(input_name="payload", activity=HANG_UP)
@traced_activity(HANG_UP)
def hang_up_call(payload: object) -> dict[str, str]:
    connection_id = str(activity_input(payload)["callConnectionId"])
    try:
        app_context.call_automation_client().get_call_connection(connection_id).hang_up(is_for_everyone=True)
    except ResourceNotFoundError:
        return {"status": "gone"}
    return {"status": "ok"}


@bp.activity_trigger(input_name="payload", activity=LOAD_FLOW)
@traced_activity(LOAD_FLOW)
def load_call_flow(payload: object) -> dict[str, object]:
    """The call flow this call runs with, read once at its start (the transfer target itself stays here)."""
    return app_context.call_flow_settings().to_dict()


@bp.activity_trigger(input_name="payload", activity=RUN_ACTION)
@traced_activity(RUN_ACTION)
def run_call_action(payload: object) -> dict[str, object]:
    """Send one call action to ACS; ACS's refusal is a result ({"status": "rejected", ...}), not a failure."""
    request = activity_input(payload)
    action = action_from_payload(request)
    if action is None:
        return {"status": "rejected", "message": "invalid action"}
    if action.kind in RECORDING_ACTIONS:
        server_call_id, recording_id = request.get("serverCallId"), request.get("recordingId")
        return run_recording_action(app_context.call_automation_client(), action, app_context.recording_settings(),
                                    server_call_id if isinstance(server_call_id, str) else None,
                                    recording_id if isinstance(recording_id, str) else None,
                                    _state_callback_url(request.get("instanceId")))
    connection_id = str(request.get("callConnectionId", ""))
    flow = app_context.call_flow_settings()
    try:
        action, extras = _opened(action, request.get("instanceId"), flow.transfer_target, flow.handoff_caller_id)
    except (SealError, ValueError) as error:
        # Never the target itself in the answer: it goes to history.
        return {"status": "rejected", "message": str(error)[:160]}
    return run_action(app_context.call_automation_client().get_call_connection(connection_id), action,
                      flow.transfer_target, _caller(request), extras)


def _opened(action: CallAction, instance_id: object, configured: str | None, caller_id: str | None
            ) -> tuple[CallAction, TransferExtras]:
    """The action with its sealed target opened (in memory only), and a transfer's context headers."""
    if action.target is None or action.target == CONFIGURED_TARGET and action.kind not in (TRANSFER, ADD_AGENT):
        return action, TransferExtras(caller_id=caller_id)
    if not isinstance(instance_id, str) or not is_valid_instance_id(instance_id):
        raise ValueError("the call's instance id is missing")
    target = action.target
    if SEALED_TARGET.fullmatch(target):
        target = unseal(app_context.settings().call_token_secret, TRANSFER_TARGET, instance_id, target)
    elif target == CONFIGURED_TARGET:
        target = configured or ""
    opened = replace(action, target=target)
    if action.kind not in (TRANSFER, ADD_AGENT) or not target:
        return opened, TransferExtras(caller_id=caller_id)
    story = story_url(app_context.settings().callback_base_url, instance_id)
    context = calling_context(instance_id, action.reason, story, action.headers, pstn=target.startswith("+"))
    return opened, TransferExtras(context, caller_id)


def _state_callback_url(instance_id: object) -> str | None:
    # Built here, not carried in history: the URL holds the call's token.
    if not isinstance(instance_id, str) or not is_valid_instance_id(instance_id):
        return None
    settings = app_context.settings()
    return callback_url(settings, instance_id, call_token(settings.call_token_secret, instance_id))


def _caller(request: Mapping[str, object]) -> CommunicationIdentifier | None:
    sealed, instance_id = request.get("callerRef"), request.get("instanceId")
    if not isinstance(sealed, str) or not isinstance(instance_id, str):
        return None
    try:
        return identifier_from_raw_id(unseal(app_context.settings().call_token_secret, CALLER, instance_id, sealed))
    except (SealError, ValueError):
        log.warning("caller reference of %s could not be opened", instance_id)
        return None


def summary_input(fields: Mapping[str, object]) -> CallSummaryInput:
    """The strict decoder (shared/summary.py) over the orchestration's summary fields; the transcript's blob
    is always this call's, and the media report keeps statistics only."""
    call = summary_input_from_dict(fields)
    media = {key: value for key, value in call.media.items() if key not in _EVENT_KEYS} if call.media else None
    return replace(call, transcript_blob=blob_names.transcript_blob(call.instance_id), media=media)


@bp.activity_trigger(input_name="payload", activity=PREPARE_SUMMARY)
@traced_activity(PREPARE_SUMMARY)
def prepare_call_summary(payload: object) -> dict[str, object]:
    call = summary_input(activity_input(payload))
    if call.media is None:
        report = _read_text(blob_names.media_report_blob(call.instance_id))
        if report:
            try:
                loaded = json.loads(report)
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                call = replace(call, media=loaded)
    transcript_text = _read_text(blob_names.transcript_blob(call.instance_id)) or ""
    transcript = parse_transcript(transcript_text)
    rendered: RenderedSummary = render_summary(call, transcript.segments,
                                               skipped_transcript_lines=transcript.skipped_lines)
    name = blob_names.summary_blob(call.instance_id)
    _write_json(name, {"subject": rendered.subject, "plainText": rendered.plain_text, "html": rendered.html,
                       "topics": list(rendered.topics), "transcriptTruncated": rendered.transcript_truncated})
    call_index.record_call_ended(call.instance_id, call.ringing_at, call.outcome, call.ended_at, call.end_reason,
                                 call_end(call.to_dict()).dropped)
    return {"summaryBlob": name, "subject": rendered.subject, "topics": list(rendered.topics),
            "transcriptTruncated": rendered.transcript_truncated}


def _email_content(request: Mapping[str, object], instance_id: str) -> Mapping[str, Any]:
    """The prepared summary, or, when it could not be prepared, one rendered from the call's own record."""
    fallback = request.get("call")
    if isinstance(fallback, Mapping) and not request.get("summaryBlob"):
        rendered = render_summary(summary_input(fallback), [])
        return {"subject": rendered.subject, "plainText": rendered.plain_text, "html": rendered.html}
    summary_text = _read_text(str(request.get("summaryBlob") or blob_names.summary_blob(instance_id)))
    if summary_text is None:
        raise RuntimeError(f"summary blob missing for {instance_id}")
    loaded: Mapping[str, Any] = json.loads(summary_text)
    return loaded


@bp.activity_trigger(input_name="payload", activity=SEND_EMAIL)
@traced_activity(SEND_EMAIL)
def send_summary_email(payload: object) -> dict[str, object]:
    request = activity_input(payload)
    instance_id = str(request["instanceId"])
    receipt_name = blob_names.email_receipt_blob(instance_id)
    receipt = _read_text(receipt_name)
    if receipt:
        # A retry of an activity whose send already succeeded: report it, do not send again.
        return {**json.loads(receipt), "repeated": True}
    summary = _email_content(request, instance_id)
    settings = app_context.settings()
    message = {
        "senderAddress": settings.email_sender,
        "recipients": {"to": [{"address": address} for address in settings.summary_recipients]},
        "content": {"subject": summary["subject"], "plainText": summary["plainText"], "html": summary["html"]},
        "headers": {"X-Call-Instance": instance_id},
    }
    operation_id = email_operation_id(instance_id)
    poller = app_context.email_client().begin_send(message, operation_id=operation_id)
    result = poller.result()
    status = str((result or {}).get("status", "Unknown"))
    sent: dict[str, object] = {"status": status, "operationId": operation_id}
    if status.lower() == "succeeded":
        _write_json(receipt_name, sent)
    else:
        raise RuntimeError(f"email for {instance_id} ended with status {status}")
    log.info("Summary email for %s: %s (operation %s)", instance_id, status, operation_id)
    return sent
