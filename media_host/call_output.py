"""The outbound side of one call: audio frames (forwarded or paced), StopAudio, transcript segments.

All writes are synchronous (`InlineServerConnection.write_text`): a frame is either written now or
dropped and counted, so nothing here ever waits on a peer and one slow peer cannot hold up another call.
Paced audio (a voice model's answer) goes through `AudioPacer`: frames whose real-time slot has come are
written at once; the rest wait in the pacer's bounded queue and a per-call sender task writes them at
their slot.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import time

from media_host.append_buffer import AppendBuffer
from media_host.call_turns import CallTurns
from media_host.inline_connection import InlineServerConnection
from shared.audio_pacing import AudioPacer, FrameSlicer
from shared.media_call_stats import MediaCallStats
from shared.media_codec import encode_audio_data_b64, encode_stop_audio, frame_bytes_for
from shared.transcript_lines import TranscriptSegment


class WebSocketCallOutput:
    def __init__(
        self,
        ws: InlineServerConnection,
        stats: MediaCallStats,
        transcript: AppendBuffer,
        *,
        pacer: AudioPacer[str] | None = None,
        turns: CallTurns | None = None,
    ) -> None:
        self._ws = ws
        self._stats = stats
        self._transcript = transcript
        self._pacer: AudioPacer[str] = pacer or AudioPacer()
        self._started = time.monotonic()
        self._slicer: FrameSlicer | None = None
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._sender: asyncio.Task[None] | None = None
        self._closed = False
        self.turns = turns

    def set_sample_rate(self, sample_rate: int) -> None:
        if self._slicer is None or self._slicer.frame_bytes != frame_bytes_for(sample_rate):
            self._slicer = FrameSlicer(sample_rate)

    def _write_audio(self, message: str) -> None:
        if self._ws.write_text(message):
            self._stats.frames_sent += 1
            if self.turns is not None:
                self.turns.agent_frame()
        else:
            self._stats.frames_dropped += 1

    def forward_audio_b64(self, data_b64: str) -> None:
        """Send a frame now, outside the pacer: for audio that is itself a real-time stream (echo of
        ACS's inbound frames). Pacing it again would only turn the peer's network jitter into permanent
        extra delay, since a queue drained at exactly real-time rate never catches up."""
        if not self._closed:
            self._write_audio(encode_audio_data_b64(data_b64))

    def send_audio_b64(self, data_b64: str) -> None:
        """Send one 20 ms frame at its real-time slot: now, or later from the pacer's queue."""
        if self._closed:
            return
        message = encode_audio_data_b64(data_b64)
        dropped_before = self._pacer.dropped
        if self._pacer.offer(message, time.monotonic()):
            self._write_audio(message)
            return
        self._stats.frames_dropped += self._pacer.dropped - dropped_before
        self._kick()

    def send_audio_pcm(self, pcm: bytes) -> None:
        """Send PCM of any length at the call's sample rate, cut into 20 ms frames and paced."""
        if self._slicer is None:
            self.set_sample_rate(16000)
        assert self._slicer is not None
        for frame in self._slicer.push(pcm):
            self.send_audio_b64(binascii.b2a_base64(frame, newline=False).decode("ascii"))

    def flush_audio(self) -> None:
        """Send the last partial frame (padded with silence) at the end of a response."""
        if self._slicer is not None:
            rest = self._slicer.flush()
            if rest is not None:
                self.send_audio_b64(binascii.b2a_base64(rest, newline=False).decode("ascii"))

    async def wait_for_room(self) -> None:
        while not self._pacer.has_room and not self._closed:
            self._room.clear()
            await self._room.wait()

    def stop_audio(self) -> None:
        """Barge-in: drop our queued audio and tell ACS to drop what it has queued."""
        self._pacer.clear()
        if self._slicer is not None:
            self._slicer.clear()
        self._room.set()
        if not self._closed:
            self._ws.write_text(encode_stop_audio(), control=True)
            if self.turns is not None:
                self.turns.stop_audio()

    def add_transcript(self, segment: TranscriptSegment) -> None:
        self._transcript.add(segment.to_line())
        self._stats.transcript_segments += 1

    def call_offset_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)

    def _kick(self) -> None:
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._run_sender())
        self._wake.set()

    async def _run_sender(self) -> None:
        pacer = self._pacer
        while not self._closed:
            for message in pacer.pop_due(time.monotonic()):
                self._write_audio(message)
            if pacer.has_room:
                self._room.set()
            next_due = pacer.next_due()
            if next_due is None:
                self._wake.clear()
                await self._wake.wait()
            else:
                await asyncio.sleep(max(0.0, next_due - time.monotonic()))

    async def close(self) -> None:
        self._closed = True
        self._room.set()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
