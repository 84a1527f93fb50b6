"""Call recording: whether the control API may start one, and what ACS is asked to record (pure).

- `CALL_RECORDING`: `off` (default: `start_recording` is refused as not configured), `audio` (one mixed
  channel) or `audio_unmixed` (one channel per participant). Maps to StartCallRecordingRequest's
  `recordingContentType` `audio` and `recordingChannelType` `mixed` / `unmixed` (REST spec, CallAutomation
  stable 2026-03-12; audioVideo is for Teams interop and not offered here).
- `CALL_RECORDING_FORMAT`: `wav` (default) or `mp3`. The spec's RecordingFormat also has `mp4`, which is
  for audioVideo only, so it is not accepted; unmixed audio is wav only (ACS call recording overview:
  "unmixed audio: wav"), so `audio_unmixed` with `mp3` is a configuration error.
- `RECORDING_STORAGE_CONTAINER_URL`: optional https URL of a blob container (infra: the storage account's
  `recordings` container). When set, ACS writes the file there itself (bring-your-own-storage): the start
  request carries `externalStorage` {recordingStorageKind "azureBlobStorage", recordingDestinationContainerUrl}
  (REST spec StartCallRecordingRequest.externalStorage / ExternalStorage; SDK 1.6
  AzureBlobContainerRecordingStorage(container_url)), and ACS's managed identity needs Storage Blob Data
  Contributor on it. Unset: ACS keeps the file, and the orchestration downloads it after the Event Grid event.
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
    storage_container_url: str | None = None  # bring-your-own-storage

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
    container = read.optional("RECORDING_STORAGE_CONTAINER_URL")
    if container is not None and (not container.startswith("https://") or len(container) > 1024
                                  or any(c in container for c in "?#\r\n ")):
        raise SettingsError("RECORDING_STORAGE_CONTAINER_URL must be a container's https URL without a query; "
                            "for example RECORDING_STORAGE_CONTAINER_URL="
                            "https://mystorage.blob.core.windows.net/recordings")
    return RecordingSettings(mode, form, container)
