"""The realtime bridge's player: a bounded local buffer of the model's audio, drained to ACS in real time.

The model sends audio faster than real time (conversation_item_truncate_event_param.py in the `openai`
package), so its socket must never wait for playback: the bridge parks each delta here at once (`add`, never
blocks) and this task writes 20 ms frames to ACS at their real-time slot, at most `LEAD_FRAMES` ahead of the
playback clock. Keeping ACS's own queue that short is what makes the played time knowable: ACS plays what it
gets back to back, so what it has played of an item is what was written minus what is still ahead of the clock.

On barge-in `interrupt` drops the buffer and reports, per interrupted item, the milliseconds the caller heard:
the `audio_end_ms` of `conversation.item.truncate`.
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import time
from collections import deque
from dataclasses import dataclass

from media_host.voice import CallOutput
from shared.audio_pacing import FrameSlicer
from shared.media_codec import FRAME_MS

log = logging.getLogger("media_host.realtime")

LEAD_FRAMES = 3  # 60 ms queued at ACS at most: StopAudio has little to drop, the played time is exact
FRAME_SECONDS = FRAME_MS / 1000
# Two minutes of answer: a 20 s answer at 4x real time peaks at 15 s here. Past the bound the rest of the
# answer is dropped (and counted): the socket keeps being read whatever the model sends.
MAX_BUFFERED_FRAMES = 6000
DRAIN_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Interrupted:
    """An assistant item cut short by barge-in: the caller heard its first `played_ms`."""

    item_id: str
    played_ms: int


@dataclass
class _Item:
    response_id: str | None
    received_ms: float = 0.0  # at the model's rate: the upper bound for a truncate
    sent_frames: int = 0
    queued_frames: int = 0


class RealtimePlayer:
    def __init__(self, output: CallOutput, sample_rate: int, *, max_frames: int = MAX_BUFFERED_FRAMES) -> None:
        self._output = output
        self._slicer = FrameSlicer(sample_rate)
        self._max_frames = max_frames
        self._frames: deque[tuple[bytes, str | None, str | None]] = deque()  # (pcm, item, response)
        self._items: dict[str, _Item] = {}
        self._response_frames: dict[str | None, int] = {}
        self._current: str | None = None  # the item of the last frame written
        self._play_end = 0.0  # when ACS finishes playing what it was sent
        self._wake = asyncio.Event()
        self.generation = 0  # bumped by each interrupt: waiters know their audio was cut
        self.frames_sent = 0
        self.frames_dropped = 0
        self.first_frame_at: float | None = None

    def set_sample_rate(self, sample_rate: int) -> None:
        self._slicer = FrameSlicer(sample_rate)

    # --- producer side (the model's reader; never blocks) ----------------------------------------------

    def add(self, pcm: bytes, item_id: str | None, response_id: str | None, model_ms: float) -> None:
        """Park one delta (already at the call's rate). `model_ms`: its duration as the model counts it."""
        if item_id is not None:
            item = self._items.get(item_id)
            if item is None:
                item = self._items[item_id] = _Item(response_id)
            item.received_ms += model_ms
        self._queue(self._slicer.push(pcm), item_id, response_id)

    def end_of_response(self, item_id: str | None, response_id: str | None) -> None:
        """The response's audio is complete: its last partial frame goes out padded with silence."""
        rest = self._slicer.flush()
        if rest is not None:
            self._queue([rest], item_id, response_id)

    def play(self, pcm: bytes, response_id: str) -> None:
        """Audio of our own (the spoken fallback): not an item of the model's, never truncated."""
        self._queue(self._slicer.push(pcm), None, response_id)
        self.end_of_response(None, response_id)

    def _queue(self, frames: list[bytes], item_id: str | None, response_id: str | None) -> None:
        if not frames:
            return
        room = self._max_frames - len(self._frames)
        if room < len(frames):
            dropped = len(frames) - max(room, 0)
            if self.frames_dropped == 0:
                log.warning("realtime audio buffer full (%d frames): the rest of the answer is dropped",
                            self._max_frames)
            self.frames_dropped += dropped
            frames = frames[:max(room, 0)]
        item = self._items.get(item_id) if item_id is not None else None
        self._frames.extend((frame, item_id, response_id) for frame in frames)
        if item is not None:
            item.queued_frames += len(frames)
        self._response_frames[response_id] = self._response_frames.get(response_id, 0) + len(frames)
        self._wake.set()

    # --- barge-in ---------------------------------------------------------------------------------------

    def interrupt(self) -> list[Interrupted]:
        """Drop everything not yet written; return the items the caller did not hear in full."""
        now = time.monotonic()
        ahead_ms = max(0.0, self._play_end - now) * 1000
        cut: list[Interrupted] = []
        for item_id, item in self._items.items():
            played = item.sent_frames * FRAME_MS - (ahead_ms if item_id == self._current else 0.0)
            unheard = item.queued_frames > 0 or played < item.received_ms - FRAME_MS or (
                item_id == self._current and ahead_ms > 0)
            if unheard:
                cut.append(Interrupted(item_id, int(max(0.0, min(played, item.received_ms)))))
        self._frames.clear()
        self._response_frames.clear()
        self._items.clear()
        self._slicer.clear()
        self._current = None
        self._play_end = now  # StopAudio made ACS drop its queue
        self.generation += 1
        return cut

    # --- waiting for playback ---------------------------------------------------------------------------

    def pending(self, response_id: str | None) -> int:
        return self._response_frames.get(response_id, 0)

    async def wait_played(self, response_id: str | None, timeout: float) -> bool:
        """Wait (at most `timeout`) until the response's audio has been heard to its end. False if barge-in
        cut it or the bound passed."""
        generation = self.generation
        deadline = time.monotonic() + timeout
        while self.pending(response_id) and time.monotonic() < deadline and self.generation == generation:
            await asyncio.sleep(DRAIN_POLL_SECONDS)
        if self.generation != generation or self.pending(response_id):
            return False
        rest = min(self._play_end - time.monotonic(), deadline - time.monotonic())
        if rest > 0:
            await asyncio.sleep(rest)  # the last frames ACS holds: at most LEAD_FRAMES
        return self.generation == generation

    # --- the player task --------------------------------------------------------------------------------

    async def run(self) -> None:
        lead = LEAD_FRAMES * FRAME_SECONDS
        while True:
            if not self._frames:
                self._wake.clear()
                await self._wake.wait()
                continue
            now = time.monotonic()
            while self._frames and max(self._play_end - now, 0.0) + FRAME_SECONDS <= lead + 1e-6:
                self._write_next(now)
            if self._frames:
                await asyncio.sleep(max(0.0, self._play_end + FRAME_SECONDS - lead - time.monotonic()))

    def _write_next(self, now: float) -> None:
        frame, item_id, response_id = self._frames.popleft()
        left = self._response_frames.get(response_id, 1) - 1
        if left > 0:
            self._response_frames[response_id] = left
        else:
            self._response_frames.pop(response_id, None)
        if item_id is not None and (item := self._items.get(item_id)) is not None:
            item.sent_frames += 1
            item.queued_frames -= 1
        if item_id != self._current and self._current is not None:
            # Responses play one after another: an earlier item heard in full needs no truncate any more.
            previous = self._items.get(self._current)
            if previous is not None and previous.queued_frames == 0:
                del self._items[self._current]
        self._current = item_id
        self._play_end = max(self._play_end, now) + FRAME_SECONDS
        if self.first_frame_at is None:
            self.first_frame_at = now
        self.frames_sent += 1
        self._output.forward_audio_b64(binascii.b2a_base64(frame, newline=False).decode("ascii"))
