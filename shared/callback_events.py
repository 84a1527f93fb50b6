"""Parsing of Call Automation callbacks (a JSON array of CloudEvents) into compact, masked events.

Each event becomes a `CallAutomationEvent` whose `to_payload()` is what is raised on the call's
orchestration: small, JSON-safe, with phone numbers masked, strings truncated and lists bounded, because
Durable replays every raised payload from history.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.json_body import (
    BadRequest,
    child_path,
    optional_int,
    optional_list,
    optional_object,
    optional_str,
    require_object,
    require_str,
)
from shared.pii import mask_phone_numbers_in_text, mask_raw_id

CALLBACK_TYPE_PREFIX = "Microsoft.Communication."
MAX_DETAIL_CHARS = 512
MAX_ID_CHARS = 1024
MAX_PARTICIPANTS = 20
MAX_TONES = 64
# The short name becomes a Durable event name, which the SDK puts into a URL path: keep type and name to
# safe characters, starting with a letter (so never "." or ".."), so that a crafted type cannot change the
# URL that is called.
_EVENT_TYPE_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,159}")

_DTMF_TONE_CHARACTERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "a": "A", "b": "B", "c": "C", "d": "D", "pound": "#", "asterisk": "*",
}  # fmt: skip


@dataclass(frozen=True)
class ResultInformation:
    code: int | None
    sub_code: int | None
    message: str | None


@dataclass(frozen=True)
class CallAutomationEvent:
    id: str
    type: str  # full type, e.g. "Microsoft.Communication.CallConnected"
    name: str  # type without the prefix, e.g. "CallConnected"
    time: str | None
    call_connection_id: str
    server_call_id: str | None
    correlation_id: str | None
    operation_context: str | None
    result_information: ResultInformation | None
    details: dict[str, object] = field(default_factory=dict)  # small, JSON-safe, type-specific fields
    known: bool = True  # False for a type not in KNOWN_CALLBACK_TYPES

    def to_payload(self) -> dict[str, object]:
        """The compact payload raised on the orchestration."""
        result = self.result_information
        return {
            "type": self.name,
            "id": self.id,
            "time": self.time,
            "callConnectionId": self.call_connection_id,
            "correlationId": self.correlation_id,
            "operationContext": self.operation_context,
            "result": None
            if result is None
            else {"code": result.code, "subCode": result.sub_code, "message": result.message},
            "details": dict(self.details),
        }


def truncate(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded_id(container: dict[str, object], key: str, path: str, *, required: bool = False) -> str | None:
    value = require_str(container, key, path) if required else optional_str(container, key, path)
    if value is not None and len(value) > MAX_ID_CHARS:
        raise BadRequest(f"longer than {MAX_ID_CHARS} characters", path=child_path(path, key))
    return value


def _masked_text(container: dict[str, object], key: str, path: str) -> str | None:
    value = optional_str(container, key, path)
    return None if value is None else mask_phone_numbers_in_text(truncate(value))


def _optional_number(container: dict[str, object], key: str, path: str) -> float | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest("expected a number", path=child_path(path, key))
    return float(value)


def _masked_identifier(container: dict[str, object], key: str, path: str) -> str | None:
    """A CommunicationIdentifierModel reduced to its masked raw id (or masked phone number)."""
    identifier = optional_object(container, key, path)
    if identifier is None:
        return None
    identifier_path = child_path(path, key)
    raw_id = optional_str(identifier, "rawId", identifier_path)
    if raw_id is None:
        phone = optional_object(identifier, "phoneNumber", identifier_path)
        if phone is not None:
            raw_id = "4:" + require_str(phone, "value", child_path(identifier_path, "phoneNumber"))
    return None if raw_id is None else truncate(mask_raw_id(raw_id))


def _without_none(values: dict[str, object | None]) -> dict[str, object]:
    return {key: value for key, value in values.items() if value is not None}


# Type-specific detail extractors: (data, path of data) -> details.
DetailExtractor = Callable[[dict[str, object], str], dict[str, object]]


def _no_details(data: dict[str, object], path: str) -> dict[str, object]:
    return {}


def _participant_details(data: dict[str, object], path: str) -> dict[str, object]:
    return _without_none(
        {
            "participant": _masked_identifier(data, "participant", path),
            "fromCall": _masked_text(data, "fromCall", path),
        }
    )


def _invitation_details(data: dict[str, object], path: str) -> dict[str, object]:
    return _without_none({"invitationId": _masked_text(data, "invitationId", path)})


def _transfer_details(data: dict[str, object], path: str) -> dict[str, object]:
    return _without_none(
        {
            "transferee": _masked_identifier(data, "transferee", path),
            "transferTarget": _masked_identifier(data, "transferTarget", path),
        }
    )


def _participants_updated_details(data: dict[str, object], path: str) -> dict[str, object]:
    participants = optional_list(data, "participants", path) or []
    participants_path = child_path(path, "participants")
    shown: list[dict[str, object]] = []
    for index, value in enumerate(participants):
        participant_path = child_path(participants_path, index)
        participant = require_object(value, participant_path)
        identifier = _masked_identifier(participant, "identifier", participant_path)
        is_muted = participant.get("isMuted")
        is_on_hold = participant.get("isOnHold")
        for key, flag in (("isMuted", is_muted), ("isOnHold", is_on_hold)):
            if flag is not None and not isinstance(flag, bool):
                raise BadRequest("expected a boolean", path=child_path(participant_path, key))
        if len(shown) < MAX_PARTICIPANTS:
            shown.append(_without_none({"id": identifier, "isMuted": is_muted, "isOnHold": is_on_hold}))
    return _without_none(
        {
            "sequenceNumber": optional_int(data, "sequenceNumber", path),
            "participantCount": len(participants),
            "participants": shown,
        }
    )


def _failed_source_details(data: dict[str, object], path: str) -> dict[str, object]:
    return _without_none({"failedPlaySourceIndex": optional_int(data, "failedPlaySourceIndex", path)})


def _dtmf_tones(result: dict[str, object], path: str) -> str:
    tones = optional_list(result, "tones", path) or []
    characters: list[str] = []
    for index, tone in enumerate(tones[:MAX_TONES]):
        if not isinstance(tone, str):
            raise BadRequest("expected a string tone", path=child_path(child_path(path, "tones"), index))
        characters.append(_DTMF_TONE_CHARACTERS.get(tone.lower(), "?"))
    # Callers may key in a phone number; the joined tones are masked like any other text.
    return mask_phone_numbers_in_text("".join(characters))


def _recognize_details(data: dict[str, object], path: str) -> dict[str, object]:
    details: dict[str, object | None] = {"recognitionType": _masked_text(data, "recognitionType", path)}
    dtmf = optional_object(data, "dtmfResult", path)
    if dtmf is not None:
        details["dtmfTones"] = _dtmf_tones(dtmf, child_path(path, "dtmfResult"))
    choice = optional_object(data, "choiceResult", path)
    if choice is not None:
        choice_path = child_path(path, "choiceResult")
        details["choiceLabel"] = _masked_text(choice, "label", choice_path)
        details["recognizedPhrase"] = _masked_text(choice, "recognizedPhrase", choice_path)
        details["confidence"] = _optional_number(choice, "confidence", choice_path)
    speech = optional_object(data, "speechResult", path)
    if speech is not None:
        speech_path = child_path(path, "speechResult")
        details["speech"] = _masked_text(speech, "speech", speech_path)
        details["confidence"] = _optional_number(speech, "confidence", speech_path)
    return _without_none(details)


def _tone_details(data: dict[str, object], path: str) -> dict[str, object]:
    tone = optional_str(data, "tone", path)
    return _without_none(
        {
            "tone": None if tone is None else _DTMF_TONE_CHARACTERS.get(tone.lower(), "?"),
            "sequenceId": optional_int(data, "sequenceId", path),
        }
    )


def _status_update(data: dict[str, object], path: str, update_key: str, status_key: str) -> dict[str, object]:
    update = optional_object(data, update_key, path)
    if update is None:
        return {}
    update_path = child_path(path, update_key)
    return _without_none(
        {
            "contentType": _masked_text(update, "contentType", update_path),
            "status": _masked_text(update, status_key, update_path),
            "statusDetails": _masked_text(update, f"{status_key}Details", update_path),
        }
    )


# Plain functions, not closures made at import: what runs per event is then code a test can reach.
def _media_streaming_details(data: dict[str, object], path: str) -> dict[str, object]:
    return _status_update(data, path, "mediaStreamingUpdate", "mediaStreamingStatus")


def _transcription_details(data: dict[str, object], path: str) -> dict[str, object]:
    return _status_update(data, path, "transcriptionUpdate", "transcriptionStatus")


def _recording_details(data: dict[str, object], path: str) -> dict[str, object]:
    return _without_none(
        {
            "recordingId": _masked_text(data, "recordingId", path),
            "state": _masked_text(data, "state", path),
            "recordingKind": _masked_text(data, "recordingKind", path),
            "startDateTime": _masked_text(data, "startDateTime", path),
        }
    )


DETAIL_EXTRACTORS: dict[str, DetailExtractor] = {
    "CallConnected": _no_details,
    "CallDisconnected": _no_details,
    "ParticipantsUpdated": _participants_updated_details,
    "AddParticipantSucceeded": _participant_details,
    "AddParticipantFailed": _participant_details,
    "RemoveParticipantSucceeded": _participant_details,
    "RemoveParticipantFailed": _participant_details,
    "MoveParticipantSucceeded": _participant_details,
    "MoveParticipantFailed": _participant_details,
    "CancelAddParticipantSucceeded": _invitation_details,
    "CancelAddParticipantFailed": _invitation_details,
    "CallTransferAccepted": _transfer_details,
    "CallTransferFailed": _no_details,
    "PlayStarted": _no_details,
    "PlayCompleted": _no_details,
    "PlayFailed": _failed_source_details,
    "PlayCanceled": _no_details,
    "PlayPaused": _no_details,
    "PlayResumed": _no_details,
    "RecognizeCompleted": _recognize_details,
    "RecognizeFailed": _failed_source_details,
    "RecognizeCanceled": _no_details,
    "ContinuousDtmfRecognitionToneReceived": _tone_details,
    "ContinuousDtmfRecognitionToneFailed": _no_details,
    "ContinuousDtmfRecognitionStopped": _no_details,
    "SendDtmfTonesCompleted": _no_details,
    "SendDtmfTonesFailed": _no_details,
    "MediaStreamingStarted": _media_streaming_details,
    "MediaStreamingStopped": _media_streaming_details,
    "MediaStreamingFailed": _media_streaming_details,
    "TranscriptionStarted": _transcription_details,
    "TranscriptionStopped": _transcription_details,
    "TranscriptionUpdated": _transcription_details,
    "TranscriptionFailed": _transcription_details,
    "RecordingStateChanged": _recording_details,
    "StartRecordingFailed": _recording_details,
    "HoldFailed": _no_details,
    "AnswerFailed": _no_details,
    "CreateCallFailed": _no_details,
    "ConnectFailed": _no_details,
}
KNOWN_CALLBACK_TYPES: frozenset[str] = frozenset(DETAIL_EXTRACTORS)


def _parse_result_information(data: dict[str, object], path: str) -> tuple[ResultInformation | None, dict[str, object]]:
    result = optional_object(data, "resultInformation", path)
    if result is None:
        return None, {}
    result_path = child_path(path, "resultInformation")
    message = optional_str(result, "message", result_path)
    information = ResultInformation(
        code=optional_int(result, "code", result_path),
        sub_code=optional_int(result, "subCode", result_path),
        message=None if message is None else mask_phone_numbers_in_text(truncate(message)),
    )
    # SIP / Q.850 codes say why a call ended or failed; they travel in details to keep `result` fixed.
    diagnostics: dict[str, object] = {}
    for key in ("sipDetails", "q850Details"):
        diagnostic = optional_object(result, key, result_path)
        if diagnostic is not None:
            diagnostic_path = child_path(result_path, key)
            diagnostics[key] = _without_none(
                {
                    "code": optional_int(diagnostic, "code", diagnostic_path),
                    "message": _masked_text(diagnostic, "message", diagnostic_path),
                }
            )
    return information, diagnostics


def parse_callback_event(value: object, path: str) -> CallAutomationEvent:
    event = require_object(value, path)
    event_type = require_str(event, "type", path)
    name = event_type.removeprefix(CALLBACK_TYPE_PREFIX)
    if _EVENT_TYPE_SHAPE.fullmatch(event_type) is None or _EVENT_TYPE_SHAPE.fullmatch(name) is None:
        raise BadRequest("event type has unexpected characters or length", path=child_path(path, "type"))
    event_id = _bounded_id(event, "id", path, required=True)
    optional_str(event, "source", path)
    optional_str(event, "specversion", path)
    time = optional_str(event, "time", path)
    data_path = child_path(path, "data")
    data = require_object(event.get("data"), data_path)

    known = event_type.startswith(CALLBACK_TYPE_PREFIX) and name in KNOWN_CALLBACK_TYPES
    result_information, diagnostics = _parse_result_information(data, data_path)
    details = DETAIL_EXTRACTORS[name](data, data_path) if known else {}
    operation_context = optional_str(data, "operationContext", data_path)
    return CallAutomationEvent(
        id=event_id or "",
        type=event_type,
        name=name,
        time=None if time is None else truncate(time, 64),
        call_connection_id=_bounded_id(data, "callConnectionId", data_path, required=True) or "",
        server_call_id=_bounded_id(data, "serverCallId", data_path),
        correlation_id=_bounded_id(data, "correlationId", data_path),
        operation_context=None if operation_context is None else truncate(operation_context),
        result_information=result_information,
        details={**details, **diagnostics},
        known=known,
    )


def parse_callback_delivery(body: object) -> list[CallAutomationEvent]:
    """The events of one callback delivery, in order; BadRequest (with a JSON path) for anything malformed."""
    if isinstance(body, dict):
        return [parse_callback_event(body, "")]
    if not isinstance(body, list):
        raise BadRequest("expected an array of CloudEvents")
    if not body:
        raise BadRequest("the event array is empty")
    return [parse_callback_event(element, f"[{index}]") for index, element in enumerate(body)]
