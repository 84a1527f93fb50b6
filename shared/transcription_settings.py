"""Real-time transcription: whether ACS is asked for it, and in which locale (pure: a mapping in).

ACS sends `TranscriptionMetadata` / `TranscriptionData` only when the call was answered (or created) with
`transcriptionOptions`, or a start-transcription request follows; `startTranscription` is false by default,
and transcription needs an Azure AI services resource connected to ACS, named at answer in
`callIntelligenceOptions.cognitiveServicesEndpoint` (learn.microsoft.com, communication-services/how-tos/
call-automation/real-time-transcription-tutorial; REST spec `WebSocketTranscriptionOptions`, stable
2026-03-12). Without an endpoint the default `transcribe` processor has nothing to store, so the app says so
at start-up and in each call's summary.

- `ACS_COGNITIVE_SERVICES_ENDPOINT` set: transcription options go with every answer; started at once unless
  `CALL_TRANSCRIPTION=off` (then the control API's `start_transcription` starts it).
- unset: no transcription; `CALL_TRANSCRIPTION=on` is then a configuration error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.call_actions import LOCALE
from shared.call_flow_settings import load_cognitive_services_endpoint
from shared.settings import EnvReader, SettingsError

DEFAULT_LOCALE = "en-US"
# Why a call has no transcript from ACS; shown in its summary (CallStart.transcription).
REQUESTED = "requested"
NOT_STARTED = "off"
NOT_CONFIGURED = "not_configured"
NOT_CONFIGURED_MESSAGE = (
    "ACS_COGNITIVE_SERVICES_ENDPOINT is not set, so ACS is not asked for real-time transcription: the "
    "'transcribe' voice processor has nothing to transcribe and summaries will have no transcript. Connect an "
    "Azure AI services resource to the ACS resource and set its endpoint (docs/deploy.md)."
)


@dataclass(frozen=True)
class TranscriptionSettings:
    cognitive_services_endpoint: str | None
    locale: str
    start_at_answer: bool

    @property
    def available(self) -> bool:
        return self.cognitive_services_endpoint is not None

    @property
    def state(self) -> str:
        """What the answer asks of ACS: `requested`, `off` (available, not started), `not_configured`."""
        if not self.available:
            return NOT_CONFIGURED
        return REQUESTED if self.start_at_answer else NOT_STARTED


def load_transcription_settings(environ: Mapping[str, str]) -> TranscriptionSettings:
    """Validate the transcription settings. Raises `SettingsError` naming the variable."""
    read = EnvReader(environ)
    endpoint = load_cognitive_services_endpoint(environ)
    mode = read.optional("CALL_TRANSCRIPTION")
    if mode is not None and mode not in ("on", "off"):
        raise SettingsError("CALL_TRANSCRIPTION must be on or off; for example CALL_TRANSCRIPTION=on")
    if mode == "on" and endpoint is None:
        raise SettingsError("CALL_TRANSCRIPTION=on needs ACS_COGNITIVE_SERVICES_ENDPOINT (an Azure AI services "
                            "resource connected to ACS); for example "
                            "ACS_COGNITIVE_SERVICES_ENDPOINT=https://my-ai.cognitiveservices.azure.com/")
    locale = read.optional("CALL_TRANSCRIPTION_LOCALE") or DEFAULT_LOCALE
    if LOCALE.fullmatch(locale) is None:
        raise SettingsError(f"CALL_TRANSCRIPTION_LOCALE must be a locale such as en-US; for example "
                            f"CALL_TRANSCRIPTION_LOCALE={DEFAULT_LOCALE}")
    return TranscriptionSettings(cognitive_services_endpoint=endpoint, locale=locale,
                                 start_at_answer=mode != "off")
