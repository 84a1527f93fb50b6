"""Micro-benchmark of the media host's per-frame audio work on the realtime path. Prints, not a test:

    python -m bench.resample            # about 20 s on a quiet machine

Microseconds of CPU per 20 ms frame, best of 5 runs, for:
- the resampler before (tests/shared/resample_reference.py: per-sample Python, float taps) and after
  (shared/voice_resample.py: big-integer convolution), 16 -> 24 kHz (caller to model) and 24 -> 16 kHz
  (model to caller);
- `audioop.ratecv` for comparison (stdlib C, deprecated since 3.11 and gone in 3.13, where the `audioop-lts`
  package would have to be pinned; no anti-aliasing low-pass, so 8-12 kHz of the model's voice would fold
  back into the 16 kHz call);
- base64 decode and encode of one frame, as the bridge does for each frame both ways.
A share of one core per call follows: both directions while the agent speaks, over 20 ms.
"""

from __future__ import annotations

import base64
import math
import sys
import time
import warnings
from array import array
from collections.abc import Callable

from shared.voice_resample import Resampler
from tests.shared.resample_reference import Resampler as ReferenceResampler

FRAME_SECONDS = 0.02


def speech_band(rate: int, frames: int) -> list[bytes]:
    count = rate // 50
    def sample(n: int) -> int:
        return int(8000 * math.sin(2 * math.pi * 300 * n / rate) + 3000 * math.sin(2 * math.pi * 2500 * n / rate))

    samples = array("h", (sample(n) for n in range(count * frames)))
    pcm = samples.tobytes()
    return [pcm[i * 2 * count:(i + 1) * 2 * count] for i in range(frames)]


def per_frame_us(work: Callable[[bytes], object], frames: list[bytes], runs: int = 5) -> float:
    best = math.inf
    for _ in range(runs):
        started = time.process_time()
        for frame in frames:
            work(frame)
        best = min(best, time.process_time() - started)
    return best / len(frames) * 1e6


def ratecv(source: int, target: int) -> Callable[[bytes], object] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            return None
    state: list[object] = [None]

    def convert(frame: bytes) -> bytes:
        out, state[0] = audioop.ratecv(frame, 2, 1, source, target, state[0])
        return out

    return convert


def main() -> int:
    print(f"python {sys.version.split()[0]}; microseconds of CPU per 20 ms frame (best of 5)", flush=True)
    print(f"{'work':44} {'16->24 kHz':>11} {'24->16 kHz':>11}")
    rows: dict[str, list[float]] = {}
    for source, target in ((16000, 24000), (24000, 16000)):
        frames = speech_band(source, 250)
        for name, frame_count, work in (
                ("resampler before (per-sample Python)", 50, ReferenceResampler(source, target).process),
                ("resampler after (big-integer convolution)", 250, Resampler(source, target).process),
                ("audioop.ratecv (deprecated, no low-pass)", 250, ratecv(source, target)),
                ("base64 decode + encode of the frame", 250,
                 lambda frame: base64.b64encode(base64.b64decode(base64.b64encode(frame))))):
            rows.setdefault(name, []).append(per_frame_us(work, frames[:frame_count]) if work else math.nan)
    for name, (up, down) in rows.items():
        print(f"{name:44} {up:11.1f} {down:11.1f}")
    for label in ("resampler before (per-sample Python)", "resampler after (big-integer convolution)"):
        up, down = rows[label]
        share = (up + down + rows["base64 decode + encode of the frame"][0] * 2) / (FRAME_SECONDS * 1e6)
        print(f"one 16 kHz realtime call, agent and caller both sounding, {label.split(' (')[0]}: "
              f"{share:.1%} of a core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
