"""The resampler as it was before it became fast (per-sample Python, float taps): the reference the fast one
is compared with (tests/shared/test_voice_resample.py) and the "before" of `python -m bench.resample`."""

from __future__ import annotations

import math
from array import array
from math import gcd
from operator import mul

TAPS_PER_PHASE = 16
# Fraction of the lower Nyquist frequency kept in the pass band; the rest is the transition band.
PASS_FRACTION = 0.9


def _design(up: int, down: int, taps_per_phase: int) -> list[list[float]]:
    """Polyphase components (each reversed, ready for a dot product with ascending input) of a
    Blackman-windowed sinc low-pass designed at the up-sampled rate."""
    count = taps_per_phase * up
    cutoff = PASS_FRACTION * 0.5 / max(up, down)  # cycles per sample at the up-sampled rate
    center = (count - 1) / 2
    taps = []
    for n in range(count):
        x = n - center
        sinc = 2 * cutoff if x == 0 else math.sin(2 * math.pi * cutoff * x) / (math.pi * x)
        window = 0.42 - 0.5 * math.cos(2 * math.pi * n / (count - 1)) + 0.08 * math.cos(4 * math.pi * n / (count - 1))
        taps.append(sinc * window)
    scale = up / sum(taps)  # unity gain at DC after zero-stuffing by `up`
    taps = [tap * scale for tap in taps]
    return [taps[phase::up][::-1] for phase in range(up)]


class Resampler:
    """Converts a stream of PCM16 mono chunks from one rate to another."""

    def __init__(self, from_rate: int, to_rate: int, taps_per_phase: int = TAPS_PER_PHASE) -> None:
        common = gcd(from_rate, to_rate)
        self.from_rate, self.to_rate = from_rate, to_rate
        self._up, self._down = to_rate // common, from_rate // common
        self._phases = _design(self._up, self._down, taps_per_phase)
        self._width = taps_per_phase
        self._history = [0] * (taps_per_phase - 1)
        self._position = 0  # next output's time, in up-sampled samples, from the start of the next chunk

    def process(self, pcm: bytes) -> bytes:
        if self._up == self._down:
            return pcm
        samples = array("h")
        samples.frombytes(pcm[: len(pcm) // 2 * 2])
        count = len(samples)
        window = self._history + samples.tolist()
        up, down, width, phases = self._up, self._down, self._width, self._phases
        out = array("h")
        append = out.append
        position = self._position
        limit = count * up
        while position < limit:
            index, phase = divmod(position, up)
            value = sum(map(mul, phases[phase], window[index:index + width]))
            append(32767 if value > 32767 else -32768 if value < -32768 else int(round(value)))
            position += down
        self._position = position - limit
        self._history = window[len(window) - (width - 1):]
        return out.tobytes()

    def reset(self) -> None:
        self._history = [0] * (self._width - 1)
        self._position = 0
