"""The outbound side of one call: paced audio frames, StopAudio, transcript segments.

Frames go out inline when the pacer allows (the common case: echo at 50 frames/s costs no extra task
switch); otherwise they wait in the pacer's bounded queue and a per-call sender task sends them at their
slot. A slow peer only fills its own queue: sends never block another call.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import logging
import time

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from media_host.append_buffer import AppendBuffer
from shared.audio_pacing import AudioPacer, FrameSlicer
from shared.media_call_stats import MediaCallStats
from shared.media_codec import encode_audio_data_b64, encode_stop_audio, frame_bytes_for
from shared.media_transcript import TranscriptSegment

log = logging.getLogger("media_host.call_output")


class WebSocketCallOutput:
    def __init__(
        self,
        ws: ServerConnection,
        stats: MediaCallStats,
        transcript: AppendBuffer,
        *,
        pacer: AudioPacer[str] | None = None,
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

    def set_sample_rate(self, sample_rate: int) -> None:
        if self._slicer is None or self._slicer.frame_bytes != frame_bytes_for(sample_rate):
            self._slicer = FrameSlicer(sample_rate)

    async def _send(self, message: str) -> None:
        try:
            await self._ws.send(message)
        except ConnectionClosed:
            self._closed = True

    async def send_audio_b64(self, data_b64: str) -> None:
        if self._closed:
            return
        message = encode_audio_data_b64(data_b64)
        if self._pacer.offer(message, time.monotonic()):
            self._stats.frames_sent += 1
            await self._send(message)
            return
        self._stats.frames_dropped = self._pacer.dropped
        self._kick()

    async def forward_audio_b64(self, data_b64: str) -> None:
        """Send a frame now, outside the pacer: for audio that is itself a real-time stream (echo of
        ACS's inbound frames). Pacing it again would only turn the peer's network jitter into permanent
        extra delay, since a queue drained at exactly real-time rate never catches up. The socket's write
        limit still bounds it: a peer that does not read stalls only its own call's loop."""
        if self._closed:
            return
        self._stats.frames_sent += 1
        await self._send(encode_audio_data_b64(data_b64))

    async def send_audio_pcm(self, pcm: bytes) -> None:
        if self._slicer is None:
            self.set_sample_rate(16000)
        assert self._slicer is not None
        for frame in self._slicer.push(pcm):
            await self.send_audio_b64(binascii.b2a_base64(frame, newline=False).decode("ascii"))

    async def flush_audio(self) -> None:
        """Send the last partial frame (padded with silence) at the end of a response."""
        if self._slicer is not None:
            rest = self._slicer.flush()
            if rest is not None:
                await self.send_audio_b64(binascii.b2a_base64(rest, newline=False).decode("ascii"))

    async def wait_for_room(self) -> None:
        while not self._pacer.has_room and not self._closed:
            self._room.clear()
            await self._room.wait()

    async def stop_audio(self) -> None:
        self._pacer.clear()
        if self._slicer is not None:
            self._slicer.clear()
        self._room.set()
        if not self._closed:
            await self._send(encode_stop_audio())

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
            due = pacer.pop_due(time.monotonic())
            for message in due:
                self._stats.frames_sent += 1
                await self._send(message)
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
