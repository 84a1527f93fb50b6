"""The OpenAI Realtime protocol as spoken by Azure OpenAI (GA and preview) and Voice Live (pure).

Client events are rendered to JSON text; server events are parsed into a few typed events the bridge acts
on. Both generations of event names are accepted, because Azure serves both:

    GA (/openai/v1/realtime)              preview (/openai/realtime?api-version=...-preview)
    response.output_audio.delta           response.audio.delta
    response.output_audio_transcript.done response.audio_transcript.done

Session shapes differ too: GA nests audio settings under `session.audio.input/output` and requires
`session.type = "realtime"`; preview uses flat `input_audio_format`, `turn_detection`, `voice`, ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import msgspec

RealtimeShape = Literal["ga", "preview"]
MODEL_SAMPLE_RATE = 24000

_decoder = msgspec.json.Decoder()


class RealtimeProtocolError(ValueError):
    """A server event that is not a JSON object with a string `type`."""


def realtime_url(endpoint: str, deployment: str, api_version: str | None) -> str:
    """The WebSocket URL. A bare resource endpoint gets the Azure OpenAI path (GA `/openai/v1/realtime`,
    or preview `/openai/realtime` when an api-version is given); an endpoint with a path (Voice Live,
    `.../voice-live/realtime`) is used as given. https/http become wss/ws."""
    parts = urlsplit(endpoint)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path:
        path = "/openai/realtime" if api_version else "/openai/v1/realtime"
    if path == "/openai/realtime":
        query = {"api-version": api_version or "", "deployment": deployment}
    else:
        query = {"model": deployment}
        if api_version:
            query["api-version"] = api_version
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def session_update(
    shape: RealtimeShape, instructions: str, voice: str, transcription_model: str | None
) -> str:
    """`session.update`: instructions, voice, server VAD, 24 kHz PCM both ways, caller transcription."""
    turn_detection = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500,
                      "create_response": True, "interrupt_response": True}
    transcription = {"model": transcription_model} if transcription_model else None
    session: dict[str, Any]
    if shape == "ga":
        audio_format = {"type": "audio/pcm", "rate": MODEL_SAMPLE_RATE}
        session = {
            "type": "realtime",
            "instructions": instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {"format": audio_format, "turn_detection": turn_detection, "transcription": transcription},
                "output": {"format": audio_format, "voice": voice},
            },
        }
    else:
        session = {
            "modalities": ["text", "audio"],
            "instructions": instructions,
            "voice": voice,
            "input_audio_format": "pcm16",
            "output_audio_format": "pcm16",
            "turn_detection": turn_detection,
            "input_audio_transcription": transcription,
        }
    return json.dumps({"type": "session.update", "session": session})


def append_audio(audio_b64: str) -> str:
    """`input_audio_buffer.append` around base64 PCM that is already encoded (no re-encoding)."""
    return '{"type":"input_audio_buffer.append","audio":"' + audio_b64 + '"}'


def cancel_response() -> str:
    return '{"type":"response.cancel"}'


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started speaking (server VAD): barge-in."""

    item_id: str | None
    audio_start_ms: int | None


@dataclass(frozen=True)
class AudioDelta:
    audio_b64: str


@dataclass(frozen=True)
class CallerTranscript:
    item_id: str | None
    text: str


@dataclass(frozen=True)
class AssistantTranscript:
    text: str


@dataclass(frozen=True)
class ResponseStarted:
    pass


@dataclass(frozen=True)
class ResponseDone:
    pass


@dataclass(frozen=True)
class ServerError:
    code: str | None
    message: str


@dataclass(frozen=True)
class OtherEvent:
    type: str


RealtimeEvent = (SpeechStarted | AudioDelta | CallerTranscript | AssistantTranscript | ResponseStarted
                 | ResponseDone | ServerError | OtherEvent)

_AUDIO_DELTA = frozenset({"response.output_audio.delta", "response.audio.delta"})
_ASSISTANT_DONE = frozenset({"response.output_audio_transcript.done", "response.audio_transcript.done"})


def _text(event: dict[str, Any], key: str) -> str | None:
    value = event.get(key)
    return value if isinstance(value, str) else None


def parse_server_event(message: str | bytes) -> RealtimeEvent:
    """Parse one server event. Raises `RealtimeProtocolError` for anything that is not an event."""
    try:
        event = _decoder.decode(message)
    except (msgspec.DecodeError, ValueError, RecursionError) as error:
        raise RealtimeProtocolError(f"not JSON: {error}") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise RealtimeProtocolError("event without a type")
    kind: str = event["type"]
    if kind in _AUDIO_DELTA:
        delta = _text(event, "delta")
        return AudioDelta(delta) if delta else OtherEvent(kind)
    if kind == "input_audio_buffer.speech_started":
        start = event.get("audio_start_ms")
        return SpeechStarted(_text(event, "item_id"),
                             start if isinstance(start, int) and not isinstance(start, bool) else None)
    if kind == "conversation.item.input_audio_transcription.completed":
        return CallerTranscript(_text(event, "item_id"), (_text(event, "transcript") or "").strip())
    if kind in _ASSISTANT_DONE:
        return AssistantTranscript((_text(event, "transcript") or "").strip())
    if kind == "response.created":
        return ResponseStarted()
    if kind == "response.done":
        return ResponseDone()
    if kind == "error":
        error = event.get("error") if isinstance(event.get("error"), dict) else {}
        return ServerError(_text(error, "code"), _text(error, "message") or "unknown error")
    return OtherEvent(kind)
