"""The OpenAI Realtime protocol as spoken by Azure OpenAI (GA and preview) and Voice Live (pure).

The endpoint decides the service (`service_for`):

    https://<res>.openai.azure.com[/openai/v1]        Azure OpenAI GA      /openai/v1/realtime?model=
    https://<res>.openai.azure.com/openai[/realtime]  Azure OpenAI preview /openai/realtime?api-version=&deployment=
    https://<res>.services.ai.azure.com/voice-live    Voice Live           /voice-live/realtime?api-version=&model=

Client events are rendered to JSON text; server events are parsed into a few typed events the bridge acts
on. Both generations of event names are accepted, because Azure serves both:

    GA (/openai/v1/realtime)              preview and Voice Live
    response.output_audio.delta           response.audio.delta
    response.output_audio_transcript.done response.audio_transcript.done

Session shapes differ too: GA nests audio settings under `session.audio.input/output` and requires
`session.type = "realtime"`; preview and Voice Live use flat `input_audio_format`, `turn_detection`, `voice`.
Sources: the `openai` package's generated types (`openai/types/realtime/*`, `openai/types/beta/realtime/*`),
the `azure-ai-voicelive` models (`RequestSession`, `AzureSemanticVad`, `AzureStandardVoice`,
`OutputAudioFormat`) and Microsoft Learn's "How to use the Voice Live API".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import msgspec

from shared.call_action_tools import TOOL_CALL_EVENT

RealtimeService = Literal["ga", "preview", "voice_live"]
MODEL_SAMPLE_RATE = 24000  # Azure OpenAI's pcm16 / audio/pcm rate, both ways
VOICE_LIVE_RATES = (16000, 24000)  # input_audio_sampling_rate; output pcm16_16000hz or pcm16 (24 kHz)

_decoder = msgspec.json.Decoder()

_GA_PATHS = ("", "/openai/v1", "/openai/v1/realtime")
_PREVIEW_PATHS = ("/openai", "/openai/realtime")
_VOICE_LIVE_PATHS = ("/voice-live", "/voice-live/realtime")


class RealtimeProtocolError(ValueError):
    """A server event that is not a JSON object with a string `type`."""


class RealtimeEndpointError(ValueError):
    """The endpoint and api-version do not name one service; `variable` is the setting to fix."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


def service_for(endpoint: str, api_version: str | None) -> RealtimeService:
    """Which service an endpoint is. GA takes no api-version (the `/openai/v1` path is versionless);
    preview and Voice Live require one. Anything else is refused rather than guessed."""
    path = urlsplit(endpoint).path.rstrip("/")
    if path in _GA_PATHS:
        if api_version:
            raise RealtimeEndpointError(
                "REALTIME_API_VERSION", "REALTIME_API_VERSION must be empty for the Azure OpenAI GA endpoint "
                f"({endpoint}); for the preview protocol end REALTIME_ENDPOINT with /openai/realtime")
        return "ga"
    if path in _PREVIEW_PATHS or path in _VOICE_LIVE_PATHS:
        if not api_version:
            example = "2025-04-01-preview" if path in _PREVIEW_PATHS else "2025-10-01"
            raise RealtimeEndpointError("REALTIME_API_VERSION", "REALTIME_API_VERSION is required for "
                                        f"{endpoint}; for example REALTIME_API_VERSION={example}")
        return "preview" if path in _PREVIEW_PATHS else "voice_live"
    raise RealtimeEndpointError(
        "REALTIME_ENDPOINT", f"REALTIME_ENDPOINT path {path!r} is not a realtime service; for example "
        "https://my-aoai.openai.azure.com (GA), https://my-aoai.openai.azure.com/openai/realtime (preview) or "
        "https://my-foundry.services.ai.azure.com/voice-live (Voice Live)")


def realtime_url(service: RealtimeService, endpoint: str, deployment: str, api_version: str | None) -> str:
    """The WebSocket URL of `service` (see `service_for`); https/http become wss/ws."""
    parts = urlsplit(endpoint)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    query: dict[str, str]
    if service == "ga":
        path, query = "/openai/v1/realtime", {"model": deployment}
    elif service == "preview":
        path, query = "/openai/realtime", {"api-version": api_version or "", "deployment": deployment}
    else:
        path, query = "/voice-live/realtime", {"api-version": api_version or "", "model": deployment}
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def is_azure_voice(voice: str) -> bool:
    """Azure text-to-speech voices are named like `en-US-AvaNeural` or `en-US-Ava:DragonHDLatestNeural`;
    OpenAI voices are single lower-case words (`alloy`, `verse`)."""
    return voice.count("-") >= 2 and "Neural" in voice


