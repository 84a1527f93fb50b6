"""One call's outbound frames, through websockets' public API only.

Each frame is queued, or dropped and counted; a per-call writer task drains the queue with `await send()`.
`send()` waits only when websockets' write buffer for this peer is above `write_limit` (set in server.py):
then the writer waits, the bounded queue fills and further audio is dropped and counted (`framesDropped`).
Real-time audio that cannot be delivered now is worthless later, and one stuck peer must not grow memory
or hold up another call. Control messages (StopAudio) have their own queue, always accepted and sent before
any queued audio, so barge-in gets through even while audio is being dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from shared.media_call_stats import MediaCallStats

# About 320 ms of audio waiting behind websockets' write buffer; beyond it, frames are dropped.
MAX_QUEUED_FRAMES = 16


class FrameWriter:
    def __init__(self, ws: ServerConnection, stats: MediaCallStats) -> None:
        self._ws = ws
        self._stats = stats
        self._audio: deque[str] = deque()
        self._control: deque[str] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def audio(self, message: str) -> None:
        """Queue one audio frame, or drop and count it (queue full, socket not open, writer closed)."""
        if self._closed or len(self._audio) >= MAX_QUEUED_FRAMES or self._ws.state is not State.OPEN:
            self._stats.frames_dropped += 1
            return
        self._audio.append(message)
        self._kick()

    def control(self, message: str) -> None:
        """Queue a control message ahead of all audio; never refused while the socket is open."""
        if self._closed or self._ws.state is not State.OPEN:
            return
        self._control.append(message)
        self._kick()

    def drop_audio(self) -> None:
        """Barge-in: audio not yet handed to websockets is dropped (and counted)."""
        self._stats.frames_dropped += len(self._audio)
        self._audio.clear()

    def _kick(self) -> None:
        wake = self._wake
        if wake is not None:
            self._wake = None
            if not wake.done():
                wake.set_result(None)
        elif self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        ws, audio, control, stats = self._ws, self._audio, self._control, self._stats
        loop = asyncio.get_running_loop()
        try:
            while not self._closed:
                while control or audio:
                    if control:
                        await ws.send(control.popleft())
                    else:
                        await ws.send(audio.popleft())
                        stats.frames_sent += 1
                wake = self._wake = loop.create_future()
                await wake
        except ConnectionClosed:
            self._closed = True
        finally:
            stats.frames_dropped += len(audio)
            audio.clear()

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

