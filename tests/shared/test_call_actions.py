"""shared.call_actions: control requests validated field by field, and the payload round trip."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.call_actions import (
    ACTION_KINDS,
    CANCEL_ADD,
    CONFIGURED_TARGET,
    DEFAULT_VOICE,
    HANDOFF_STEPS,
    MAX_TEXT_CHARS,
    MAX_TIMEOUT_SECONDS,
    MAX_TONES,
    MAX_URL_CHARS,
    MEDIA_HOST_ACTIONS,
    REMOVE_AGENT,
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


def test_limits_are_pinned() -> None:
    assert (MAX_TEXT_CHARS, MAX_URL_CHARS, MAX_TONES, MAX_TIMEOUT_SECONDS) == (400, 2048, 20, 60)
    assert DEFAULT_VOICE == "en-US-JennyNeural" and CONFIGURED_TARGET == "configured"
    assert MEDIA_HOST_ACTIONS == {"transfer", "hang_up"}


URL_2048 = "https://cdn.contoso.com/" + "a" * (2048 - len("https://cdn.contoso.com/"))


@pytest.mark.parametrize(("body", "expected"), [
    ({"action": "play", "text": "x" * 400}, CallAction("a1", "play", "api", prompt=Prompt(text="x" * 400))),
    ({"action": "play", "text": " \tHi\xa0there "}, CallAction("a1", "play", "api", prompt=Prompt(text="Hi\xa0there"))),
    ({"action": "play", "url": URL_2048}, CallAction("a1", "play", "api", prompt=Prompt(url=URL_2048))),
    ({"action": "play", "url": "https://cdn.contoso.com:8443/a.wav?sig=x%20y"},
     CallAction("a1", "play", "api", prompt=Prompt(url="https://cdn.contoso.com:8443/a.wav?sig=x%20y"))),
    ({"action": "play", "text": "Hi", "voice": "en-US-Ava:DragonHDLatestNeural"},
     CallAction("a1", "play", "api", prompt=Prompt(text="Hi", voice="en-US-Ava:DragonHDLatestNeural"))),
    ({"action": "recognize_dtmf"}, CallAction("a1", "recognize_dtmf", "api", max_tones=1, timeout_seconds=5)),
    ({"action": "recognize_dtmf", "text": "Press 1", "maxTones": 20, "timeoutSeconds": 60},
     CallAction("a1", "recognize_dtmf", "api", prompt=Prompt(text="Press 1"), max_tones=20, timeout_seconds=60)),
    ({"action": "recognize_dtmf", "maxTones": 1, "timeoutSeconds": 1.0},
     CallAction("a1", "recognize_dtmf", "api", max_tones=1, timeout_seconds=1)),
    ({"action": "transfer"}, CallAction("a1", "transfer", "api", target="configured")),
    ({"action": "transfer", "target": "+1425555"}, CallAction("a1", "transfer", "api", target="+1425555")),
    ({"action": "transfer", "target": "+142555501234567"}, CallAction("a1", "transfer", "api",
                                                                       target="+142555501234567")),
    ({"action": "start_transcription", "locale": "de-DE"},
     CallAction("a1", "start_transcription", "api", locale="de-DE")),
    ({"action": "start_transcription"}, CallAction("a1", "start_transcription", "api")),
    ({"action": "stop_transcription"}, CallAction("a1", "stop_transcription", "api")),
    ({"action": "hang_up"}, CallAction("a1", "hang_up", "api")),
    ({"action": "mute"}, CallAction("a1", "mute", "api")),
])
def test_valid_requests_give_exactly_these_actions(body: dict[str, object], expected: CallAction) -> None:
    assert parse(body) == expected


@pytest.mark.parametrize(("body", "path", "message"), [
    ({"action": "play"}, "text", "give the text to speak or an https audio url"),
    ({"action": "play", "text": ""}, "text", "must not be empty"),
    ({"action": "play", "text": "  "}, "text", "must not be empty"),
    ({"action": "play", "text": "x" * 401}, "text", "longer than 400 characters"),
    ({"action": "play", "text": "two\nlines"}, "text", "must not contain control characters or line breaks"),
    ({"action": "play", "text": "a\x7fb"}, "text", "must not contain control characters or line breaks"),
    ({"action": "play", "text": "a\x80b"}, "text", "must not contain control characters or line breaks"),
    ({"action": "play", "text": "a\x9fb"}, "text", "must not contain control characters or line breaks"),
    ({"action": "play", "text": "a\u2028b"}, "text", "must not contain control characters or line breaks"),
    ({"action": "play", "text": "a\u2029b"}, "text", "must not contain control characters or line breaks"),
    ({"action": "play", "text": 5}, "text", "expected a string, got number"),
    ({"action": "play", "text": "Hi", "url": "https://a.b/c.wav"}, "url", "give either text or url, not both"),
    ({"action": "play", "url": URL_2048 + "a"}, "url", "longer than 2048 characters"),
    ({"action": "play", "url": "https://[::1/a.wav"}, "url", "not a valid URL"),
    ({"action": "play", "url": "https://a.b:99999/a.wav"}, "url", "not a valid URL"),
    ({"action": "play", "url": "not a url"}, "url", "must be an https URL"),
    ({"action": "play", "url": "http://cdn.contoso.com/a.wav"}, "url", "must be an https URL"),
    ({"action": "play", "url": "https:///a.wav"}, "url", "must be an https URL"),
    ({"action": "play", "url": "file:///etc/passwd"}, "url", "must be an https URL"),
    ({"action": "play", "url": "https://user:pw@cdn.contoso.com/a.wav"}, "url", "must not hold credentials or port 0"),
    ({"action": "play", "url": "https://user@cdn.contoso.com/a.wav"}, "url", "must not hold credentials or port 0"),
    ({"action": "play", "url": "https://:pw@cdn.contoso.com/a.wav"}, "url", "must not hold credentials or port 0"),
    ({"action": "play", "url": "https://cdn.contoso.com:0/a.wav"}, "url", "must not hold credentials or port 0"),
    ({"action": "play", "url": "https://cdn.contoso.com/a b.wav"}, "url",
     "must not contain spaces or control characters"),
    ({"action": "play", "url": "https://cdn.contoso.com/a\x7f.wav"}, "url",
     "must not contain spaces or control characters"),
    ({"action": "play", "url": "https://cdn.contoso.com/a\u2028.wav"}, "url",
     "must not contain spaces or control characters"),
    ({"action": "play", "url": 5}, "url", "expected a string, got number"),
    ({"action": "play", "text": "Hi", "voice": "Jenny; DROP"}, "voice",
     "must be an Azure neural voice name such as en-US-JennyNeural"),
    ({"action": "play", "text": "Hi", "voice": 5}, "voice", "expected a string, got number"),
    ({"action": "transfer", "target": "4255550123"}, "target",
     "must be an E.164 number such as +14255550123 or an ACS user id (8:acs:...)"),
    ({"action": "transfer", "target": "+0425555"}, "target",
     "must be an E.164 number such as +14255550123 or an ACS user id (8:acs:...)"),
    ({"action": "transfer", "target": "+1425555012345678"}, "target",
     "must be an E.164 number such as +14255550123 or an ACS user id (8:acs:...)"),
    ({"action": "transfer", "target": "8:teams:abc"}, "target",
     "must be an E.164 number such as +14255550123 or an ACS user id (8:acs:...)"),
    ({"action": "transfer", "target": 5}, "target", "expected a string, got number"),
    ({"action": "recognize_dtmf", "maxTones": 0}, "maxTones", "must be from 1 to 20"),
    ({"action": "recognize_dtmf", "maxTones": 21}, "maxTones", "must be from 1 to 20"),
    ({"action": "recognize_dtmf", "maxTones": "3"}, "maxTones", "expected an integer, got string"),
    ({"action": "recognize_dtmf", "timeoutSeconds": 0}, "timeoutSeconds", "must be from 1 to 60"),
    ({"action": "recognize_dtmf", "timeoutSeconds": 61}, "timeoutSeconds", "must be from 1 to 60"),
    ({"action": "recognize_dtmf", "text": "x" * 401}, "text", "longer than 400 characters"),
    ({"action": "start_transcription", "locale": "english"}, "locale", "must be a locale such as en-US"),
    ({"action": "start_transcription", "locale": 5}, "locale", "expected a string, got number"),
    ({"action": "explode"}, "action", "unknown action; one of play, recognize_dtmf, transfer, handoff, hang_up, mute, "
                                      "start_transcription, stop_transcription, start_recording, pause_recording, "
                                      "resume_recording, stop_recording"),
    ({"action": 5}, "action", "expected a string, got number"),
    ({}, "action", "missing required string 'action'"),
    ({"action": "hang_up", "extra": 1}, "extra", "unknown field"),
    ({"action": "hang_up", "z" * 100: 1, "y": 2}, "y", "unknown field"),
    ({"action": "hang_up", "z" * 100: 1}, "z" * 64, "unknown field"),
    ([], "", "expected an object, got array"),
])
def test_bad_requests_name_the_field(body: object, path: str, message: str) -> None:
    # The 400 body of POST /api/calls/{id}/actions is {"error": "bad_request", "message": ..., "path": ...}.
    with pytest.raises(BadRequest) as caught:
        parse(body)
    assert caught.value.to_json() == {"error": "bad_request", "message": message, "path": path}
    assert caught.value.status == 400


def test_targets_e164_acs_users_or_the_configured_one() -> None:
    assert parse({"action": "transfer"}).target == CONFIGURED_TARGET
    assert parse({"action": "transfer", "target": "+14255550123"}).target == "+14255550123"
    assert parse({"action": "transfer", "target": "8:acs:res_user-1"}).target == "8:acs:res_user-1"


def test_media_host_may_only_transfer_or_hang_up() -> None:
    assert parse({"action": "hang_up"}, MEDIA_HOST_ACTIONS).kind == "hang_up"
    assert parse({"action": "transfer"}, MEDIA_HOST_ACTIONS).target == CONFIGURED_TARGET
    with pytest.raises(BadRequest) as caught:
        parse({"action": "play", "text": "hi"}, MEDIA_HOST_ACTIONS)
    assert (caught.value.path, caught.value.message) == ("action", "unknown action; one of hang_up, transfer")


def test_describe_is_one_masked_line() -> None:
    assert parse({"action": "transfer", "target": "+14255550123"}).describe() == "transfer to +1 425 *** **23 (api) a1"
    assert CallAction("0123456789", "transfer", "flow", purpose="transfer", target=CONFIGURED_TARGET).describe() == (
        "transfer to configured target (transfer) 01234567")
    assert CallAction("b2", "transfer", "media", target="8:acs:res_user-1").describe() == (
        "transfer to 8:acs:re... (media) b2")
    assert CallAction("c3", "hang_up", "media").describe() == "hang_up (media) c3"


def test_payload_is_the_documented_wire_form() -> None:
    action = CallAction("a1", "recognize_dtmf", "flow", purpose="menu",
                        prompt=Prompt(text="Press 1", voice="en-GB-SoniaNeural"), max_tones=3, timeout_seconds=9)
    assert action.to_payload() == {
        "actionId": "a1", "action": "recognize_dtmf", "source": "flow", "purpose": "menu",
        "prompt": {"text": "Press 1", "url": None, "voice": "en-GB-SoniaNeural"},
        "target": None, "maxTones": 3, "timeoutSeconds": 9, "locale": None,
    }
    assert CallAction("a2", "start_transcription", "api", locale="fr-FR").to_payload() == {
        "actionId": "a2", "action": "start_transcription", "source": "api", "purpose": None, "prompt": None,
        "target": None, "maxTones": 1, "timeoutSeconds": 5, "locale": "fr-FR",
    }


# Round trips against actions built by hand, so that a field the payload or the parser drops (locale, a
# recognize prompt, a voice, a purpose) shows up as a difference.
ROUND_TRIPS = [
    CallAction("a1", "play", "api", prompt=Prompt(text="Hello", voice="en-GB-SoniaNeural")),
    CallAction("a2", "play", "flow", purpose="greeting", prompt=Prompt(url="https://a.example/x.mp3")),
    CallAction("a3", "recognize_dtmf", "flow", purpose="menu", prompt=Prompt(text="Press 1"), max_tones=3,
               timeout_seconds=9),
    CallAction("a4", "recognize_dtmf", "api", max_tones=20, timeout_seconds=60),
    CallAction("a5", "transfer", "media", target="+14255550123"),
    CallAction("b2", "transfer", "flow", purpose="transfer", target=CONFIGURED_TARGET),
    CallAction("a6", "hang_up", "media"), CallAction("a7", "mute", "api"),
    CallAction("a8", "start_transcription", "api", locale="en-US"),
    CallAction("a9", "stop_transcription", "api"),
]


@pytest.mark.parametrize("action", ROUND_TRIPS, ids=lambda action: action.action_id)
def test_payload_round_trip(action: CallAction) -> None:
    assert action_from_payload(action.to_payload()) == action


def test_payload_is_revalidated() -> None:
    good = CallAction("a1", "play", "api", prompt=Prompt(text="Hello")).to_payload()
    assert action_from_payload({**good, "purpose": "p" * 41}) == CallAction(
        "a1", "play", "api", purpose="p" * 40, prompt=Prompt(text="Hello"))
    assert action_from_payload({**good, "purpose": 7}) == CallAction("a1", "play", "api", prompt=Prompt(text="Hello"))
    # Fields that do not belong to the action are ignored, not taken over.
    unrelated = {"maxTones": 99, "timeoutSeconds": 0, "locale": "x"}
    assert action_from_payload({**good, **unrelated}) == action_from_payload(good)
    for change in ({"actionId": "a" * 65}, {"actionId": "a/b"}, {"actionId": 1}, {"source": "sms"},
                   {"source": None}, {"action": "explode"}, {"prompt": {"text": "a\nb"}}, {"prompt": None},
                   {"prompt": {"text": "Hi", "url": "https://a.b/c"}}):
        assert action_from_payload({**good, **change}) is None, change
    dtmf = CallAction("d1", "recognize_dtmf", "api").to_payload()
    assert action_from_payload({**dtmf, "maxTones": 21}) is None
    assert action_from_payload({**dtmf, "timeoutSeconds": 61}) is None
    transcription = CallAction("t1", "start_transcription", "api").to_payload()
    assert action_from_payload({**transcription, "locale": "english"}) is None
    transfer = CallAction("x1", "transfer", "api", target="+14255550123").to_payload()
    assert action_from_payload({**transfer, "target": "4255550123"}) is None
    assert action_from_payload({**transfer, "target": None}) == CallAction("x1", "transfer", "api",
                                                                           target=CONFIGURED_TARGET)


ACTION_IDS = st.text("abcXYZ019-", min_size=1, max_size=64)
TEXTS = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=400).filter(
    lambda text: text == text.strip() and bool(text))
PROMPTS = st.one_of(
    st.builds(Prompt, text=TEXTS,
              voice=st.sampled_from([DEFAULT_VOICE, "en-GB-SoniaNeural", "zh-CN-sichuan-YunxiNeural"])),
    st.builds(Prompt, url=st.sampled_from(["https://a.example/x.mp3", "https://cdn.contoso.com:443/p/a.wav?s=1"])),
)
VALID_ACTIONS = st.one_of(
    st.builds(CallAction, ACTION_IDS, st.just("play"), st.sampled_from(["flow", "api", "media"]),
              purpose=st.none() | st.text(max_size=40), prompt=PROMPTS),
    st.builds(CallAction, ACTION_IDS, st.just("recognize_dtmf"), st.sampled_from(["flow", "api"]),
              prompt=st.none() | PROMPTS, max_tones=st.integers(1, 20), timeout_seconds=st.integers(1, 60)),
    st.builds(CallAction, ACTION_IDS, st.just("transfer"), st.sampled_from(["flow", "api", "media"]),
              target=st.sampled_from([CONFIGURED_TARGET, "+14255550123", "8:acs:abc_1-2"])),
    st.builds(CallAction, ACTION_IDS, st.just("start_transcription"), st.just("api"),
              locale=st.none() | st.sampled_from(["en-US", "de-DE", "fil-PH"])),
    st.builds(CallAction, ACTION_IDS, st.sampled_from(["hang_up", "mute", "stop_transcription"]),
              st.sampled_from(["flow", "api", "media"])),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALID_ACTIONS)
def test_every_valid_action_survives_its_payload(action: CallAction) -> None:
    assert action_from_payload(action.to_payload()) == action


KEYS = st.sampled_from(["actionId", "action", "source", "prompt", "target", "maxTones"])
VALUES = st.one_of(st.none(), st.text(max_size=20), st.integers(), st.dictionaries(st.text(), st.text()),
                   st.sampled_from(ACTION_KINDS), st.sampled_from(["api", "flow", "media", "+14255550123"]))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALID_ACTIONS, st.dictionaries(KEYS, VALUES, max_size=2))
def test_any_payload_is_refused_or_a_valid_action(action: CallAction, changes: dict[str, object]) -> None:
    """Both sides: a valid payload with arbitrary changes is either refused or read back as exactly what it
    says (the changed fields included), never as something else."""
    payload = {**action.to_payload(), **changes}
    read = action_from_payload(payload)
    if read is None:
        return
    assert (read.action_id, read.kind, read.source) == (payload["actionId"], payload["action"], payload["source"])
    # A field that does not belong to the kind is ignored (a target on a play), as on the control API.
    if read.kind in ("transfer", "handoff"):
        expected_target = payload["target"] or CONFIGURED_TARGET
    else:  # a hand-off's own steps keep the target they were given; other kinds have none
        expected_target = payload["target"] if read.kind in HANDOFF_STEPS else None
    expected_tones = (1 if payload["maxTones"] is None else payload["maxTones"]) if read.kind == "recognize_dtmf" else 1
    assert (read.target, read.max_tones) == (expected_target, expected_tones)
    assert action_from_payload(read.to_payload()) == read


def test_a_cancel_step_round_trips_its_invitation_and_needs_a_well_formed_one() -> None:
    cancel = CallAction("c-1", CANCEL_ADD, "api", purpose="handoff", target="+14255550123", invitation_id="inv-1")
    assert action_from_payload(cancel.to_payload()) == cancel
    for bad in (None, "", "inv 1", "x" * 129, 7):
        assert action_from_payload({**cancel.to_payload(), "invitationId": bad}) is None
    remove = CallAction("r-1", REMOVE_AGENT, "api", purpose="handoff", target="+14255550123")
    assert action_from_payload(remove.to_payload()) == remove
    assert "invitationId" not in remove.to_payload()


# --- transfers and hand-offs: context, sealed targets, the hand-off's own steps -------------------------------

SEALED = "v1." + "A" * 40  # the shortest opaque form shared/sealed_value.py can give


def test_a_transfers_context_is_parsed_and_only_a_transfer_or_handoff_carries_one() -> None:
    action = parse({"action": "handoff", "target": "+14255550123", "reason": "billing question",
                    "headers": {"Ticket": "4711"}})
    assert (action.kind, action.target, action.reason, action.headers) == (
        "handoff", "+14255550123", "billing question", (("X-MS-Custom-Ticket", "4711"),))
    assert parse({"action": "transfer"}).target == CONFIGURED_TARGET
    for field, value in (("reason", "why"), ("headers", {"A": "b"})):
        with pytest.raises(BadRequest) as refused:
            parse({"action": "play", "text": "Hi", field: value})
        assert (refused.value.message, refused.value.path) == ("only a transfer or handoff carries context", field)
    with pytest.raises(BadRequest) as both:
        parse({"action": "mute", "reason": "x", "headers": {"A": "b"}})
    assert both.value.path == "reason"


def test_the_payload_carries_context_fields_only_when_set() -> None:
    plain = CallAction("a1", "transfer", "api", target="+14255550123").to_payload()
    assert not {"reason", "headers", "targetMask", "invitationId"} & plain.keys()
    full = CallAction("a1", "cancel_add_participant", "flow", target=SEALED, reason="r",
                      headers=(("X-MS-Custom-A", "b"),), target_mask="+1 425 *** **23",
                      invitation_id="inv-1").to_payload()
    assert (full["reason"], full["headers"], full["targetMask"], full["invitationId"]) == (
        "r", {"X-MS-Custom-A": "b"}, "+1 425 *** **23", "inv-1")


def test_a_sealed_target_is_shown_by_its_mask_and_never_parsed_as_a_number() -> None:
    payload = CallAction("a1", "transfer", "api", target=SEALED, target_mask="+1 425 *** **23").to_payload()
    action = action_from_payload(payload)
    assert action is not None and (action.target, action.target_mask) == (SEALED, "+1 425 *** **23")
    assert action.shown_target() == "+1 425 *** **23" and action.describe().startswith("transfer to +1 425 *** **23")
    assert CallAction("a2", "transfer", "api", target=SEALED).shown_target() == "sealed target"
    assert CallAction("a3", "transfer", "api", target="+14255550123").shown_target() != "+14255550123"
    # A sealed target without its mask, or on a kind that has no target, is not an action.
    assert action_from_payload({**payload, "targetMask": None}) is None
    assert action_from_payload({**payload, "action": "play", "prompt": {"text": "Hi"}}) is None
    # A mask is shown masked again and clipped: it came through history, not from a trusted writer.
    remasked = action_from_payload({**payload, "targetMask": "+14255550123 " + "x" * 80})
    assert remasked is not None and "4255550123" not in (remasked.target_mask or "")
    assert remasked.target_mask is not None and len(remasked.target_mask) == 64


@pytest.mark.parametrize(("given", "kept"), [(1, 1), (180, 180), (0, 5), (181, 5), (True, 5), ("30", 5), (None, 5)])
def test_a_handoff_steps_timeout_is_kept_within_acs_bounds(given: object, kept: int) -> None:
    payload = {**CallAction("s1", "add_participant", "flow", target="+14255550123").to_payload(),
               "timeoutSeconds": given}
    action = action_from_payload(payload)
    assert action is not None and (action.kind, action.timeout_seconds) == ("add_participant", kept)


def test_handoff_steps_keep_their_kind_prompt_and_target() -> None:
    brief = CallAction("s2", "play_to_agent", "flow", purpose="brief", target="+14255550123",
                       prompt=Prompt(text="Caller asks about billing."))
    parsed = action_from_payload(brief.to_payload())
    assert parsed is not None and (parsed.kind, parsed.purpose, parsed.target, parsed.prompt) == (
        "play_to_agent", "brief", "+14255550123", Prompt(text="Caller asks about billing."))
    hold = action_from_payload(CallAction("s3", "hold", "flow", prompt=Prompt(text="Please hold.")).to_payload())
    assert hold is not None and (hold.kind, hold.target, hold.prompt) == ("hold", None, Prompt(text="Please hold."))


@pytest.mark.parametrize(("invitation", "accepted"), [("inv-1", True), ("a" * 128, True), ("a" * 129, False),
                                                      ("", False), ("in v", False), (None, False), (7, False)])
def test_cancelling_an_invitation_needs_a_well_formed_invitation_id(invitation: object, accepted: bool) -> None:
    payload = {**CallAction("c1", CANCEL_ADD, "flow", target="+14255550123").to_payload(), "invitationId": invitation}
    action = action_from_payload(payload)
    assert (action is not None) is accepted
    if action is not None:
        assert (action.kind, action.invitation_id) == (CANCEL_ADD, invitation)
    removed = action_from_payload({**payload, "action": REMOVE_AGENT})
    assert removed is not None and (removed.kind, removed.invitation_id) == (REMOVE_AGENT, None)
