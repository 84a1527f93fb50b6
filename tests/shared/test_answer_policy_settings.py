"""The answer policy's settings: accepted values with their exact fields, refused ones with their exact message."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from shared.answer_policy_settings import AnswerPolicySettings, load_answer_policy_settings
from shared.business_hours import BusinessHours, OpeningRange
from shared.settings import SettingsError

HEALTH = "https://media.contoso.com/healthz"


@pytest.mark.parametrize("blank", ["", " ", "\t \n"])
def test_blank_values_are_unset(blank: str) -> None:
    environ = {name: blank for name in ("CALL_BLOCKED_CALLERS", "MAX_CONCURRENT_CALLS", "CALL_OVERFLOW_TARGET",
                                        "MEDIA_HOST_HEALTH_URL", "CALL_BUSINESS_HOURS", "CALL_TIMEZONE",
                                        "CALL_AFTER_HOURS_TARGET")}
    assert load_answer_policy_settings(environ) == AnswerPolicySettings()


def test_a_blocked_list_of_separators_only_blocks_nobody() -> None:
    assert load_answer_policy_settings({"CALL_BLOCKED_CALLERS": " , ,"}).blocked_callers == frozenset()


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), (" 20 ", 20), ("100000", 100_000)])
def test_max_concurrent_calls_accepts_1_to_100000(raw: str, expected: int) -> None:
    settings = load_answer_policy_settings({"MAX_CONCURRENT_CALLS": raw, "MEDIA_HOST_HEALTH_URL": HEALTH})
    assert settings.max_concurrent_calls == expected


@pytest.mark.parametrize("raw", ["0", "100001", "-1", "2.5", "twenty", "1e3"])
def test_max_concurrent_calls_refused_with_its_range(raw: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_answer_policy_settings({"MAX_CONCURRENT_CALLS": raw, "MEDIA_HOST_HEALTH_URL": HEALTH})
    assert str(raised.value) == ("MAX_CONCURRENT_CALLS must be an integer from 1 to 100000; "
                                 "for example MAX_CONCURRENT_CALLS=20")


def test_max_concurrent_calls_needs_the_health_url() -> None:
    with pytest.raises(SettingsError) as raised:
        load_answer_policy_settings({"MAX_CONCURRENT_CALLS": "5"})
    assert str(raised.value) == (
        "MAX_CONCURRENT_CALLS needs MEDIA_HOST_HEALTH_URL (the media host counts the live calls); "
        "for example MEDIA_HOST_HEALTH_URL=https://media.contoso.com/healthz")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/healthz", "https://media.contoso.com/healthz?probe=1",
                                 " https://media.contoso.com/healthz "])
def test_health_urls_accepted(url: str) -> None:
    assert load_answer_policy_settings({"MEDIA_HOST_HEALTH_URL": url}).media_host_health_url == url.strip()


@pytest.mark.parametrize("url", ["ftp://media/healthz", "media.contoso.com/healthz", "http:///healthz",
                                 "https://media.contoso.com/healthz#top"])
def test_health_urls_refused(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_answer_policy_settings({"MEDIA_HOST_HEALTH_URL": url})
    assert str(raised.value) == ("MEDIA_HOST_HEALTH_URL must be an http or https URL; for example "
                                 "MEDIA_HOST_HEALTH_URL=https://media.contoso.com/healthz")


@pytest.mark.parametrize("target", ["+14255550199", "8:acs:overflow_1"])
def test_targets_accept_numbers_and_acs_users(target: str) -> None:
    settings = load_answer_policy_settings({"CALL_OVERFLOW_TARGET": target, "CALL_AFTER_HOURS_TARGET": target,
                                            "CALL_BUSINESS_HOURS": "mon 09:00-17:00", "CALL_TIMEZONE": "UTC"})
    assert (settings.overflow_target, settings.after_hours.target) == (target, target)


@pytest.mark.parametrize("name", ["CALL_OVERFLOW_TARGET", "CALL_AFTER_HOURS_TARGET"])
def test_targets_refused_with_their_name(name: str) -> None:
    environ = {name: "sales", "CALL_BUSINESS_HOURS": "mon 09:00-17:00", "CALL_TIMEZONE": "UTC"}
    with pytest.raises(SettingsError) as raised:
        load_answer_policy_settings(environ)
    assert str(raised.value) == f"{name} must be an E.164 number or an ACS user id; for example {name}=+14255550123"


def test_a_bad_blocked_entry_gives_an_example_not_the_value() -> None:
    with pytest.raises(SettingsError) as raised:
        load_answer_policy_settings({"CALL_BLOCKED_CALLERS": "+14255550100, 4255550177"})
    assert str(raised.value) == ("CALL_BLOCKED_CALLERS holds an entry that is not an E.164 number; for example "
                                 "CALL_BLOCKED_CALLERS=+14255550123,+442071234567")


def test_business_hours_parse_into_ranges_in_the_zone() -> None:
    settings = load_answer_policy_settings({"CALL_BUSINESS_HOURS": "sat 10:00-14:00",
                                            "CALL_TIMEZONE": " Europe/Berlin "})
    assert settings.business_hours == BusinessHours((OpeningRange(5, 600, 840),), ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(("environ", "message"), [
    ({"CALL_TIMEZONE": "Europe/Berlin"},
     "CALL_TIMEZONE and the CALL_AFTER_HOURS_ settings need CALL_BUSINESS_HOURS; for example "
     "CALL_BUSINESS_HOURS=mon-fri 09:00-17:00"),
    ({"CALL_AFTER_HOURS_TARGET": "+14255550199"},
     "CALL_TIMEZONE and the CALL_AFTER_HOURS_ settings need CALL_BUSINESS_HOURS; for example "
     "CALL_BUSINESS_HOURS=mon-fri 09:00-17:00"),
    ({"CALL_BUSINESS_HOURS": "mon-fri 09:00-17:00"},
     "CALL_BUSINESS_HOURS needs CALL_TIMEZONE; for example CALL_TIMEZONE=Europe/Berlin"),
    ({"CALL_BUSINESS_HOURS": "mon-fri 09:00-17:00", "CALL_TIMEZONE": "Mars/Olympus"},
     "CALL_TIMEZONE must be an IANA time zone; for example CALL_TIMEZONE=Europe/Berlin"),
    ({"CALL_BUSINESS_HOURS": "mon-fri 09:00-17:00", "CALL_TIMEZONE": "../etc/passwd"},
     "CALL_TIMEZONE must be an IANA time zone; for example CALL_TIMEZONE=Europe/Berlin"),
    ({"CALL_BUSINESS_HOURS": "mon 22:00-06:00", "CALL_TIMEZONE": "UTC"},
     "CALL_BUSINESS_HOURS: entry 'mon 22:00-06:00' ends before it starts; a range may not pass midnight; "
     "for example CALL_BUSINESS_HOURS=mon-fri 09:00-17:30; sat 10:00-14:00"),
])
def test_business_hours_settings_refused_with_their_message(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_answer_policy_settings(environ)
    assert str(raised.value) == message
