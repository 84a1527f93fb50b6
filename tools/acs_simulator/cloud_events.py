"""Call Automation callbacks as ACS posts them: a JSON array of CloudEvents 1.0. No I/O.

Result codes and messages come from captures of the service published as SDK parser-test fixtures
(Azure/azure-sdk-for-java `CallAutomationEventParser*UnitTests.java`) and from the real-time transcription
tutorial's event-code table. Codes still without a published source are marked "not published".
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tools.acs_simulator import identifiers
from tools.acs_simulator.media_messages import DTMF_TONE_NAMES


@dataclass(frozen=True)
class CallIds:
    call_connection_id: str
    server_call_id: str
    correlation_id: str


@dataclass(frozen=True)
class Result:
    code: int
    sub_code: int
    message: str


# PlayCompleted 200/0 (Java parsePlayCompletedEvent); TranscriptionStarted/Stopped 200/0 (tutorial table).
ACTION_OK = Result(200, 0, "Action completed successfully.")
STREAMING_OK = ACTION_OK  # MediaStreamingStarted/Stopped: not published; the transcription events' wording
# RecognizeCompleted for DTMF: 200/8533 "Action completed, DTMF option matched." (Java EVENT_RECOGNIZE_DTMF).
# 8531 (max digits) and 8514 (stop tone) are the SDK's ReasonCode.Recognize values, messages not published.
DTMF_MATCHED = Result(200, 8533, "Action completed, DTMF option matched.")
MAX_DIGITS = Result(200, 8531, "Action completed, max digits received.")
STOP_TONE = Result(200, 8514, "Action completed, stop tone detected.")
INITIAL_SILENCE = Result(400, 8510, "Action failed, initial silence timeout reached.")  # Java parser test
PLAY_DOWNLOAD_FAILED = Result(400, 8536, "Action failed, file could not be downloaded.")  # Java parser test
TRANSFER_ACCEPTED = Result(200, 7015, "The transfer operation completed successfully.")  # code: Java fixture
TRANSFER_FAILED = Result(500, 9999, "Unknown internal server error.")  # 9999 wording: tutorial table
MEDIA_SOCKET_FAILED = Result(500, 8603, "Action failed, not able to establish websocket connection.")
# A socket lost mid-stream: code and message not published; the status detail is the SDK's
# MediaStreamingStatusDetails / TranscriptionStatusDetails.STREAM_CONNECTION_INTERRUPTED.
MEDIA_SOCKET_INTERRUPTED = Result(500, 8603, "Action failed, websocket connection interrupted.")
TRANSCRIPTION_SOCKET_INTERRUPTED = Result(500, 8578, "Action failed, WebSocket connection interrupted.")
TRANSCRIPTION_SOCKET_FAILED = Result(500, 8578, "Action failed, not able to establish WebSocket connection.")
TRANSCRIPTION_NOT_SET_UP = Result(405, 8522,
                                  "Request not allowed when Cognitive Service Configuration not set during call setup.")
HUNG_UP = Result(200, 0, "The conversation has ended.")  # not published
# An invited participant declined or did not answer: codes not published; the SIP answers they stand for
# (RFC 3261 21.6.4 603 Decline, 21.4.9 408 Request Timeout), with no subCode.
ADD_DECLINED = Result(603, 0, "The participant declined the call.")
ADD_NOT_ANSWERED = Result(408, 0, "The participant did not answer in time.")
# CancelAddParticipantFailed when the invitation was already answered or declined: code and message not
# published; a client error, as the request could not be honoured.
CANCEL_TOO_LATE = Result(400, 0, "The invitation is no longer pending.")
ABANDONED = Result(487, 0, "The caller hung up before the call connected.")  # not published


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def cloud_event(event_type: str, ids: CallIds, operation_context: str | None, result: Result | None,
                extra: dict[str, Any] | None = None, event_id: str | None = None) -> dict[str, Any]:
    """`result=None` leaves `resultInformation` out, as in CallConnected (Java EVENT_CALL_CONNECTED)."""
    source = f"calling/callConnections/{ids.call_connection_id}"
    data: dict[str, Any] = {
        "callConnectionId": ids.call_connection_id,
        "serverCallId": ids.server_call_id,
        "correlationId": ids.correlation_id,
        "operationContext": operation_context,
        **({"resultInformation": {"code": result.code, "subCode": result.sub_code, "message": result.message}}
           if result is not None else {}),
        **(extra or {}),
    }
    return {
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": f"Microsoft.Communication.{event_type}",
        "data": data,
        "time": now_iso(),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": source,
    }


def media_streaming_update(status: str, details: str) -> dict[str, Any]:
    return {"mediaStreamingUpdate": {"contentType": "Audio", "mediaStreamingStatus": status,
                                     "mediaStreamingStatusDetails": details}}


def transcription_update(status: str, details: str) -> dict[str, Any]:
    return {"transcriptionUpdate": {"transcriptionStatus": status, "transcriptionStatusDetails": details}}


def dtmf_result(tones: list[str]) -> dict[str, Any]:
    return {"recognitionType": "dtmf", "dtmfResult": {"tones": [DTMF_TONE_NAMES.get(t, t) for t in tones]}}


def transfer_target(target: dict[str, Any] | None, transferee: str) -> dict[str, Any]:
    return {"transferTarget": target, "transferee": identifiers.identifier_for(transferee)}


def body(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(events).encode("utf-8")
