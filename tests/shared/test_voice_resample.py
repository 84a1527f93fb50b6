from __future__ import annotations

import math
from array import array

import pytest

from shared.voice_resample import Resampler


def tone(frequency: float, rate: int, seconds: float, amplitude: float = 10000.0) -> bytes:
    count = int(rate * seconds)
    return array("h", (int(amplitude * math.sin(2 * math.pi * frequency * n / rate)) for n in range(count))).tobytes()


def rms(pcm: bytes, skip: int = 200) -> float:
    samples = array("h")
    samples.frombytes(pcm)
    body = samples[skip:-skip]
    return math.sqrt(sum(s * s for s in body) / len(body))


def dominant_frequency(pcm: bytes, rate: int) -> float:
    samples = array("h")
    samples.frombytes(pcm)
    crossings = sum(1 for a, b in zip(samples, samples[1:], strict=False) if a < 0 <= b)
    return crossings * rate / len(samples)


def resample_in_frames(resampler: Resampler, pcm: bytes, frame_bytes: int) -> bytes:
    return b"".join(resampler.process(pcm[i:i + frame_bytes]) for i in range(0, len(pcm), frame_bytes))


@pytest.mark.parametrize(("source", "target"), [(16000, 24000), (24000, 16000)])
def test_a_speech_band_tone_keeps_its_pitch_level_and_length(source: int, target: int) -> None:
    pcm = tone(1000, source, 1.0)
    out = resample_in_frames(Resampler(source, target), pcm, source // 50 * 2)  # 20 ms frames
    assert len(out) // 2 == target  # exactly one second of output
    assert dominant_frequency(out, target) == pytest.approx(1000, rel=0.01)
    assert rms(out) == pytest.approx(rms(pcm), rel=0.05)


def test_downsampling_filters_what_16_khz_cannot_carry() -> None:
    # 10 kHz is above 16 kHz's Nyquist (8 kHz): without a low-pass it would alias to 6 kHz at full level.
    out = Resampler(24000, 16000).process(tone(10000, 24000, 0.5))
    assert rms(out) < 0.05 * rms(tone(10000, 24000, 0.5))


def test_chunking_does_not_change_the_result() -> None:
    pcm = tone(440, 16000, 0.3) + tone(3000, 16000, 0.2)
    whole = Resampler(16000, 24000).process(pcm)
    pieces = resample_in_frames(Resampler(16000, 24000), pcm, 640)
    odd_pieces = resample_in_frames(Resampler(16000, 24000), pcm, 322)
    assert pieces == whole and odd_pieces == whole


def test_same_rate_is_a_pass_through() -> None:
    pcm = tone(440, 24000, 0.02)
    assert Resampler(24000, 24000).process(pcm) == pcm
