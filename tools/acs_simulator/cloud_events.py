"""Call Automation callbacks as ACS posts them: a JSON array of CloudEvents 1.0. No I/O.

Result codes follow ACS's documented ones where known (e.g. RecognizeCompleted 200/8531 "max digits
received", PlayFailed 400/8536 "file could not be downloaded").
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


CONNECTED = Result(200, 0, "")
ACTION_OK = Result(200, 0, "Action completed successfully.")
STREAMING_OK = Result(200, 0, "Action is completed successfully.")
MAX_DIGITS = Result(200, 8531, "Action completed, max digits received.")
STOP_TONE = Result(200, 8514, "Action completed, stop tone detected.")
INITIAL_SILENCE = Result(400, 8510, "Action failed, initial silence timeout reached.")
PLAY_DOWNLOAD_FAILED = Result(400, 8536, "Action failed, file could not be downloaded.")
TRANSFER_ACCEPTED = Result(202, 0, "The transfer operation completed successfully.")
TRANSFER_FAILED = Result(500, 9999, "Transfer failed: the target did not answer.")
HUNG_UP = Result(200, 0, "The conversation has ended.")
ABANDONED = Result(487, 0, "The caller hung up before the call connected.")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def cloud_event(event_type: str, ids: CallIds, operation_context: str | None, result: Result,
                extra: dict[str, Any] | None = None, event_id: str | None = None) -> dict[str, Any]:
    source = f"calling/callConnections/{ids.call_connection_id}"
    data: dict[str, Any] = {
        "callConnectionId": ids.call_connection_id,
        "serverCallId": ids.server_call_id,
        "correlationId": ids.correlation_id,
        "operationContext": operation_context,
        "resultInformation": {"code": result.code, "subCode": result.sub_code, "message": result.message},
        **(extra or {}),
    }
    return {
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": f"Microsoft.Communication.{event_type}",
        "data": data,
        "time": _now(),
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
