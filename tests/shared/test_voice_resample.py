from __future__ import annotations

import math
import random
from array import array

import pytest

from shared.voice_resample import Resampler
from tests.shared.resample_reference import Resampler as ReferenceResampler


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


def noisy_speech_band(rate: int, seconds: float) -> bytes:
    generator = random.Random(7)
    def sample(n: int) -> int:
        return int(8000 * math.sin(2 * math.pi * 300 * n / rate) + 4000 * math.sin(2 * math.pi * 2500 * n / rate))

    return array("h", (sample(n) + generator.randint(-3000, 3000) for n in range(int(rate * seconds)))).tobytes()


@pytest.mark.parametrize(("source", "target"), [(16000, 24000), (24000, 16000)])
@pytest.mark.parametrize("chunk_bytes", [640, 960, 322, 4800])
def test_the_fast_resampler_matches_the_per_sample_reference_within_one_step(source: int, target: int,
                                                                             chunk_bytes: int) -> None:
    # Full scale too: filtered samples overshoot 16 bits there and must be clipped, not wrapped around.
    square = array("h", (32767 if n // 7 % 2 else -32768 for n in range(source // 4))).tobytes()
    for pcm in (noisy_speech_band(source, 0.5), square):
        fast = array("h", resample_in_frames(Resampler(source, target), pcm, chunk_bytes))
        reference = array("h", resample_in_frames(ReferenceResampler(source, target), pcm, chunk_bytes))
        assert len(fast) == len(reference) and max(abs(a - b) for a, b in zip(fast, reference, strict=True)) <= 1


def test_a_resampler_after_reset_starts_afresh() -> None:
    pcm = noisy_speech_band(16000, 0.1)
    resampler = Resampler(16000, 24000)
    first = resampler.process(pcm)
    resampler.process(pcm[:322])
    resampler.reset()
    assert resampler.process(pcm) == first
