"""The ACS side of one bench call: a caller script built from the committed speech fixture, streamed in real
time as ACS does (one AudioData every 20 ms, `silent` set on quiet frames), and what comes back, timed."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import connect

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "audio" / "caller_utterance_16k.wav"
RATE = 16000
FRAME = RATE // 50 * 2
# "Hello, this is Alice." | "Please call me back" | "about my order tomorrow morning." (frames of 20 ms; the
# fixture's pauses inside each part are shorter than the 500 ms the service's VAD waits)
PARTS = {"a": (2, 72), "b": (90, 160), "c": (160, 248)}
# (what, seconds of silence after it): three turns, the third answered at length and barged into.
SCRIPT = [("a", 2.6), ("b", 2.6), ("c", 1.6), ("a", 2.8)]
LEAD_SILENCE = 0.5


@dataclass(frozen=True)
class Frame:
    message: str
    speech: bool
    barge_in: bool


def build_script() -> list[Frame]:
    with wave.open(str(FIXTURE)) as wav:
        assert wav.getframerate() == RATE and wav.getsampwidth() == 2 and wav.getnchannels() == 1
        pcm = wav.readframes(wav.getnframes())
    silence = _message(bytes(FRAME), True)
    frames = [Frame(silence, False, False)] * int(LEAD_SILENCE * 50)
    for index, (part, pause) in enumerate(SCRIPT):
        first, last = PARTS[part]
        for n in range(first, last):
            frames.append(Frame(_message(pcm[n * FRAME:(n + 1) * FRAME].ljust(FRAME, b"\0"), False), True,
                                index == len(SCRIPT) - 1 and n == first))
        frames.extend([Frame(silence, False, False)] * int(pause * 50))
    return frames


def _message(pcm: bytes, silent: bool) -> str:
    # The timestamp is not read by the bench; a fixed one keeps the script prebuilt (no per-frame encoding).
    return json.dumps({"kind": "AudioData", "audioData": {"timestamp": "2024-05-27T10:00:00.000Z",
                                                          "participantRawID": "4:+15550000000",
                                                          "data": base64.b64encode(pcm).decode(), "silent": silent}})


METADATA = json.dumps({"kind": "AudioMetadata", "audioMetadata": {"subscriptionId": "bench", "encoding": "PCM",
                                                                  "sampleRate": RATE, "channels": 1, "length": FRAME}})


@dataclass
class CallResult:
    frames_sent: int = 0
    late_sends: int = 0  # the generator itself fell more than 20 ms behind (its figures are then suspect)
    agent_frames: list[float] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)
    barge_in_at: float | None = None
    error: str | None = None

    def barge_in(self) -> tuple[float | None, float | None]:
        """Caller-side: the barge-in's first frame sent to StopAudio received, and to the last agent frame
        received before the caller's next pause (ms)."""
        if self.barge_in_at is None:
            return None, None
        stops = [at for at in self.stops if at >= self.barge_in_at]
        stop = (stops[0] - self.barge_in_at) * 1000 if stops else None
        window_end = self.barge_in_at + (PARTS["a"][1] - PARTS["a"][0]) * 0.02
        heard = [at for at in self.agent_frames if self.barge_in_at <= at <= window_end]
        last = max(heard[-1], stops[0] if stops else heard[-1]) if heard else (stops[0] if stops else None)
        return stop, ((last - self.barge_in_at) * 1000 if last is not None else None)


async def run_call(url: str, script: list[Frame], start_at: float) -> CallResult:
    result = CallResult()
    try:
        async with connect(url, compression=None, max_size=2**20) as ws:
            async def listen() -> None:
                async for message in ws:
                    now = time.monotonic()
                    if '"Kind":"AudioData"' in message[:30] or '"Kind": "AudioData"' in message[:30]:
                        result.agent_frames.append(now)
                    elif "StopAudio" in message[:30]:
                        result.stops.append(now)

            listener = asyncio.get_running_loop().create_task(listen())
            await ws.send(METADATA)
            await asyncio.sleep(max(0.0, start_at - time.monotonic()))
            began = time.monotonic()
            for n, frame in enumerate(script):
                if frame.barge_in:
                    result.barge_in_at = time.monotonic()
                await ws.send(frame.message)
                result.frames_sent += 1
                delay = began + (n + 1) * 0.02 - time.monotonic()
                if delay < -0.02:
                    result.late_sends += 1
                await asyncio.sleep(max(0.0, delay))
            await asyncio.sleep(0.3)
            listener.cancel()
    except Exception as error:  # noqa: BLE001 - a failed call is reported, the others go on
        result.error = type(error).__name__
    return result
