"""The spoken fallback: what the caller hears when a realtime response fails, instead of silence.

A short phrase ("Sorry, could you say that again?") recorded once with espeak-ng and committed as
`assets/fallback_16k.wav` (16 kHz, 16-bit mono PCM); regenerate with
    espeak-ng -v en-us -s 165 -w out.wav "Sorry, could you say that again?"
then convert to 16 kHz mono. Loaded and checked once per process, converted to 24 kHz once when a call
streams at 24 kHz: playing it costs no synthesis and no request to any service.
"""

from __future__ import annotations

import functools
import wave
from pathlib import Path

from shared.voice_resample import Resampler

FALLBACK_WAV = Path(__file__).parent / "assets" / "fallback_16k.wav"
SOURCE_RATE = 16000


@functools.cache
def fallback_pcm(sample_rate: int) -> bytes:
    """The phrase as PCM 16-bit mono at `sample_rate` (16000 or 24000). Raises ValueError if the asset is
    not 16 kHz 16-bit mono."""
    with wave.open(str(FALLBACK_WAV), "rb") as wav:
        if (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) != (SOURCE_RATE, 2, 1):
            raise ValueError(f"{FALLBACK_WAV.name} must be 16 kHz 16-bit mono PCM")
        pcm = wav.readframes(wav.getnframes())
    return pcm if sample_rate == SOURCE_RATE else Resampler(SOURCE_RATE, sample_rate).process(pcm)
