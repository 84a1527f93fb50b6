"""Performs one validated `CallAction` with the Call Automation SDK (the action activity's adapter).

Every request carries the action id as its `operationContext`, which ACS echoes in the result callback.
ACS's refusals come back as results, not exceptions: a 4xx will not get better by retrying, and the
orchestration records it on the call. The SDK client already retries throttling and 5xx itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from azure.communication.callautomation import (
    AzureBlobContainerRecordingStorage,
    CallAutomationClient,
    CallConnectionClient,
    CommunicationIdentifier,
    CommunicationUserIdentifier,
    FileSource,
    PhoneNumberIdentifier,
    RecognizeInputType,
    TextSource,
)
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

from calls.handoff_steps import ContextHeaders, perform_step
from shared.call_actions import (
    CONFIGURED_TARGET,
    HANDOFF_STEPS,
    MUTE,
    PAUSE_RECORDING,
    PLAY,
    RECOGNIZE_DTMF,
    RESUME_RECORDING,
    START_RECORDING,
    START_TRANSCRIPTION,
    STOP_RECORDING,
    STOP_TRANSCRIPTION,
    TRANSFER,
    CallAction,
    Prompt,
)
from shared.pii import mask_phone_numbers_in_text
from shared.recording_settings import RecordingSettings

log = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 160


def play_source(prompt: Prompt) -> TextSource | FileSource:
    if prompt.url is not None:
        return FileSource(url=prompt.url)
    return TextSource(text=prompt.text or "", voice_name=prompt.voice)


def identifier(target: str) -> CommunicationIdentifier:
    if target.startswith("+"):
        return PhoneNumberIdentifier(target)
    return CommunicationUserIdentifier(target)


def identifier_from_raw_id(raw_id: str) -> CommunicationIdentifier:
    """The SDK identifier of a raw id from an IncomingCall (the SDK's own parser is private)."""
    if raw_id.startswith("4:"):
        return PhoneNumberIdentifier(raw_id[2:])
    if raw_id.startswith("8:acs:"):
        return CommunicationUserIdentifier(raw_id)
    raise ValueError("the caller is neither a phone number nor an ACS user")


@dataclass(frozen=True)
class TransferExtras:
    """What a transfer or hand-off step needs beyond the action: its context headers, our caller id."""

    context: ContextHeaders = (None, None)
    caller_id: str | None = None  # CALL_HANDOFF_CALLER_ID: shown to an agent added by phone number


def _perform(connection: CallConnectionClient, action: CallAction, configured_target: str | None,
             caller: CommunicationIdentifier | None, extras: TransferExtras) -> dict[str, object]:
    context = action.action_id
    target = configured_target if action.target == CONFIGURED_TARGET else action.target
    if action.kind in HANDOFF_STEPS:
        return perform_step(connection, action, identifier(target) if target else None, caller, extras.context,
                            extras.caller_id, None if action.prompt is None else play_source(action.prompt))
    if action.kind == PLAY and action.prompt is not None:
        connection.play_media(play_source(action.prompt), operation_context=context)
    elif action.kind == RECOGNIZE_DTMF:
        connection.start_recognizing_media(
            RecognizeInputType.DTMF, _required(caller),
            play_prompt=None if action.prompt is None else play_source(action.prompt),
            interrupt_prompt=True, initial_silence_timeout=action.timeout_seconds,
            dtmf_max_tones_to_collect=action.max_tones, operation_context=context)
    elif action.kind == TRANSFER:
        if not target:
            raise ValueError("no transfer target is configured (CALL_TRANSFER_TARGET)")
        sip, voip = extras.context  # TransferToParticipantRequest.customCallingContext
        connection.transfer_call_to_participant(identifier(target), operation_context=context, sip_headers=sip,
                                                voip_headers=voip)
    elif action.kind == MUTE:
        # MuteParticipantsRequest.targetParticipants takes ACS users only (REST spec, stable 2026-03-12); the
        # control API refuses mute for other callers, this is the last line of defence.
        if not isinstance(caller, CommunicationUserIdentifier):
            raise ValueError("mute is available only when the caller is an ACS user")
        connection.mute_participant(caller, operation_context=context)
    elif action.kind == START_TRANSCRIPTION:
        connection.start_transcription(locale=action.locale, operation_context=context)
    elif action.kind == STOP_TRANSCRIPTION:
        connection.stop_transcription(operation_context=context)
    else:
        raise ValueError(f"action {action.kind} is not performed here")
    return {}


def _required(caller: CommunicationIdentifier | None) -> CommunicationIdentifier:
    # The caller comes from the IncomingCall's `from`, sealed at ring time: the call's `source` is our own
    # ACS identity, not the caller (REST spec examples AnswerCall.json, CallConnection_GetCall.json).
    if caller is None:
        raise ValueError("the caller of this call is not known")
    return caller


def run_action(connection: CallConnectionClient, action: CallAction, configured_target: str | None,
               caller: CommunicationIdentifier | None = None, extras: TransferExtras | None = None
               ) -> dict[str, object]:
    """{"status": "accepted"} when ACS took the request; otherwise "gone" / "rejected" with code and message.

    `action.target`, when not the configured one, is the opened (raw) target: the activity unseals it."""
    answer: dict[str, object] = {}

    def perform() -> None:
        answer.update(_perform(connection, action, configured_target, caller, extras or TransferExtras()))

    result = _guarded(action, perform)
    return {**result, **answer} if result["status"] == "accepted" else result


def run_recording_action(client: CallAutomationClient, action: CallAction, settings: RecordingSettings,
                         server_call_id: str | None, recording_id: str | None,
                         state_callback_url: str | None = None) -> dict[str, object]:
    """Start, pause, resume or stop the call's recording; a start answers the new recording's id too."""
    answer: dict[str, object] = {}

    def perform() -> None:
        if action.kind == START_RECORDING:
            if not settings.enabled:
                raise ValueError("recording is off (CALL_RECORDING)")
            if not server_call_id:
                raise ValueError("the call's server call id is not known")
            # Located by the call's serverCallId (StartCallRecordingRequest.callLocator, kind serverCallLocator).
            # recordingStateCallbackUri named (the call's own callback URL): RecordingStateChanged then comes to
            # the call's inbox whatever ACS's default target is.
            storage = AzureBlobContainerRecordingStorage(settings.storage_container_url) \
                if settings.storage_container_url else None
            started = client.start_recording(server_call_id=server_call_id, recording_content_type="audio",
                                             recording_state_callback_url=state_callback_url,
                                             recording_channel_type=settings.channel,
                                             recording_format_type=settings.format, recording_storage=storage)
            answer["recordingId"] = started.recording_id
            if storage is not None:
                answer["externalStorage"] = True  # nothing for the orchestration to download
            return
        if not recording_id:
            raise ValueError("no recording is running on this call")
        steps: dict[str, Callable[[str], None]] = {PAUSE_RECORDING: client.pause_recording,
                                                   RESUME_RECORDING: client.resume_recording,
                                                   STOP_RECORDING: client.stop_recording}
        steps[action.kind](recording_id)

    result = _guarded(action, perform)
    return {**result, **answer} if result["status"] == "accepted" else result


def _guarded(action: CallAction, perform: Callable[[], None]) -> dict[str, object]:
    try:
        perform()
    except ResourceNotFoundError:
        return {"status": "gone", "code": 404, "message": "the call no longer exists"}
    except HttpResponseError as error:
        first_line = (error.message or type(error).__name__).splitlines()[0]
        message = mask_phone_numbers_in_text(first_line[:MAX_MESSAGE_CHARS])
        log.warning("ACS refused %s %s: %s", action.kind, action.action_id, error.status_code)
        return {"status": "rejected", "code": error.status_code, "message": message}
    except AzureError as error:
        return {"status": "failed", "message": type(error).__name__}
    except ValueError as error:
        return {"status": "rejected", "message": str(error)[:MAX_MESSAGE_CHARS]}
    return {"status": "accepted"}
