from __future__ import annotations

import pytest

from shared.app_config import load_app_config
from shared.media_options_settings import MediaOptions, load_media_options
from shared.settings import SettingsError
from tests.shared.test_settings import VALID


def test_defaults_are_mixed_audio_with_dtmf() -> None:
    assert load_media_options({}) == MediaOptions("mixed", True)
    assert load_app_config(VALID).media_options == MediaOptions("mixed", True)


@pytest.mark.parametrize(("environ", "expected"), [
    ({"MEDIA_AUDIO_CHANNEL": "unmixed"}, MediaOptions("unmixed", True)),
    ({"MEDIA_DTMF": "off"}, MediaOptions("mixed", False)),
    ({"MEDIA_DTMF": "ON", "MEDIA_AUDIO_CHANNEL": " mixed "}, MediaOptions("mixed", True)),
])
def test_values(environ: dict[str, str], expected: MediaOptions) -> None:
    assert load_media_options(environ) == expected


@pytest.mark.parametrize(("environ", "variable"), [
    ({"MEDIA_AUDIO_CHANNEL": "Unmixed"}, "MEDIA_AUDIO_CHANNEL"),  # the REST enum is lower case
    ({"MEDIA_AUDIO_CHANNEL": "stereo"}, "MEDIA_AUDIO_CHANNEL"),
    ({"MEDIA_DTMF": "true"}, "MEDIA_DTMF"),
    ({"MEDIA_DTMF": "1"}, "MEDIA_DTMF"),
])
def test_bad_values_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable} must be"):
        load_app_config({**VALID, **environ})