@dataclass(frozen=True)
class SessionOptions:
    service: RealtimeService
    instructions: str
    voice: str
    transcription_model: str | None
    # Voice Live only: the call's rate, taken without resampling (input_audio_sampling_rate, pcm16_16000hz).
    sample_rate: int = MODEL_SAMPLE_RATE


def model_sample_rate(service: RealtimeService, call_rate: int) -> int:
    """The rate of the audio exchanged with the model, both ways."""
    return call_rate if service == "voice_live" and call_rate in VOICE_LIVE_RATES else MODEL_SAMPLE_RATE


# interrupt_response: the service cancels the active response itself when the caller starts speaking
# (realtime_audio_input_turn_detection_param.py), so the bridge never sends its own response.cancel.
PREFIX_PADDING_MS = 300  # `audio_start_ms` of speech_started is this much before the speech was detected
_SERVER_VAD = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": PREFIX_PADDING_MS,
               "silence_duration_ms": 500,
               "create_response": True, "interrupt_response": True}
# Voice Live: Azure semantic VAD ignores filler words while the agent talks (fewer false barge-ins) and
# truncates the interrupted item itself (AzureSemanticVad.auto_truncate).
_VOICE_LIVE_VAD = {"type": "azure_semantic_vad", "threshold": 0.5, "prefix_padding_ms": PREFIX_PADDING_MS,
                   "silence_duration_ms": 500, "remove_filler_words": True, "create_response": True,
                   "interrupt_response": True, "auto_truncate": True}


def auto_truncates(service: RealtimeService) -> bool:
    """True when the service truncates an interrupted item itself (no `conversation.item.truncate`)."""
    return service == "voice_live"


def session_update(options: SessionOptions) -> str:
    """`session.update`: instructions, voice, VAD, PCM both ways, caller transcription."""
    transcription = {"model": options.transcription_model} if options.transcription_model else None
    session: dict[str, Any]
    if options.service == "ga":
        audio_format = {"type": "audio/pcm", "rate": MODEL_SAMPLE_RATE}
        session = {
            "type": "realtime",
            "instructions": options.instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {"format": audio_format, "turn_detection": _SERVER_VAD, "transcription": transcription},
                "output": {"format": audio_format, "voice": options.voice},
            },
        }
    elif options.service == "preview":
        session = {
            "modalities": ["text", "audio"],
            "instructions": options.instructions,
            "voice": options.voice,
            "input_audio_format": "pcm16",
            "output_audio_format": "pcm16",
            "turn_detection": _SERVER_VAD,
            "input_audio_transcription": transcription,
        }
    else:
        rate = model_sample_rate("voice_live", options.sample_rate)
        voice_type = "azure-standard" if is_azure_voice(options.voice) else "openai"
        session = {
            "modalities": ["text", "audio"],
            "instructions": options.instructions,
            "voice": {"name": options.voice, "type": voice_type},
            "input_audio_format": "pcm16",
            "input_audio_sampling_rate": rate,
            "output_audio_format": "pcm16_16000hz" if rate == 16000 else "pcm16",
            "turn_detection": _VOICE_LIVE_VAD,
            "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
            "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
            "input_audio_transcription": transcription,
        }
    return json.dumps({"type": "session.update", "session": session})


def append_audio(audio_b64: str) -> str:
    """`input_audio_buffer.append` around base64 PCM that is already encoded (no re-encoding)."""
    return '{"type":"input_audio_buffer.append","audio":"' + audio_b64 + '"}'


_KEY = re.compile(r"[0-9A-Za-z*#]{1,16}")  # a DtmfData tone: 0-9, *, #, A-D (or a tone's name)


