"""Sans-I/O codec for the ACS bidirectional media-streaming WebSocket messages.

Inbound (ACS -> media host): AudioMetadata, AudioData, DtmfData, TranscriptionMetadata, TranscriptionData,
with either key casing ("kind"/"Kind", "audioData"/"AudioData", nested keys too). Unknown kinds decode to
`UnknownMediaMessage` rather than failing, because ACS adds kinds over time. Anything malformed raises the
one error type `MediaMessageError`.

Outbound (media host -> ACS): AudioData and StopAudio, with PascalCase keys as in Microsoft's samples.

Hot path: AudioData arrives 50 times a second per call. JSON is parsed with msgspec's untyped decoder (about
6x faster than `json.loads` on a 1 KB frame here) and the base64 payload is kept as text: it is decoded
only when someone asks for the PCM (`AudioData.pcm`), and the echo/forwarding paths re-send it unchanged.
"""

from __future__ import annotations

import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, Union

import msgspec

# 100-ns ticks (.NET TimeSpan ticks), the unit of ACS transcription offsets and durations.
TICKS_PER_MS = 10_000
SUPPORTED_SAMPLE_RATES = (16000, 24000)
BYTES_PER_SAMPLE = 2  # PCM 16-bit mono
FRAME_MS = 20
# Nothing published promises that every AudioData message is exactly one 20 ms frame: the docs show 640-byte
# frames at 16 kHz, no more (shared/reference/acs-wire-formats.md, "Media frames"; issue 12). So any whole
# number of 16-bit samples is taken, up to one second of audio at the stream's rate: far more than any frame
# seen, and a bound on what one message can make the host buffer.
MAX_AUDIO_MS = 1000
MAX_DTMF_LENGTH = 32

_json_decoder = msgspec.json.Decoder()
_json_encoder = msgspec.json.Encoder()


class MediaMessageError(ValueError):
    """A media-streaming message is malformed: bad JSON, wrong types, bad base64, wrong frame length..."""


def frame_bytes_for(sample_rate: int) -> int:
    """Bytes in one 20 ms PCM 16-bit mono frame: 640 at 16 kHz, 960 at 24 kHz."""
    return sample_rate * FRAME_MS // 1000 * BYTES_PER_SAMPLE


def max_audio_bytes_for(sample_rate: int | None) -> int:
    """The most PCM bytes one AudioData may carry: MAX_AUDIO_MS at `sample_rate` (the highest supported rate
    while the stream's rate is not known yet)."""
    rate = max(SUPPORTED_SAMPLE_RATES) if sample_rate is None else sample_rate
    return rate * MAX_AUDIO_MS // 1000 * BYTES_PER_SAMPLE


