from __future__ import annotations

import pytest

from shared.settings import SettingsError
from shared.transcription_settings import (
    NOT_CONFIGURED,
    NOT_STARTED,
    REQUESTED,
    TranscriptionSettings,
    load_transcription_settings,
)

ENDPOINT = "https://my-ai.cognitiveservices.azure.com"
AI = "ACS_COGNITIVE_SERVICES_ENDPOINT"


def test_with_an_endpoint_transcription_is_requested_by_default() -> None:
    loaded = load_transcription_settings({"ACS_COGNITIVE_SERVICES_ENDPOINT": ENDPOINT})
    assert loaded == TranscriptionSettings(cognitive_services_endpoint=ENDPOINT, locale="en-US", start_at_answer=True)
    assert loaded.available and loaded.state == REQUESTED


def test_off_keeps_it_available_but_not_started() -> None:
    loaded = load_transcription_settings({"ACS_COGNITIVE_SERVICES_ENDPOINT": ENDPOINT, "CALL_TRANSCRIPTION": "off",
                                          "CALL_TRANSCRIPTION_LOCALE": "fr-CA"})
    assert (loaded.start_at_answer, loaded.locale, loaded.state) == (False, "fr-CA", NOT_STARTED)


def test_without_an_endpoint_it_is_not_configured() -> None:
    loaded = load_transcription_settings({})
    assert (loaded.available, loaded.state) == (False, NOT_CONFIGURED)
    assert load_transcription_settings({"CALL_TRANSCRIPTION": "off"}).state == NOT_CONFIGURED


@pytest.mark.parametrize(("env", "names"), [
    ({"CALL_TRANSCRIPTION": "on"}, "ACS_COGNITIVE_SERVICES_ENDPOINT"),
    ({AI: ENDPOINT, "CALL_TRANSCRIPTION": "yes"}, "CALL_TRANSCRIPTION must be on or off"),
    ({AI: ENDPOINT, "CALL_TRANSCRIPTION_LOCALE": "english"}, "CALL_TRANSCRIPTION_LOCALE"),
    ({AI: ENDPOINT, "CALL_TRANSCRIPTION_LOCALE": "en-us"}, "CALL_TRANSCRIPTION_LOCALE"),
    ({AI: "http://my-ai.cognitiveservices.azure.com"}, "ACS_COGNITIVE_SERVICES_ENDPOINT"),
])
def test_bad_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        load_transcription_settings(env)