def key_press_item(tone: str) -> str | None:
    """A caller's key press as a user text item: `conversation.item.create` with a user `message` whose content
    is `input_text` (OpenAI realtime RealtimeConversationItemUserMessage, content type input_text; Voice Live
    UserMessageItem with InputTextContentPart, the same JSON). None for a tone that is not a key."""
    if _KEY.fullmatch(tone) is None:
        return None
    text = f"The caller pressed the key {tone} on their phone keypad."
    return json.dumps({"type": "conversation.item.create",
                       "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})


def truncate_item(item_id: str, audio_end_ms: int) -> str:
    """`conversation.item.truncate`: the model forgets the audio (and its transcript) after `audio_end_ms`,
    the part the caller never heard. `content_index` is 0 (conversation_item_truncate_event_param.py)."""
    return json.dumps({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                       "audio_end_ms": max(0, audio_end_ms)})


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started speaking (VAD): barge-in."""

    item_id: str | None
    audio_start_ms: int | None


@dataclass(frozen=True)
class SpeechStopped:
    """The caller stopped speaking (VAD). `audio_end_ms` is in the input buffer's time and includes the
    `silence_duration_ms` the service waited (input_audio_buffer_speech_stopped_event.py)."""

    item_id: str | None
    audio_end_ms: int | None


@dataclass(frozen=True)
class AudioDelta:
    audio_b64: str
    response_id: str | None
    item_id: str | None


@dataclass(frozen=True)
class CallerTranscript:
    item_id: str | None
    text: str


@dataclass(frozen=True)
class TranscriptionFailed:
    item_id: str | None
    code: str | None
    message: str


@dataclass(frozen=True)
class AssistantTranscript:
    text: str


@dataclass(frozen=True)
class ResponseStarted:
    response_id: str | None


@dataclass(frozen=True)
class ResponseDone:
    """`status` is completed, cancelled, failed or incomplete (realtime_response_status.py)."""

    response_id: str | None
    status: str
    reason: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class ToolCallDone:
    """`response.function_call_arguments.done`: also sent for responses that end cancelled or incomplete."""

    response_id: str | None
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class ServerError:
    code: str | None
    message: str
    type: str | None = None
    param: str | None = None


@dataclass(frozen=True)
class OtherEvent:
    type: str


RealtimeEvent = (SpeechStarted | SpeechStopped | AudioDelta | CallerTranscript | TranscriptionFailed
                 | AssistantTranscript | ResponseStarted | ResponseDone | ToolCallDone | ServerError | OtherEvent)

_AUDIO_DELTA = frozenset({"response.output_audio.delta", "response.audio.delta"})
_ASSISTANT_DONE = frozenset({"response.output_audio_transcript.done", "response.audio_transcript.done"})


def _text(event: Mapping[str, Any], key: str) -> str | None:
    value = event.get(key)
    return value if isinstance(value, str) else None


def _object(event: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = event.get(key)
    return value if isinstance(value, dict) else {}


def _audio_delta(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    delta = _text(event, "delta")
    return AudioDelta(delta, _text(event, "response_id"), _text(event, "item_id")) if delta else OtherEvent(kind)


def _speech_started(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    start = event.get("audio_start_ms")
    return SpeechStarted(_text(event, "item_id"), start if isinstance(start, int) and not isinstance(start, bool)
                         else None)


def _speech_stopped(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    end = event.get("audio_end_ms")
    return SpeechStopped(_text(event, "item_id"), end if isinstance(end, int) and not isinstance(end, bool) else None)


def _caller_transcript(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    return CallerTranscript(_text(event, "item_id"), (_text(event, "transcript") or "").strip())


def _transcription_failed(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    details = _object(event, "error")
    return TranscriptionFailed(_text(event, "item_id"), _text(details, "code") or _text(details, "type"),
                               _text(details, "message") or "no message")


def _assistant_transcript(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    return AssistantTranscript((_text(event, "transcript") or "").strip())


def _response_created(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    return ResponseStarted(_text(_object(event, "response"), "id"))


def _response_done(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    response = _object(event, "response")
    details = _object(response, "status_details")
    failure = _object(details, "error")
    return ResponseDone(_text(response, "id"), _text(response, "status") or "unknown", _text(details, "reason"),
                        _text(failure, "code") or _text(failure, "type"), _text(failure, "message"))


def _tool_call(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    return ToolCallDone(_text(event, "response_id"), event)


def _server_error(kind: str, event: Mapping[str, Any]) -> RealtimeEvent:
    details = _object(event, "error")
    return ServerError(_text(details, "code"), _text(details, "message") or "unknown error", _text(details, "type"),
                       _text(details, "param"))


_PARSERS: dict[str, Callable[[str, Mapping[str, Any]], RealtimeEvent]] = {
    **{kind: _audio_delta for kind in _AUDIO_DELTA},
    **{kind: _assistant_transcript for kind in _ASSISTANT_DONE},
    "input_audio_buffer.speech_started": _speech_started,
    "input_audio_buffer.speech_stopped": _speech_stopped,
    "conversation.item.input_audio_transcription.completed": _caller_transcript,
    "conversation.item.input_audio_transcription.failed": _transcription_failed,
    "response.created": _response_created,
    "response.done": _response_done,
    TOOL_CALL_EVENT: _tool_call,
    "error": _server_error,
}


def parse_server_event(message: str | bytes) -> RealtimeEvent:
    """Parse one server event. Raises `RealtimeProtocolError` for anything that is not an event."""
    try:
        event = _decoder.decode(message)
    except (msgspec.DecodeError, ValueError, RecursionError) as error:
        raise RealtimeProtocolError(f"not JSON: {error}") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise RealtimeProtocolError("event without a type")
    kind: str = event["type"]
    parser = _PARSERS.get(kind)
    return parser(kind, event) if parser is not None else OtherEvent(kind)
