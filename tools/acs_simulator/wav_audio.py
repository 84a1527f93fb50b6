"""PCM 16-bit mono WAV files cut into 20 ms media frames. No network I/O."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_RATES = {16000: "pcm16KMono", 24000: "pcm24KMono"}
AUDIO_FORMAT_RATES = {v.lower(): k for k, v in SUPPORTED_RATES.items()}


class AudioFileError(ValueError):
    """The WAV is not PCM 16-bit mono at a rate ACS streams."""


@dataclass(frozen=True)
class PcmAudio:
    sample_rate: int
    pcm: bytes

    @property
    def frame_bytes(self) -> int:
        return self.sample_rate * 2 // 50  # 20 ms of 16-bit mono

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (self.sample_rate * 2)

    def frames(self) -> list[bytes]:
        """20 ms frames; the last one is padded with silence to a whole frame, as a media stack would."""
        size = self.frame_bytes
        out = [self.pcm[i:i + size] for i in range(0, len(self.pcm), size)]
        if out and len(out[-1]) < size:
            out[-1] = out[-1] + b"\x00" * (size - len(out[-1]))
        return out


def sample_rate_for(audio_format: str | None) -> int:
    """ACS default is 16 kHz when the answer names no audioFormat."""
    if not audio_format:
        return 16000
    rate = AUDIO_FORMAT_RATES.get(audio_format.lower())
    if rate is None:
        raise AudioFileError(f"unsupported audioFormat {audio_format!r}")
    return rate


def read_wav(path: Path) -> PcmAudio:
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnchannels() != 1 or wav.getsampwidth() != 2 or wav.getcomptype() != "NONE":
                raise AudioFileError(f"{path.name}: need PCM 16-bit mono")
            if wav.getframerate() not in SUPPORTED_RATES:
                raise AudioFileError(f"{path.name}: sample rate {wav.getframerate()} is not 16 or 24 kHz")
            return PcmAudio(wav.getframerate(), wav.readframes(wav.getnframes()))
    except (wave.Error, EOFError) as exc:
        raise AudioFileError(f"{path.name}: {exc}") from exc
