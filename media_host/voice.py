"""The voice processor interface and the two simple processors (transcribe, echo).

A processor sees a call's inbound audio and may produce outbound audio and transcript segments through
the `CallOutput` it is given. The call loop owns storage and statistics; processors own only their logic.
`on_audio` runs on the hot path (50 times a second per call), synchronously inside the call's receive
loop: it must not block and must not await; long work belongs in the processor's own tasks.
"""

from __future__ import annotations

from typing import Protocol

from shared.media_codec import AudioData, AudioMetadata, DtmfData
from shared.transcript_lines import TranscriptSegment


class CallOutput(Protocol):
    """What a processor may do to its call. Everything but `wait_for_room` is synchronous and never
    blocks: a frame is written now, queued in a bounded queue, or dropped and counted."""

    def forward_audio_b64(self, data_b64: str) -> None:
        """Send a frame of a stream that is already real-time (an echo of inbound audio) at once."""

    def send_audio_b64(self, data_b64: str) -> None:
        """Send one 20 ms frame, already base64: now if its real-time slot has come, else queued."""

    def send_audio_pcm(self, pcm: bytes) -> None:
        """Send PCM of any length at the call's sample rate, cut into 20 ms frames and paced."""

    def flush_audio(self) -> None:
        """Send the last partial frame of a response, padded with silence."""

    async def wait_for_room(self) -> None:
        """Wait until the outbound queue has room (back-pressure for producers faster than real time)."""

    def stop_audio(self) -> None:
        """Barge-in: drop queued outbound audio and tell ACS to drop what it has queued (StopAudio)."""

    def add_transcript(self, segment: TranscriptSegment) -> None:
        """Append a transcript segment to the call's transcript (buffered, never blocks)."""

    def call_offset_ms(self) -> int:
        """Milliseconds since the call's media started: the offset for transcript segments."""


class DtmfListener(Protocol):
    """Optional for a processor: `on_dtmf` is called for each `DtmfData` (MEDIA_DTMF=on), synchronously on the
    receive path like `on_audio`; a processor without it never sees key presses."""

    def on_dtmf(self, dtmf: DtmfData) -> None: ...


class VoiceProcessor(Protocol):
    name: str
    # True when on_audio reads `frame.pcm`: then the codec decodes and validates the base64 up front.
    needs_pcm: bool

    async def start(self, output: CallOutput) -> None: ...

    def on_metadata(self, metadata: AudioMetadata) -> None: ...

    def on_audio(self, frame: AudioData) -> None: ...

    async def close(self) -> None: ...


class TranscribeProcessor:
    """No outbound audio. ACS's own TranscriptionData is stored by the call loop for every processor."""

    name = "transcribe"
    needs_pcm = False
    # Never answers: no turn latency to measure, and a caller's silence is no dead air (no reply is expected).
    speaks = False

    async def start(self, output: CallOutput) -> None:
        return None

    def on_metadata(self, metadata: AudioMetadata) -> None:
        return None

    def on_audio(self, frame: AudioData) -> None:
        return None

    async def close(self) -> None:
        return None


class EchoProcessor:
    """Diagnostic: returns the caller's audio as it came, without decoding or re-encoding it.

    The inbound stream is already real-time (ACS sends one frame every 20 ms), so each frame is forwarded
    at once rather than paced again; see `WebSocketCallOutput.forward_audio_b64`.
    """

    name = "echo"
    needs_pcm = False

    def __init__(self) -> None:
        self._output: CallOutput | None = None

    async def start(self, output: CallOutput) -> None:
        self._output = output

    def on_metadata(self, metadata: AudioMetadata) -> None:
        return None

    def on_audio(self, frame: AudioData) -> None:
        if self._output is not None:
            self._output.forward_audio_b64(frame.data_b64)

    async def close(self) -> None:
        self._output = None
