"""ACS media-streaming WebSocket messages: what ACS sends (camelCase) and what it accepts back
(PascalCase in Microsoft's samples; both casings are read). No I/O."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

TICKS_PER_SECOND = 10_000_000  # offsets and durations are in 100-ns ticks
FRAME_SECONDS = 0.02

DTMF_TONE_NAMES = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
    "8": "eight", "9": "nine", "*": "asterisk", "#": "pound", "A": "a", "B": "b", "C": "c", "D": "d",
}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audio_metadata(subscription_id: str, sample_rate: int, frame_bytes: int) -> str:
    return json.dumps({"kind": "AudioMetadata", "audioMetadata": {
        "subscriptionId": subscription_id, "encoding": "PCM", "sampleRate": sample_rate, "channels": 1,
        "length": frame_bytes}})


def audio_data(pcm: bytes, timestamp: datetime, participant_raw_id: str | None, silent: bool) -> str:
    return json.dumps({"kind": "AudioData", "audioData": {
        "timestamp": _iso(timestamp), "participantRawID": participant_raw_id,
        "data": base64.b64encode(pcm).decode("ascii"), "silent": silent}})


def dtmf_data(tone: str) -> str:
    return json.dumps({"kind": "DtmfData", "dtmfData": {"data": tone}})


def transcription_metadata(subscription_id: str, locale: str, call_connection_id: str, correlation_id: str) -> str:
    return json.dumps({"kind": "TranscriptionMetadata", "transcriptionMetadata": {
        "subscriptionId": subscription_id, "locale": locale, "callConnectionId": call_connection_id,
        "correlationId": correlation_id}})


def transcription_data(text: str, offset_s: float, duration_s: float, participant_raw_id: str,
                       result_status: str = "Final", confidence: float = 0.92) -> str:
    """Words share the utterance's duration evenly: no recogniser runs, so per-word timing is synthetic."""
    words = text.split()
    per_word = duration_s / max(1, len(words))
    word_entries = [{"text": w.strip(".,!?"), "offset": int((offset_s + i * per_word) * TICKS_PER_SECOND),
                     "duration": int(per_word * TICKS_PER_SECOND)} for i, w in enumerate(words)]
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": {
        "text": text, "format": "display", "confidence": confidence,
        "offset": int(offset_s * TICKS_PER_SECOND), "duration": int(duration_s * TICKS_PER_SECOND),
        "words": word_entries, "participantRawID": participant_raw_id, "resultStatus": result_status}})


@dataclass(frozen=True)
class InboundMessage:
    """A message the application sent to ACS on the media socket."""

    kind: str  # "AudioData" | "StopAudio" | "Invalid" | other kinds as named
    pcm: bytes = b""
    error: str = ""


def _field(obj: dict[str, Any], name: str) -> Any:
    return obj.get(name, obj.get(name[0].lower() + name[1:]))


def parse_inbound(message: str | bytes) -> InboundMessage:
    if isinstance(message, bytes):
        return InboundMessage("Invalid", error="binary frame; ACS expects JSON text")
    try:
        obj = json.loads(message)
    except ValueError:
        return InboundMessage("Invalid", error="not JSON")
    if not isinstance(obj, dict) or not isinstance(_field(obj, "Kind"), str):
        return InboundMessage("Invalid", error="no Kind")
    kind = _field(obj, "Kind")
    if kind == "AudioData":
        payload = _field(obj, "AudioData")
        data = _field(payload, "Data") if isinstance(payload, dict) else None
        try:
            pcm = base64.b64decode(data, validate=True) if isinstance(data, str) else None
        except ValueError:
            pcm = None
        if pcm is None:
            return InboundMessage("Invalid", error="AudioData without base64 Data")
        return InboundMessage("AudioData", pcm=pcm)
    return InboundMessage(kind)


def frame_timestamp(stream_start: datetime, frame_index: int) -> datetime:
    return stream_start + timedelta(seconds=frame_index * FRAME_SECONDS)
