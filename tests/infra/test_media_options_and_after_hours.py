"""infra passes the media options and the after-hours settings to the function app, with the values the app's
readers accept (shared/media_options_settings.py, shared/after_hours_settings.py)."""

from __future__ import annotations

import json

from shared.app_config import load_app_config
from shared.media_options_settings import AUDIO_CHANNELS
from tests.infra.bicep_template import REPO_ROOT
from tests.infra.test_ai_services import MAIN, app_setting
from tests.shared.test_settings import VALID

PARAMETERS = json.loads((REPO_ROOT / "infra" / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]


def test_media_options_come_from_azd_with_the_values_the_app_accepts() -> None:
    assert app_setting("MEDIA_AUDIO_CHANNEL") == "mediaAudioChannel"
    assert app_setting("MEDIA_DTMF") == "mediaDtmf"
    assert MAIN.parameter_decorator("mediaAudioChannel", "allowed") == list(AUDIO_CHANNELS)
    assert MAIN.parameter_decorator("mediaDtmf", "allowed") == ["on", "off"]
    assert PARAMETERS["mediaAudioChannel"]["value"] == "${MEDIA_AUDIO_CHANNEL=mixed}"
    assert PARAMETERS["mediaDtmf"]["value"] == "${MEDIA_DTMF=on}"
    for channel in AUDIO_CHANNELS:
        for dtmf in ("on", "off"):
            load_app_config({**VALID, "MEDIA_AUDIO_CHANNEL": channel, "MEDIA_DTMF": dtmf})


def test_after_hours_settings_come_from_azd_and_default_to_unset() -> None:
    for setting, parameter in (("CALL_AFTER_HOURS_ACTION", "callAfterHoursAction"),
                               ("CALL_AFTER_HOURS_TEXT", "callAfterHoursText"),
                               ("CALL_AFTER_HOURS_AUDIO_URL", "callAfterHoursAudioUrl")):
        assert app_setting(setting) == parameter
        assert MAIN.parameter_default(parameter) == ""  # unset: the app's default (docs/settings.md)
        assert PARAMETERS[parameter]["value"] == f"${{{setting}=}}"


def test_the_daily_digest_settings_come_from_azd_and_default_to_off() -> None:
    for setting, parameter in (("DIGEST_EMAIL_TO", "digestEmailTo"), ("DIGEST_TIME", "digestTime")):
        assert app_setting(setting) == parameter
        assert MAIN.parameter_default(parameter) == ""  # unset: no digest, and 07:00 (docs/settings.md)
        assert PARAMETERS[parameter]["value"] == f"${{{setting}=}}"
    assert not load_app_config({**VALID, "DIGEST_EMAIL_TO": "", "DIGEST_TIME": ""}).digest.enabled
