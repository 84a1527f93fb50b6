"""The ACS side of media streaming: a `websockets` client that sends AudioMetadata, then one AudioData
every 20 ms in real time, plus DTMF, and records what the application sends back. Transcripts have their
own socket (`transcription_streamer`). Outbound audio is heard only when the answer set
`enableBidirectional: true` (azure-sdk-for-python #37766; the audio-streaming quickstart's "bidirectional"
option): otherwise it is counted as ignored and never reaches the call. Thin asyncio shell; message shapes
live in `media_messages`.

Mixed audio (the answer's `audioChannelType: "mixed"`): one AudioData per 20 ms of everyone together, named
after the caller. Unmixed (`"unmixed"`): one AudioData per participant per 20 ms, each naming its
`participantRawID` (shared/reference/acs-wire-formats.md "Inbound kinds"); the caller's stream runs from the
start, another participant's from its first words (it joins the call then). DtmfData is sent only when the
answer set `enableDtmfTones` (call_engine)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from tools.acs_simulator import media_messages as mm
from tools.acs_simulator.results import MediaStats
from tools.acs_simulator.wav_audio import PcmAudio

MAX_KEPT_INBOUND_S = 60


@dataclass(frozen=True)
class ScheduledSpeech:
    start_frame: int  # frame index from the stream start
    frames: tuple[bytes, ...]
    duration_s: float
    text: str
    speaker: str | None = None  # participantRawID; None: the caller


class MediaStreamer:
    def __init__(self, *, url: str, headers: dict[str, str], sample_rate: int, participant_raw_id: str,
                 call_connection_id: str, correlation_id: str, stats: MediaStats, bidirectional: bool,
                 unmixed: bool = False, on_lost: Callable[[MediaStreamer], None] | None = None) -> None:
        self._url = url
        self._headers = headers
        self._rate = sample_rate
        self._participant = participant_raw_id
        self._call_connection_id = call_connection_id
        self._correlation_id = correlation_id
        self._bidirectional = bidirectional
        self._unmixed = unmixed
        self.stats = stats
        self.stats.sample_rate = sample_rate
        self.stats.bidirectional = bidirectional
        self._ws: ClientConnection | None = None
        self._speech: list[ScheduledSpeech] = []
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.start_time: float = 0.0  # loop time of frame 0
        # What ACS's recorder hears: the frames streamed while a recording is active (recording_files.py).
        self.recording = False
        self.recorded = bytearray()
        # Called once when the socket goes away without our close (the media host died or cut it).
        self._on_lost = on_lost
        self._dropped = False  # this socket was cut (stats.dropped says it of the call: stats are shared)

    async def open(self) -> bool:
        try:
            # ACS does not negotiate permessage-deflate for audio; offering it would skew the host's costs.
            self._ws = await connect(self._url, additional_headers=self._headers, compression=None,
                                     open_timeout=10, max_size=2**20)
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            self.stats.open_error = f"{type(exc).__name__}: {exc}"
            return False
        self.stats.opened = True
        loop = asyncio.get_running_loop()
        self.start_time = loop.time()
        frame_bytes = self._rate * 2 // 50
        await self._ws.send(mm.audio_metadata(f"sub-{self._call_connection_id}", self._rate, frame_bytes))
        self._tasks = [asyncio.create_task(self._send_frames()), asyncio.create_task(self._receive())]
        return True

    def frame_index_at(self, loop_time: float) -> int:
        return max(0, round((loop_time - self.start_time) / mm.FRAME_SECONDS))

    def schedule_speech(self, loop_time: float, audio: PcmAudio, text: str, speaker: str | None = None) -> None:
        self._speech.append(ScheduledSpeech(self.frame_index_at(loop_time), tuple(audio.frames()),
                                            audio.duration_s, text, speaker))

    def send_dtmf(self, tone: str) -> None:
        self.stats.dtmf_sent.append(tone)
        self._outbox.put_nowait(mm.dtmf_data(tone))

    def drop(self) -> None:
        """Cut the TCP connection without a close frame, as a network failure would."""
        if self._ws is not None:
            self.stats.dropped = self._dropped = True
            self._ws.transport.abort()
        self._lost()

    def _lost(self) -> None:
        if not self._stopped.is_set():
            self._stopped.set()
            if self._ws is not None:
                self.stats.close_code = self._ws.close_code
            if self._on_lost is not None:
                self._on_lost(self)

    async def close(self) -> None:
        self._stopped.set()
        if self._ws is not None and not self._dropped:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._ws.close(code=1000, reason="call ended")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await task
        if self._ws is not None:
            self.stats.close_code = self._ws.close_code

    def _frame(self, index: int, speaker: str | None = None, *, anyone: bool = True) -> tuple[bytes, bool]:
        """(pcm, silent) of one stream: everyone's (mixed, `anyone`), or `speaker`'s alone (unmixed)."""
        for speech in self._speech:
            offset = index - speech.start_frame
            if (anyone or speech.speaker == speaker) and 0 <= offset < len(speech.frames):
                return speech.frames[offset], False
        return b"\x00" * (self._rate * 2 // 50), True

    def _streams(self, index: int) -> list[tuple[str, bytes, bool]]:
        """(participantRawID, pcm, silent) of each AudioData due in this 20 ms slot."""
        if not self._unmixed:
            pcm, silent = self._frame(index)
            return [(self._participant, pcm, silent)]
        joined = sorted({s.speaker for s in self._speech if s.speaker and s.start_frame <= index})
        return [(raw_id, *self._frame(index, None if raw_id == self._participant else raw_id, anyone=False))
                for raw_id in (self._participant, *joined)]

    async def _send_frames(self) -> None:
        assert self._ws is not None
        loop = asyncio.get_running_loop()
        stream_start = datetime.now(UTC)
        index = 0
        while not self._stopped.is_set():
            # Drift-free pacing: each frame has a fixed slot from the start, not "20 ms after the last".
            slot = self.start_time + index * mm.FRAME_SECONDS
            delay = slot - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.stats.max_send_lateness_ms = max(self.stats.max_send_lateness_ms, -delay * 1000)
            try:
                while not self._outbox.empty():
                    await self._ws.send(self._outbox.get_nowait())
                for participant, pcm, silent in self._streams(index):
                    await self._ws.send(mm.audio_data(pcm, mm.frame_timestamp(stream_start, index), participant,
                                                      silent))
                    self.stats.frames_sent += 1
                    self.stats.speech_frames_sent += 0 if silent else 1
                    self.stats.participants_streamed.add(participant)
                if self.recording:
                    # The recording is of the call as a whole: everyone's audio in this slot, as mixed.
                    self.recorded += self._frame(index)[0]
            except ConnectionClosed:
                self._lost()
                return
            index += 1

    async def _receive(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                inbound = mm.parse_inbound(message)
                if inbound.kind == "AudioData" and not self._bidirectional:
                    self.stats.frames_ignored += 1
                elif inbound.kind == "AudioData":
                    self.stats.frames_received += 1
                    self.stats.bytes_received += len(inbound.pcm)
                    if len(self.stats.received_pcm) < self._rate * 2 * MAX_KEPT_INBOUND_S:
                        self.stats.received_pcm.extend(inbound.pcm)
                elif inbound.kind == "StopAudio":
                    self.stats.stop_audio_received += 1
                elif inbound.kind == "Invalid":
                    self.stats.invalid_received += 1
        except ConnectionClosed:
            pass
        self._lost()  # the host closed or lost the socket while we still stream (a close of ours is not lost)
