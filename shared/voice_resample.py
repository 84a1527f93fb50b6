"""Streaming sample-rate conversion of PCM 16-bit mono between 16 kHz and 24 kHz (pure Python, no per-sample loop).

The realtime voice models take and give 24 kHz PCM; ACS streams at 16 or 24 kHz. At 24 kHz nothing is
converted (prefer `pcm24KMono`). At 16 kHz, audio is converted with a polyphase windowed-sinc FIR filter:
up by L, low-pass, down by M (3/2 or 2/3). The low-pass cuts at the lower of the two Nyquist rates, so
downsampling 24 -> 16 kHz removes 8-12 kHz content instead of folding it back as aliasing (a naive
linear interpolation, or `audioop.ratecv`, would). State is kept between chunks, so frames can be fed one by one.

Speed: this runs for every 20 ms frame of every realtime call at 16 kHz, both ways, so no Python code runs
per sample. Each phase's filter is a convolution done as one big-integer product (Kronecker substitution): the
samples are packed as 40-bit digits of one integer, the integer taps (scaled by 2**16) as another, and each
digit of the product is one filtered sample, carried out by C code (`int.from_bytes`, the multiplication,
`int.to_bytes`, strided byte slices). A bias added to every digit keeps the digits non-negative (no borrows
between them) and puts each output sample, rounded and offset binary, in bytes 2-3 of its digit. About
60 us a frame instead of 2.3 ms (`python -m bench.resample`). The integer taps differ from the float design by
at most 2**-17, which moves an output sample by at most 4 LSB (+-1 LSB typically).
"""

from __future__ import annotations

import math
import sys
from array import array
from math import gcd

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


FIELD = 5  # bytes per digit of the packed integers: 40 bits hold a filtered sum (|sum| < 2**33) and the bias
TAP_SCALE_BITS = 16
# Added to every digit of a product: 2**38 keeps it positive, 2**31 makes the sample offset binary, 2**15 rounds
# the division by 2**16. Byte 4 of a digit whose sample is within 16 bits is then 0x40 (2**38 >> 32).
_DIGIT_BIAS = (1 << 38) + (1 << 31) + (1 << (TAP_SCALE_BITS - 1))
_IN_RANGE_HIGH = (1 << 38) >> 32
_OUTPUT_OFFSET = _DIGIT_BIAS >> TAP_SCALE_BITS  # a digit >> 16, minus this, is the (unclipped) sample
_FLIP_SIGN = bytes.maketrans(bytes(range(256)), bytes(value ^ 0x80 for value in range(256)))  # two's <-> offset
_MAX_CACHED_SIZES = 8


def _ones(count: int) -> int:
    """1 in each of `count` digits."""
    return int.from_bytes((b"\x01" + bytes(FIELD - 1)) * count, "little")


class Resampler:
    """Converts a stream of PCM16 (little-endian) mono chunks from one rate to another."""

    def __init__(self, from_rate: int, to_rate: int, taps_per_phase: int = TAPS_PER_PHASE) -> None:
        common = gcd(from_rate, to_rate)
        self.from_rate, self.to_rate = from_rate, to_rate
        self._up, self._down = to_rate // common, from_rate // common
        self._width = taps_per_phase
        # Each phase's taps as one integer, highest digit first: digit j of (samples x taps) is then the
        # filter's output for the window starting at sample j - width + 1.
        self._taps = [sum(round(tap * (1 << TAP_SCALE_BITS)) << (FIELD * 8 * (taps_per_phase - 1 - k))
                          for k, tap in enumerate(phase))
                      for phase in _design(self._up, self._down, taps_per_phase)]
        self._history = bytes(2 * (taps_per_phase - 1))
        self._position = 0  # next output's time, in up-sampled samples, from the start of the next chunk
        self._offsets: dict[int, int] = {}  # samples -> 32768 in each digit (undoes the offset binary input)
        self._biases: dict[int, int] = {}  # digits -> _DIGIT_BIAS in each digit

    def _cached(self, cache: dict[int, int], count: int, digit: int) -> int:
        value = cache.get(count)
        if value is None:
            if len(cache) >= _MAX_CACHED_SIZES:
                cache.clear()
            value = cache[count] = digit * _ones(count)
        return value

    def process(self, pcm: bytes) -> bytes:
        if self._up == self._down:
            return pcm
        up, down, width = self._up, self._down, self._width
        window = self._history + pcm[: len(pcm) // 2 * 2]
        samples = len(window) // 2
        count = samples - (width - 1)
        position, limit = self._position, count * up
        outputs = max(0, -(-(limit - position) // down))
        self._position = position + outputs * down - limit
        self._history = window[len(window) - 2 * (width - 1):]
        if outputs == 0:
            return b""
        packed = bytearray(FIELD * samples)
        packed[0::FIELD] = window[0::2]
        packed[1::FIELD] = window[1::2].translate(_FLIP_SIGN)
        signal = int.from_bytes(packed, "little") - self._cached(self._offsets, samples, 1 << 15)
        digits = samples + width
        bias = self._cached(self._biases, digits, _DIGIT_BIAS)
        out = bytearray(2 * outputs)
        products: dict[int, bytes] = {}
        for first in range(min(up, outputs)):
            at = position + first * down  # outputs first, first + up, ...: one phase, `down` samples apart
            phase, index = at % up, at // up
            raw = products.get(phase)
            if raw is None:
                raw = products[phase] = (signal * self._taps[phase] + bias).to_bytes(FIELD * digits, "little")
            taken = (outputs - first + up - 1) // up
            begin, step = FIELD * (index + width - 1), FIELD * down
            end = begin + step * (taken - 1) + FIELD
            if raw[begin + 4:end:step] != bytes([_IN_RANGE_HIGH]) * taken:
                clipped = _clipped(raw, begin, step, taken)
                out[2 * first::2 * up], out[2 * first + 1::2 * up] = clipped[0::2], clipped[1::2]
                continue
            out[2 * first::2 * up] = raw[begin + 2:end:step]
            out[2 * first + 1::2 * up] = raw[begin + 3:end:step].translate(_FLIP_SIGN)
        return bytes(out)

    def reset(self) -> None:
        self._history = bytes(2 * (self._width - 1))
        self._position = 0


def _clipped(raw: bytes, begin: int, step: int, taken: int) -> bytes:
    """The rare slow path: some filtered samples overshoot 16 bits (loud input near full scale)."""
    values = array("h")
    for digit_at in range(begin, begin + step * taken, step):
        value = (int.from_bytes(raw[digit_at:digit_at + FIELD], "little") >> TAP_SCALE_BITS) - _OUTPUT_OFFSET
        values.append(32767 if value > 32767 else -32768 if value < -32768 else value)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()
