"""What the answer asks ACS to stream (pure, validated): the audio channel layout and the DTMF tones.

- `MEDIA_AUDIO_CHANNEL`: `mixed` (default: one stream of everyone) or `unmixed` (one stream per participant,
  each `AudioData` naming its `participantRawID`); the answer's `mediaStreamingOptions.audioChannelType`
  (`MediaStreamingAudioChannelType` in azure-communication-callautomation 1.6.0, "mixed" | "unmixed" in the
  REST spec's MediaStreamingOptions; shared/reference/acs-wire-formats.md "Answer").
- `MEDIA_DTMF`: `on` (default) or `off`; the answer's `mediaStreamingOptions.enableDtmfTones`
  (`enable_dtmf_tones` in the SDK's MediaStreamingOptions), so that a key the caller presses arrives on the
  media socket as `{"kind": "DtmfData", "dtmfData": {"data": "1"}}`.

Outbound calls (createCall) take the same options: one reader, one meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import EnvReader, SettingsError

AUDIO_CHANNEL = "MEDIA_AUDIO_CHANNEL"
DTMF = "MEDIA_DTMF"
AUDIO_CHANNELS = ("mixed", "unmixed")
_SWITCH = {"on": True, "off": False}


@dataclass(frozen=True)
class MediaOptions:
    audio_channel: str = "mixed"  # the answer's audioChannelType
    dtmf: bool = True  # the answer's enableDtmfTones


def load_media_options(environ: Mapping[str, str]) -> MediaOptions:
    """Validate the media options. Raises `SettingsError` naming the variable."""
    read = EnvReader(environ)
    channel = read.choice(AUDIO_CHANNEL, "mixed", AUDIO_CHANNELS)
    raw = (read.optional(DTMF) or "on").lower()
    if raw not in _SWITCH:
        raise SettingsError(f"{DTMF} must be on or off; for example {DTMF}=on")
    return MediaOptions(audio_channel=channel, dtmf=_SWITCH[raw])
