"""shared.call_flow_settings: optional, validated, naming the variable; the orchestration's JSON form."""

from __future__ import annotations

import pytest

from shared.call_flow_settings import (
    CallFlowSettings,
    flow_from_dict,
    load_call_flow_settings,
    load_cognitive_services_endpoint,
)
from shared.settings import SettingsError

MENU = {"CALL_MENU_PROMPT_TEXT": "Press 0 for an agent.", "CALL_MENU_OPTIONS": "0:transfer,9:hang_up",
        "CALL_TRANSFER_TARGET": "+14255550123"}


def test_nothing_set_is_the_default_flow() -> None:
    settings = load_call_flow_settings({})
    assert settings.is_default and settings == CallFlowSettings()


def test_a_full_flow() -> None:
    settings = load_call_flow_settings({**MENU, "CALL_GREETING_TEXT": "Welcome to Contoso.",
                                        "CALL_TTS_VOICE": "en-GB-SoniaNeural", "CALLER_SILENCE_SECONDS": "8",
                                        "CALL_SILENCE_MAX_PROMPTS": "2", "CALL_MENU_MAX_REPROMPTS": "1"})
    assert settings.greeting is not None and settings.greeting.voice == "en-GB-SoniaNeural"
    assert settings.menu_options == {"0": "transfer", "9": "hang_up"}
    assert (settings.silence_seconds, settings.silence_max_prompts, settings.menu_max_reprompts) == (8, 2, 1)
    assert settings.transfer_target == "+14255550123"


@pytest.mark.parametrize(("environ", "named"), [
    ({"CALL_GREETING_AUDIO_URL": "http://x.example/a.wav"}, "CALL_GREETING_AUDIO_URL"),
    ({"CALL_GREETING_TEXT": "Hi", "CALL_GREETING_AUDIO_URL": "https://x.example/a.wav"}, "CALL_GREETING_AUDIO_URL"),
    ({"CALL_TTS_VOICE": "robot"}, "CALL_TTS_VOICE"),
    ({**MENU, "CALL_MENU_OPTIONS": "0:dance"}, "CALL_MENU_OPTIONS"),
    ({**MENU, "CALL_MENU_OPTIONS": "0:transfer,0:hang_up"}, "CALL_MENU_OPTIONS"),
    ({"CALL_MENU_OPTIONS": "0:transfer", "CALL_TRANSFER_TARGET": "+14255550123"}, "CALL_MENU_OPTIONS"),
    ({"CALL_MENU_PROMPT_TEXT": "Press 0"}, "CALL_MENU_OPTIONS"),
    ({**MENU, "CALL_TRANSFER_TARGET": ""}, "CALL_TRANSFER_TARGET"),
    ({"CALL_TRANSFER_TARGET": "555-0123"}, "CALL_TRANSFER_TARGET"),
    ({"CALLER_SILENCE_SECONDS": "-1"}, "CALLER_SILENCE_SECONDS"),
    ({"CALL_SILENCE_MAX_PROMPTS": "many"}, "CALL_SILENCE_MAX_PROMPTS"),
    ({"CALL_GOODBYE_TEXT": "x" * 401}, "CALL_GOODBYE_TEXT"),
])
def test_bad_values_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_call_flow_settings(environ)


def test_round_trip_keeps_the_target_out_of_the_orchestration() -> None:
    settings = load_call_flow_settings({**MENU, "CALL_GREETING_AUDIO_URL": "https://x.example/hello.wav"})
    data = settings.to_dict()
    assert "4255550123" not in str(data)
    back = flow_from_dict(data)
    assert back.greeting == settings.greeting and back.menu_options == settings.menu_options
    assert back.transfer_target == "configured"


@pytest.mark.parametrize("garbage", [{}, {"greeting": 5, "menuOptions": {"x": "transfer", "1": "fly"}},
                                     {"silenceSeconds": True, "goodbye": {"text": "\n"}}])
def test_malformed_json_falls_back_to_defaults(garbage: dict[str, object]) -> None:
    settings = flow_from_dict(garbage)
    assert settings.greeting is None and settings.menu_options == {} and settings.silence_seconds == 0
    assert settings.goodbye == CallFlowSettings().goodbye


def test_the_cognitive_services_endpoint_is_optional_and_must_be_https() -> None:
    assert load_cognitive_services_endpoint({}) is None
    assert load_cognitive_services_endpoint({"ACS_COGNITIVE_SERVICES_ENDPOINT": " "}) is None
    endpoint = "https://my-ai.cognitiveservices.azure.com/"
    assert load_cognitive_services_endpoint({"ACS_COGNITIVE_SERVICES_ENDPOINT": endpoint}) == endpoint
    for bad in ("http://my-ai.cognitiveservices.azure.com/", "my-ai", "https://user:pw@x.example/"):
        with pytest.raises(SettingsError, match="ACS_COGNITIVE_SERVICES_ENDPOINT"):
            load_cognitive_services_endpoint({"ACS_COGNITIVE_SERVICES_ENDPOINT": bad})
        with pytest.raises(SettingsError, match="ACS_COGNITIVE_SERVICES_ENDPOINT"):
            load_call_flow_settings({"ACS_COGNITIVE_SERVICES_ENDPOINT": bad})
