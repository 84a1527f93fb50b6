"""One call's outbound frames, through websockets' public API only.

A frame is written now or dropped and counted; nothing here waits on a peer, so one slow peer cannot hold
up another call. Writes use `websockets.asyncio.server.broadcast` with this one connection: its documented
contract is a synchronous write without back-pressure that skips connections that are not open, and the
docs call it the most efficient way to send (docs/topics/performance.rst). The back-pressure is ours, the
way websockets' broadcast guide suggests for per-client logic (docs/topics/broadcast.rst, "Per-client
queues": `websocket.transport.get_write_buffer_size()`): when the peer does not read and our write buffer
for it is above `WRITE_HIGH_WATER`, audio is dropped. Real-time audio that cannot be delivered now is
worthless later, and one stuck peer must not grow memory. Control messages (StopAudio) are written even
then, so barge-in always gets through.

Measured against a per-call writer task draining a bounded queue with `await send()`: that costs a task
switch per frame, 30% more server CPU per echoed frame (docs/operations.md, "Benchmarks").
"""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.protocol import State

from shared.media_call_stats import MediaCallStats

WRITE_HIGH_WATER = 64 * 1024  # about 50 outbound frames waiting for a peer that does not read


class FrameWriter:
    def __init__(self, ws: ServerConnection, stats: MediaCallStats) -> None:
        self._ws = (ws,)
        self._stats = stats
        self._closed = False

    def audio(self, message: str) -> None:
        """Write one audio frame now, or drop and count it (socket not open, peer not reading, closed)."""
        ws = self._ws[0]
        if self._closed or ws.state is not State.OPEN or ws.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            self._stats.frames_dropped += 1
            return
        broadcast(self._ws, message)
        self._stats.frames_sent += 1

    def control(self, message: str) -> None:
        """Write a control message now, whatever the write buffer holds (it is tiny and must get through)."""
        if not self._closed and self._ws[0].state is State.OPEN:
            broadcast(self._ws, message)

    def close(self) -> None:
        self._closed = True
