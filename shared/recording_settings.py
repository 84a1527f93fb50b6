"""Call recording: whether the control API may start one, and what ACS is asked to record (pure).

- `CALL_RECORDING`: `off` (default: `start_recording` is refused as not configured), `audio` (one mixed
  channel) or `audio_unmixed` (one channel per participant). Maps to StartCallRecordingRequest's
  `recordingContentType` `audio` and `recordingChannelType` `mixed` / `unmixed` (REST spec, CallAutomation
  stable 2026-03-12; audioVideo is for Teams interop and not offered here).
- `CALL_RECORDING_FORMAT`: `wav` (default) or `mp3`. The spec's RecordingFormat also has `mp4`, which is
  for audioVideo only, so it is not accepted; unmixed audio is wav only (ACS call recording overview:
  "unmixed audio: wav"), so `audio_unmixed` with `mp3` is a configuration error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import EnvReader, SettingsError

OFF, AUDIO, AUDIO_UNMIXED = "off", "audio", "audio_unmixed"
MODES = (OFF, AUDIO, AUDIO_UNMIXED)
FORMATS = ("wav", "mp3")


@dataclass(frozen=True)
class RecordingSettings:
    mode: str = OFF
    format: str = "wav"

    @property
    def enabled(self) -> bool:
        return self.mode != OFF

    @property
    def channel(self) -> str:
        """The request's recordingChannelType."""
        return "unmixed" if self.mode == AUDIO_UNMIXED else "mixed"


def load_recording_settings(environ: Mapping[str, str]) -> RecordingSettings:
    """Validate the recording settings. Raises `SettingsError` naming the variable."""
    read = EnvReader(environ)
    mode = read.optional("CALL_RECORDING") or OFF
    if mode not in MODES:
        raise SettingsError(f"CALL_RECORDING must be one of {', '.join(MODES)}; for example CALL_RECORDING=audio")
    form = read.optional("CALL_RECORDING_FORMAT") or "wav"
    if form not in FORMATS:
        raise SettingsError(f"CALL_RECORDING_FORMAT must be one of {', '.join(FORMATS)}; "
                            "for example CALL_RECORDING_FORMAT=wav")
    if mode == AUDIO_UNMIXED and form != "wav":
        raise SettingsError("CALL_RECORDING=audio_unmixed records wav only; set CALL_RECORDING_FORMAT=wav")
    return RecordingSettings(mode, form)
