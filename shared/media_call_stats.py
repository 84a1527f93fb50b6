"""Per-call media statistics and the `calls/{instanceId}/media.json` document (pure, no I/O).

Gaps are measured on ACS's frame timestamps, not on arrival time, so that network jitter on our side
does not count as lost audio: a gap is a step between consecutive frames of more than the earlier frame's
duration plus one 20 ms frame (40 ms for the usual 20 ms frames). A frame's duration comes from its size:
nothing published promises that every AudioData is exactly 20 ms (shared/reference: "Media frames").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.media_codec import BYTES_PER_SAMPLE, FRAME_MS
from shared.media_dtmf import DTMF_EVENTS, MAX_DTMF_EVENTS, dtmf_event

GAP_THRESHOLD_MS = 2 * FRAME_MS  # for 20 ms frames; in general the earlier frame's duration plus FRAME_MS
MAX_DTMF_TONES = 256


def parse_timestamp_ms(timestamp: str | None) -> float | None:
    """Milliseconds since the epoch of an ISO 8601 frame timestamp, or None when absent or unparseable."""
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() * 1000.0


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class MediaCallStats:
    instance_id: str
    call_connection_id: str | None
    correlation_id: str | None
    started_at: datetime
    voice_processor: str = "transcribe"
    sample_rate: int | None = None
    frames_received: int = 0
    frames_silent: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    frames_dropped: int = 0
    gaps: int = 0
    max_gap_ms: float = 0.0
    dtmf_tones: list[str] = field(default_factory=list)
    dtmf_events: list[dict[str, str]] = field(default_factory=list)  # tone and arrival time, for the timeline
    transcript_segments: int = 0
    malformed_messages: int = 0
    audio_ms: float = 0.0  # caller audio received, by its duration
    _last_frame_ms: float | None = None
    _last_duration_ms: float = FRAME_MS
    _participant: str | None = None  # whose stream the two fields above follow
    _streams: dict[str | None, tuple[float | None, float]] = field(default_factory=dict)
    _participants: set[str | None] = field(default_factory=set)

    def _switch_stream(self, participant: str | None) -> None:
        self._participants.add(participant)
        self._streams[self._participant] = (self._last_frame_ms, self._last_duration_ms)
        self._last_frame_ms, self._last_duration_ms = self._streams.get(participant, (None, FRAME_MS))
        self._participant = participant

    def duration_ms(self, byte_count: int) -> float:
        """How long `byte_count` bytes of PCM last at this stream's rate (20 ms until the rate is known)."""
        rate = self.sample_rate
        return byte_count * 1000.0 / (rate * BYTES_PER_SAMPLE) if rate else FRAME_MS

    def on_audio(self, timestamp: str | None, silent: bool, byte_count: int, participant: str | None = None) -> float:
        """Count one AudioData; returns its duration in milliseconds. Unmixed audio interleaves one stream per
        participant: gaps are measured within each participant's stream."""
        self.frames_received += 1
        self.bytes_received += byte_count
        duration = self.duration_ms(byte_count)
        self.audio_ms += duration
        if silent:
            self.frames_silent += 1
        at_ms = parse_timestamp_ms(timestamp)
        if at_ms is None:
            return duration
        if participant != self._participant:
            self._switch_stream(participant)
        last, last_duration = self._last_frame_ms, self._last_duration_ms
        self._last_frame_ms, self._last_duration_ms = at_ms, duration
        if last is not None:
            step = at_ms - last
            if step > last_duration + FRAME_MS:
                self.gaps += 1
                if step > self.max_gap_ms:
                    self.max_gap_ms = step
        return duration

    def on_dtmf(self, tone: str, at: datetime | None = None) -> None:
        if len(self.dtmf_tones) < MAX_DTMF_TONES:
            self.dtmf_tones.append(tone)
        if at is not None and len(self.dtmf_events) < MAX_DTMF_EVENTS:
            self.dtmf_events.append(dtmf_event(tone, at))

    def summary(self, ended_at: datetime, close_code: int | None, close_reason: str | None) -> dict[str, Any]:
        """The media.json document. `bytesReceived` counts PCM bytes (decoded size), not WebSocket bytes."""
        return {
            "instanceId": self.instance_id,
            "callConnectionId": self.call_connection_id,
            "correlationId": self.correlation_id,
            "sampleRate": self.sample_rate,
            "framesReceived": self.frames_received,
            "framesSilent": self.frames_silent,
            "bytesReceived": self.bytes_received,
            "audioMs": round(self.audio_ms),
            "framesSent": self.frames_sent,
            "framesDropped": self.frames_dropped,
            "gaps": self.gaps,
            "maxGapMs": round(self.max_gap_ms, 1),
            "dtmfTones": list(self.dtmf_tones),
            DTMF_EVENTS: list(self.dtmf_events),
            # One stream of mixed audio, or one per participant heard unmixed (MEDIA_AUDIO_CHANNEL).
            "audioStreams": max(1, len(self._participants)) if self.frames_received else 0,
            "transcriptSegments": self.transcript_segments,
            "malformedMessages": self.malformed_messages,
            "voiceProcessor": self.voice_processor,
            "startedAt": iso_utc(self.started_at),
            "endedAt": iso_utc(ended_at),
            "closeCode": close_code,
            "closeReason": close_reason or None,
        }


MAX_SOCKETS = 20
# One socket in media.json's `sockets`: the figures that tell it from the call's other sockets.
SOCKET_KEYS = ("socketId", "socketSeq", "startedAt", "endedAt", "framesReceived", "gaps", "maxGapMs", "closeCode",
               "transcriptSegments")


def media_document(previous: bytes | None, summary: dict[str, Any]) -> dict[str, Any]:
    """media.json for a socket that just closed: its own summary, plus `sockets`, every socket of the call so far
    (the earlier ones from the previous media.json, when there is one and it is readable)."""
    sockets: list[dict[str, Any]] = []
    try:
        loaded = json.loads(previous) if previous else None
    except ValueError:
        loaded = None
    if isinstance(loaded, dict):
        earlier = loaded.get("sockets")
        if isinstance(earlier, list):
            sockets = [item for item in earlier if isinstance(item, dict)]
        elif "framesReceived" in loaded:
            sockets = [{key: loaded[key] for key in SOCKET_KEYS if key in loaded}]
    this = {key: summary[key] for key in SOCKET_KEYS if key in summary}
    sockets = [item for item in sockets if item.get("socketId") is None or item.get("socketId") != this.get("socketId")]
    return {**summary, "sockets": [*sockets, this][-MAX_SOCKETS:]}