def base64_length(byte_count: int) -> int:
    """Length of the padded base64 text for `byte_count` bytes."""
    return 4 * ((byte_count + 2) // 3)


@dataclass(frozen=True)
class AudioMetadata:
    subscription_id: str | None
    encoding: str
    sample_rate: int
    channels: int
    length: int | None

    @property
    def frame_bytes(self) -> int:
        return frame_bytes_for(self.sample_rate)


@dataclass(frozen=True)
class AudioData:
    """One inbound audio message: any whole number of 16-bit samples, not necessarily 20 ms (see MAX_AUDIO_MS).
    `data_b64` is the payload as sent; `pcm` decodes it on first use. `sample_rate` is the stream's, when the
    decoder was told it; pace and count by `sample_count` / `duration_ms`, not by message."""

    data_b64: str
    timestamp: str | None
    participant_raw_id: str | None
    silent: bool
    sample_rate: int | None = None

    @cached_property
    def pcm(self) -> bytes:
        return _decode_base64(self.data_b64)

    @property
    def byte_length(self) -> int:
        """PCM byte count computed from the base64 text, without decoding it."""
        text = self.data_b64
        return len(text) // 4 * 3 - text.endswith("=") - text.endswith("==")

    @property
    def sample_count(self) -> int:
        return self.byte_length // BYTES_PER_SAMPLE

    @property
    def duration_ms(self) -> float | None:
        """The audio's length in milliseconds (20.0 for a 640-byte frame at 16 kHz); None without a sample rate."""
        return None if self.sample_rate is None else self.sample_count * 1000 / self.sample_rate


@dataclass(frozen=True)
class DtmfData:
    data: str


@dataclass(frozen=True)
class TranscriptionMetadata:
    subscription_id: str | None
    locale: str | None
    call_connection_id: str | None
    correlation_id: str | None


@dataclass(frozen=True)
class TranscriptionWord:
    text: str
    offset_ticks: int | None
    duration_ticks: int | None


@dataclass(frozen=True)
class TranscriptionData:
    text: str
    format: str | None
    confidence: float | None
    offset_ticks: int
    duration_ticks: int | None
    words: tuple[TranscriptionWord, ...]
    participant_raw_id: str | None
    result_status: str | None

    @property
    def is_final(self) -> bool:
        return (self.result_status or "").lower() == "final"

    @property
    def offset_ms(self) -> int:
        return self.offset_ticks // TICKS_PER_MS

    @property
    def duration_ms(self) -> int | None:
        return None if self.duration_ticks is None else self.duration_ticks // TICKS_PER_MS


@dataclass(frozen=True)
class UnknownMediaMessage:
    """A well-formed message of a kind this codec does not know. Kept so callers can count or log it."""

    kind: str
    payload: Mapping[str, Any] = field(compare=False, repr=False)


MediaMessage = Union[  # noqa: UP007 - a runtime alias, also used in isinstance-free type hints
    AudioMetadata, AudioData, DtmfData, TranscriptionMetadata, TranscriptionData, UnknownMediaMessage
]


def _decode_base64(text: str) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise MediaMessageError(f"audio data is not valid base64: {error}") from None


@cache
def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """`obj[key]` under camelCase or PascalCase; camelCase (what ACS sends) wins when both are present."""
    value = obj.get(key)
    if value is None:
        value = obj.get(_pascal(key))
    return value


def _object(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = _get(obj, key)
    if not isinstance(value, dict):
        raise MediaMessageError(f"{key} must be an object")
    return value


def _string(obj: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = _get(obj, key)
    if value is None:
        if required:
            raise MediaMessageError(f"{key} is missing")
        return None
    if not isinstance(value, str):
        raise MediaMessageError(f"{key} must be a string")
    return value


def _integer(obj: Mapping[str, Any], key: str, *alternatives: str, required: bool = False) -> int | None:
    for name in (key, *alternatives):
        value = _get(obj, name)
        if value is not None:
            break
    else:
        if required:
            raise MediaMessageError(f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MediaMessageError(f"{key} must be a number")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise MediaMessageError(f"{key} must be an integer")
        value = int(value)
    if value < 0:
        raise MediaMessageError(f"{key} must not be negative")
    return value


def _confidence(obj: Mapping[str, Any]) -> float | None:
    value = _get(obj, "confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MediaMessageError("confidence must be a finite number")
    return float(value)


def _audio_data(body: Mapping[str, Any], frame_bytes: int | None, validate_audio: bool,
                sample_rate: int | None) -> AudioData:
    # The hot path: written out with direct lookups (camelCase first, as ACS sends it) rather than through
    # the generic helpers, which halves its cost.
    data = body.get("data")
    if data is None:
        data = body.get("Data")
    if type(data) is not str:
        raise MediaMessageError("data must be a base64 string")
    silent = body.get("silent")
    if silent is None:
        silent = body.get("Silent")
        if silent is None:
            silent = False
    if type(silent) is not bool:
        raise MediaMessageError("silent must be a boolean")
    timestamp = body.get("timestamp")
    if timestamp is None:
        timestamp = body.get("Timestamp")
    if timestamp is not None and type(timestamp) is not str:
        raise MediaMessageError("timestamp must be a string")
    frame = AudioData(data, timestamp, _string(body, "participantRawID"), silent, sample_rate)
    size = _checked_audio_size(frame, frame_bytes, sample_rate)
    # Strict base64 still takes surplus padding ("AAAA===="), so the decoded length is compared with the one
    # checked above from the text.
    if validate_audio and len(frame.pcm) != size:
        raise MediaMessageError("audio data has surplus base64 padding")
    return frame


def _checked_audio_size(frame: AudioData, frame_bytes: int | None, sample_rate: int | None) -> int:
    """The PCM byte count of `frame` (computed once), or MediaMessageError when it is not allowed."""
    size = frame.byte_length
    if frame_bytes is not None:
        if len(frame.data_b64) != base64_length(frame_bytes) or size != frame_bytes:
            raise MediaMessageError(f"audio frame must be {frame_bytes} bytes")
        return size
    if not size or len(frame.data_b64) % 4:
        raise MediaMessageError("audio data must be non-empty padded base64")
    if size % BYTES_PER_SAMPLE:
        raise MediaMessageError("audio data must be a whole number of 16-bit samples")
    if size > max_audio_bytes_for(sample_rate):
        raise MediaMessageError(f"audio data longer than {MAX_AUDIO_MS} ms")
    return size


def _audio_metadata(body: Mapping[str, Any]) -> AudioMetadata:
    sample_rate = _integer(body, "sampleRate", required=True)
    if sample_rate not in SUPPORTED_SAMPLE_RATES:
        raise MediaMessageError(f"sampleRate must be one of {SUPPORTED_SAMPLE_RATES}")
    channels = _integer(body, "channels")
    if channels not in (None, 1):
        raise MediaMessageError("only mono audio (channels=1) is supported")
    encoding = _string(body, "encoding") or "PCM"
    if encoding.upper() != "PCM":
        raise MediaMessageError("only PCM encoding is supported")
    return AudioMetadata(
        subscription_id=_string(body, "subscriptionId"),
        encoding=encoding,
        sample_rate=sample_rate,
        channels=1,
        length=_integer(body, "length"),
    )


def _words(body: Mapping[str, Any]) -> tuple[TranscriptionWord, ...]:
    raw = _get(body, "words")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MediaMessageError("words must be a list")
    words = []
    for item in raw:
        if not isinstance(item, dict):
            raise MediaMessageError("each word must be an object")
        words.append(TranscriptionWord(
            text=_string(item, "text") or "",
            offset_ticks=_integer(item, "offset", "offsetInTicks"),
            duration_ticks=_integer(item, "duration", "durationInTicks"),
        ))
    return tuple(words)


def _transcription_data(body: Mapping[str, Any]) -> TranscriptionData:
    # Older SDK models name these offsetInTicks/durationInTicks/resultState; the service sends
    # offset/duration/resultStatus. Both are accepted; the service's name wins when it is there at all.
    status = _string(body, "resultStatus")
    return TranscriptionData(
        text=_string(body, "text") or "",
        format=_string(body, "format"),
        confidence=_confidence(body),
        offset_ticks=_integer(body, "offset", "offsetInTicks") or 0,
        duration_ticks=_integer(body, "duration", "durationInTicks"),
        words=_words(body),
        participant_raw_id=_string(body, "participantRawID"),
        result_status=status if status is not None else _string(body, "resultState"),
    )


def decode_media_message(
    message: str | bytes, *, frame_bytes: int | None = None, validate_audio: bool = True,
    sample_rate: int | None = None,
) -> MediaMessage:
    """Decode one text message from ACS.

    `sample_rate`, when known (from AudioMetadata), bounds AudioData to MAX_AUDIO_MS at that rate and is
    carried on it for `duration_ms`; AudioData may hold any whole number of 16-bit samples up to that bound.
    `frame_bytes` (older callers) instead demands exactly that many bytes, one 20 ms frame.
    `validate_audio=False` skips decoding the base64 payload: for callers that never read `pcm` (the
    transcribe processor) or forward the text unchanged (echo). Its length is still checked.
    Raises `MediaMessageError` for anything malformed, never another exception.
    """
    try:
        root = _json_decoder.decode(message)
    except (msgspec.DecodeError, ValueError, RecursionError) as error:
        raise MediaMessageError(f"not valid JSON: {error}") from None
    if type(root) is not dict:
        raise MediaMessageError("message must be a JSON object")
    kind = root.get("kind") or root.get("Kind")
    if type(kind) is not str:
        raise MediaMessageError("kind must be a string")
    if kind == "AudioData":
        body = root.get("audioData") or root.get("AudioData")
        if type(body) is not dict:
            raise MediaMessageError("audioData must be an object")
        return _audio_data(body, frame_bytes, validate_audio, sample_rate)
    if kind == "AudioMetadata":
        return _audio_metadata(_object(root, "audioMetadata"))
    if kind == "DtmfData":
        tone = _string(_object(root, "dtmfData"), "data", required=True)
        assert tone is not None
        if len(tone) > MAX_DTMF_LENGTH:
            raise MediaMessageError("dtmf data is too long")
        return DtmfData(tone)
    if kind == "TranscriptionData":
        return _transcription_data(_object(root, "transcriptionData"))
    if kind == "TranscriptionMetadata":
        body = _object(root, "transcriptionMetadata")
        return TranscriptionMetadata(
            subscription_id=_string(body, "subscriptionId"),
            locale=_string(body, "locale"),
            call_connection_id=_string(body, "callConnectionId"),
            correlation_id=_string(body, "correlationId"),
        )
    return UnknownMediaMessage(kind, root)


_AUDIO_PREFIX = '{"Kind":"AudioData","AudioData":{"Data":"'
_AUDIO_SUFFIX = '"},"StopAudio":null}'
STOP_AUDIO_MESSAGE = '{"Kind":"StopAudio","AudioData":null,"StopAudio":{}}'


def encode_audio_data_b64(data_b64: str) -> str:
    """Outbound AudioData around base64 text that is already encoded (echo/forwarding: no re-encoding).

    The caller guarantees `data_b64` is base64 (it came out of this codec or out of a base64 encoder);
    base64 holds no character that JSON would need to escape, so plain concatenation is exact.
    """
    return _AUDIO_PREFIX + data_b64 + _AUDIO_SUFFIX


def encode_audio_data(pcm: bytes) -> str:
    """Outbound AudioData for raw PCM bytes."""
    return _AUDIO_PREFIX + binascii.b2a_base64(pcm, newline=False).decode() + _AUDIO_SUFFIX


def encode_stop_audio() -> str:
    """Outbound StopAudio: ACS drops audio queued for playback (barge-in)."""
    return STOP_AUDIO_MESSAGE


def encode_json(value: Any) -> bytes:
    """Compact JSON for the media host's own documents (shared fast encoder)."""
    return _json_encoder.encode(value)
