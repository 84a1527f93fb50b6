"""Outbound audio timing (pure): cutting PCM into 20 ms frames and pacing frames in real time.

ACS plays what it receives; a producer that is faster than real time (a TTS burst, a speech model
answering) must not flood the socket, or barge-in (StopAudio) would have seconds of audio to discard on
ACS's side and the call's memory would grow. `AudioPacer` lets at most `max_lead_frames` frames be ahead
of the playback clock; the rest wait in a bounded queue until their slot. The caller owns the clock and
the I/O: it asks `offer()` whether a frame may go now, and `pop_due()`/`next_due()` for the queue.

Full policy: when the queue holds `max_queued_frames`, the OLDEST queued frame is dropped (and counted):
late audio is worth less than current audio, and memory stays bounded. Producers that must not lose audio
(the realtime bridge) wait for room (`has_room`) instead of overfilling.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from shared.media_codec import FRAME_MS, frame_bytes_for

T = TypeVar("T")
FRAME_SECONDS = FRAME_MS / 1000


class AudioPacer(Generic[T]):
    def __init__(
        self,
        *,
        frame_seconds: float = FRAME_SECONDS,
        max_lead_frames: int = 3,
        max_queued_frames: int = 500,
        room_frames: int | None = None,
    ) -> None:
        if max_lead_frames < 1 or max_queued_frames < 1:
            raise ValueError("max_lead_frames and max_queued_frames must be at least 1")
        self._frame = frame_seconds
        self._lead = max_lead_frames * frame_seconds
        self._max_queued = max_queued_frames
        self._room = room_frames if room_frames is not None else max_queued_frames // 2
        self._queue: deque[T] = deque()
        # When the audio sent so far ends playing, if ACS plays it back to back from when it arrived.
        self._play_end = float("-inf")
        self.sent = 0
        self.dropped = 0
        self.cleared = 0

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def has_room(self) -> bool:
        """True when a producer that waits for room may add more frames."""
        return len(self._queue) < self._room

    def _may_send(self, now: float) -> bool:
        # After this frame, ACS would hold at most `max_lead_frames` frames not yet played.
        return max(self._play_end - now, 0.0) + self._frame <= self._lead + 1e-6

    def _account(self, now: float) -> None:
        self._play_end = max(self._play_end, now) + self._frame
        self.sent += 1

    def offer(self, frame: T, now: float) -> bool:
        """True: send `frame` now (already accounted). False: it was queued (see `pop_due`)."""
        if not self._queue and self._may_send(now):
            self._account(now)
            return True
        if len(self._queue) >= self._max_queued:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(frame)
        return False

    def pop_due(self, now: float) -> list[T]:
        """Queued frames whose slot has come, oldest first (already accounted as sent)."""
        due: list[T] = []
        while self._queue and self._may_send(now):
            due.append(self._queue.popleft())
            self._account(now)
        return due

    def next_due(self) -> float | None:
        """Clock time at which the next queued frame may go; None when nothing is queued."""
        if not self._queue:
            return None
        return self._play_end + self._frame - self._lead

    def clear(self) -> int:
        """Drop everything queued (StopAudio / barge-in) and restart the playback clock. Returns the count."""
        count = len(self._queue)
        self._queue.clear()
        self.cleared += count
        self._play_end = float("-inf")
        return count


class FrameSlicer:
    """Cuts a PCM byte stream into whole 20 ms frames, keeping the remainder for the next chunk."""

    def __init__(self, sample_rate: int) -> None:
        self.frame_bytes = frame_bytes_for(sample_rate)
        self._rest = b""

    def push(self, pcm: bytes) -> list[bytes]:
        data = self._rest + pcm if self._rest else pcm
        size = self.frame_bytes
        whole = len(data) - len(data) % size
        self._rest = data[whole:]
        return [data[i:i + size] for i in range(0, whole, size)]

    def flush(self) -> bytes | None:
        """The remainder padded with silence to a whole frame, or None when there is none."""
        if not self._rest:
            return None
        frame = self._rest + bytes(self.frame_bytes - len(self._rest))
        self._rest = b""
        return frame

    def clear(self) -> None:
        self._rest = b""
