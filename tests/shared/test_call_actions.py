"""shared.call_actions: control requests validated field by field, and the payload round trip."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.call_actions import (
    CONFIGURED_TARGET,
    MAX_TEXT_CHARS,
    MEDIA_HOST_ACTIONS,
    CallAction,
    Prompt,
    action_from_payload,
    parse_action_request,
)
from shared.json_body import BadRequest


def parse(body: object, allowed: frozenset[str] | None = None) -> CallAction:
    return parse_action_request(body, "a1", "api", allowed)


def test_play_text_with_default_voice_and_url() -> None:
    assert parse({"action": "play", "text": " Hello "}).prompt == Prompt(text="Hello")
    action = parse({"action": "play", "url": "https://cdn.contoso.com/a.wav"})
    assert action.prompt is not None and action.prompt.url == "https://cdn.contoso.com/a.wav"
    assert parse({"action": "play", "text": "Hi", "voice": "en-GB-SoniaNeural"}).prompt.voice == "en-GB-SoniaNeural"


@pytest.mark.parametrize(("body", "path"), [
    ({"action": "play"}, "text"),
    ({"action": "play", "text": ""}, "text"),
    ({"action": "play", "text": "x" * (MAX_TEXT_CHARS + 1)}, "text"),
    ({"action": "play", "text": "two\nlines"}, "text"),
    ({"action": "play", "text": "Hi", "url": "https://a.b/c.wav"}, "url"),
    ({"action": "play", "url": "http://cdn.contoso.com/a.wav"}, "url"),
    ({"action": "play", "url": "https://user:pw@cdn.contoso.com/a.wav"}, "url"),
    ({"action": "play", "url": "file:///etc/passwd"}, "url"),
    ({"action": "play", "text": "Hi", "voice": "Jenny; DROP"}, "voice"),
    ({"action": "transfer", "target": "4255550123"}, "target"),
    ({"action": "transfer", "target": "+0425555"}, "target"),
    ({"action": "transfer", "target": "+1425555012345678"}, "target"),
    ({"action": "transfer", "target": "8:teams:abc"}, "target"),
    ({"action": "recognize_dtmf", "maxTones": 0}, "maxTones"),
    ({"action": "recognize_dtmf", "timeoutSeconds": 61}, "timeoutSeconds"),
    ({"action": "start_transcription", "locale": "english"}, "locale"),
    ({"action": "explode"}, "action"),
    ({"action": "hang_up", "extra": 1}, "extra"),
    ([], ""),
])
def test_bad_requests_name_the_field(body: object, path: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse(body)
    assert caught.value.path == path and caught.value.status == 400


def test_targets_e164_acs_users_or_the_configured_one() -> None:
    assert parse({"action": "transfer"}).target == CONFIGURED_TARGET
    assert parse({"action": "transfer", "target": "+14255550123"}).target == "+14255550123"
    assert parse({"action": "transfer", "target": "8:acs:res_user-1"}).target == "8:acs:res_user-1"


def test_media_host_may_only_transfer_or_hang_up() -> None:
    assert parse({"action": "hang_up"}, MEDIA_HOST_ACTIONS).kind == "hang_up"
    with pytest.raises(BadRequest):
        parse({"action": "play", "text": "hi"}, MEDIA_HOST_ACTIONS)


def test_describe_masks_the_target() -> None:
    described = parse({"action": "transfer", "target": "+14255550123"}).describe()
    assert "4255550123" not in described and described.startswith("transfer to +1 425")


@pytest.mark.parametrize("body", [
    {"action": "play", "text": "Hello"}, {"action": "play", "url": "https://a.example/x.mp3"},
    {"action": "recognize_dtmf", "text": "Press 1", "maxTones": 3, "timeoutSeconds": 9},
    {"action": "transfer", "target": "+14255550123"}, {"action": "hang_up"}, {"action": "mute"},
    {"action": "start_transcription", "locale": "en-US"}, {"action": "stop_transcription"},
])
def test_payload_round_trip(body: dict[str, object]) -> None:
    action = parse(body)
    assert action_from_payload(action.to_payload()) == action


def test_flow_transfer_to_configured_target_round_trips() -> None:
    action = CallAction("b2", "transfer", "flow", purpose="transfer", target=CONFIGURED_TARGET)
    assert action_from_payload(action.to_payload()) == action


KEYS = st.sampled_from(["actionId", "action", "source", "prompt", "target", "maxTones"])
VALUES = st.one_of(st.none(), st.text(max_size=20), st.integers(), st.dictionaries(st.text(), st.text()))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES))
def test_any_payload_is_refused_or_a_valid_action(payload: dict[str, object]) -> None:
    action = action_from_payload(payload)
    assert action is None or action_from_payload(action.to_payload()) == action
