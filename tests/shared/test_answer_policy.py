from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.answer_policy import (
    BUSY,
    FORBIDDEN,
    REASON_BLOCKED,
    REASON_MAX_CALLS,
    REASON_MEDIA_FULL,
    REASON_MEDIA_UNAVAILABLE,
    Answer,
    MediaCapacity,
    Redirect,
    Reject,
    decide,
)
from shared.answer_policy_settings import AnswerPolicySettings, load_answer_policy_settings
from shared.app_config import load_app_config
from shared.event_grid import CommunicationIdentifier, IncomingCall
from shared.settings import SettingsError
from tests.shared.test_settings import VALID

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
HEALTH = "http://127.0.0.1:8765/healthz"


def _call(raw_id: str = "4:+14255550100", phone: str | None = "+14255550100") -> IncomingCall:
    kind = "phoneNumber" if phone is not None or raw_id.startswith("4:") else "communicationUser"
    return IncomingCall(
        to=CommunicationIdentifier("communicationUser", "8:acs:bot", None, "8:acs:bot"),
        from_=CommunicationIdentifier(kind, raw_id, phone, None),
        server_call_id="server-1", caller_display_name=None, incoming_call_context="ctx",
        correlation_id="corr-1", custom_context=None)


def _settings(**overrides: object) -> AnswerPolicySettings:
    values: dict[str, object] = {"media_host_health_url": HEALTH}
    values.update(overrides)
    return AnswerPolicySettings(**values)  # type: ignore[arg-type]


def test_a_blocked_caller_is_rejected_forbidden_even_with_room() -> None:
    settings = _settings(blocked_callers=frozenset({"+14255550100"}))
    assert decide(_call(), settings, NOW, MediaCapacity(0, 10)) == Reject(FORBIDDEN, REASON_BLOCKED)


def test_a_blocked_caller_is_recognised_by_raw_id_alone() -> None:
    settings = _settings(blocked_callers=frozenset({"+14255550100"}))
    assert decide(_call(phone=None), settings, NOW, MediaCapacity(0, 10)) == Reject(FORBIDDEN, REASON_BLOCKED)


def test_a_blocked_caller_is_forbidden_before_overflow_applies() -> None:
    settings = _settings(blocked_callers=frozenset({"+14255550100"}), overflow_target="+14255550199")
    assert decide(_call(), settings, NOW, None) == Reject(FORBIDDEN, REASON_BLOCKED)


def test_other_callers_and_acs_users_are_answered() -> None:
    settings = _settings(blocked_callers=frozenset({"+14255550100"}))
    assert decide(_call("4:+14255550101", "+14255550101"), settings, NOW, MediaCapacity(0, 10)) == Answer()
    assert decide(_call("8:acs:user", None), settings, NOW, MediaCapacity(0, 10)) == Answer()


@pytest.mark.parametrize(("calls", "expected"), [
    (9, Answer()),
    (10, Reject(BUSY, REASON_MEDIA_FULL)),
    (11, Reject(BUSY, REASON_MEDIA_FULL)),
])
def test_media_host_limit_edge(calls: int, expected: object) -> None:
    assert decide(_call(), _settings(), NOW, MediaCapacity(calls, 10)) == expected


@pytest.mark.parametrize(("calls", "expected"), [
    (4, Answer()),
    (5, Redirect("+14255550199", REASON_MAX_CALLS)),
])
def test_max_concurrent_calls_edge_redirects_to_overflow(calls: int, expected: object) -> None:
    settings = _settings(max_concurrent_calls=5, overflow_target="+14255550199")
    assert decide(_call(), settings, NOW, MediaCapacity(calls, 10)) == expected


def test_a_media_host_without_a_published_limit_counts_only_against_max_calls() -> None:
    assert decide(_call(), _settings(), NOW, MediaCapacity(1000, None)) == Answer()
    assert decide(_call(), _settings(max_concurrent_calls=3), NOW, MediaCapacity(3, None)) == \
        Reject(BUSY, REASON_MAX_CALLS)


def test_a_media_host_that_did_not_answer_counts_as_full() -> None:
    assert decide(_call(), _settings(), NOW, None) == Reject(BUSY, REASON_MEDIA_UNAVAILABLE)
    assert decide(_call(), _settings(overflow_target="8:acs:overflow"), NOW, None) == \
        Redirect("8:acs:overflow", REASON_MEDIA_UNAVAILABLE)


def test_without_a_health_url_capacity_is_not_judged() -> None:
    assert decide(_call(), AnswerPolicySettings(), NOW, None) == Answer()


def test_settings_defaults() -> None:
    assert load_answer_policy_settings({}) == AnswerPolicySettings()


def test_settings_parse() -> None:
    settings = load_answer_policy_settings({
        "CALL_BLOCKED_CALLERS": " +14255550100, +442071234567 ,", "MAX_CONCURRENT_CALLS": "20",
        "CALL_OVERFLOW_TARGET": "8:acs:overflow_1", "MEDIA_HOST_HEALTH_URL": HEALTH})
    assert settings == AnswerPolicySettings(frozenset({"+14255550100", "+442071234567"}), 20, "8:acs:overflow_1",
                                            HEALTH)


@pytest.mark.parametrize(("environ", "variable"), [
    ({"CALL_BLOCKED_CALLERS": "+14255550100,0123"}, "CALL_BLOCKED_CALLERS"),
    ({"MAX_CONCURRENT_CALLS": "0", "MEDIA_HOST_HEALTH_URL": HEALTH}, "MAX_CONCURRENT_CALLS"),
    ({"MAX_CONCURRENT_CALLS": "100001", "MEDIA_HOST_HEALTH_URL": HEALTH}, "MAX_CONCURRENT_CALLS"),
    ({"MAX_CONCURRENT_CALLS": "-1", "MEDIA_HOST_HEALTH_URL": HEALTH}, "MAX_CONCURRENT_CALLS"),
    ({"MAX_CONCURRENT_CALLS": "5"}, "MEDIA_HOST_HEALTH_URL"),
    ({"CALL_OVERFLOW_TARGET": "sales"}, "CALL_OVERFLOW_TARGET"),
    ({"MEDIA_HOST_HEALTH_URL": "ftp://media/healthz"}, "MEDIA_HOST_HEALTH_URL"),
])
def test_malformed_settings_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_answer_policy_settings(environ)


def test_a_bad_blocked_entry_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as raised:
        load_answer_policy_settings({"CALL_BLOCKED_CALLERS": "+14255550100,4255550177"})
    assert "4255550177" not in str(raised.value)


def test_app_config_loads_the_policy() -> None:
    config = load_app_config({**VALID, "CALL_BLOCKED_CALLERS": "+14255550100"})
    assert config.answer_policy.blocked_callers == frozenset({"+14255550100"})
    with pytest.raises(SettingsError, match="CALL_OVERFLOW_TARGET"):
        load_app_config({**VALID, "CALL_OVERFLOW_TARGET": "nobody"})


def test_reject_reasons_are_acs_wire_values() -> None:
    # CallRejectReason in the Call Automation REST spec: the values travel to ACS as they are.
    from shared import answer_policy as policy
    assert (policy.FORBIDDEN, policy.BUSY, policy.NO_REASON) == ("forbidden", "busy", "none")
    # The reasons are recorded in outcomes, stories and KPIs: renaming one breaks what ops filter on.
    assert (policy.REASON_BLOCKED, policy.REASON_AFTER_HOURS, policy.REASON_MEDIA_FULL,
            policy.REASON_MEDIA_UNAVAILABLE, policy.REASON_MAX_CALLS) == (
        "blocked_caller", "after_hours", "media_host_full", "media_host_unavailable", "max_concurrent_calls")


@pytest.mark.parametrize(("raw_id", "blocked"), [
    ("4:+14255550100", True),
    ("4:14255550100", False),   # not an E.164 raw id: no number is read from it
    ("8:acs:+14255550100", False),
    ("4:+142555501000", False),  # one digit more is another number
    ("8:+14255550100", False),  # not a phone number's raw id, whatever follows the prefix
])
def test_the_caller_number_comes_from_a_phone_raw_id_only(raw_id: str, blocked: bool) -> None:
    settings = _settings(blocked_callers=frozenset({"+14255550100"}))
    expected = Reject(FORBIDDEN, REASON_BLOCKED) if blocked else Answer()
    assert decide(_call(raw_id, None), settings, NOW, MediaCapacity(0, 10)) == expected


def test_the_phone_number_wins_over_the_raw_id() -> None:
    settings = _settings(blocked_callers=frozenset({"+14255550100"}))
    assert decide(_call("4:+14255550101", "+14255550100"), settings, NOW, MediaCapacity(0, 10)) == \
        Reject(FORBIDDEN, REASON_BLOCKED)
    assert decide(_call("4:+14255550100", "+14255550101"), settings, NOW, MediaCapacity(0, 10)) == Answer()


@pytest.mark.parametrize(("limit", "max_calls", "calls", "expected"), [
    (10, 5, 4, Answer()),
    (10, 5, 5, Reject(BUSY, REASON_MAX_CALLS)),
    (5, 10, 5, Reject(BUSY, REASON_MEDIA_FULL)),   # the host's own limit is named first
    (5, 5, 5, Reject(BUSY, REASON_MEDIA_FULL)),
    (5, 5, 4, Answer()),
    (None, None, 10**6, Answer()),
    (0, None, 0, Reject(BUSY, REASON_MEDIA_FULL)),
])
def test_capacity_edges(limit: int | None, max_calls: int | None, calls: int, expected: object) -> None:
    settings = _settings(max_concurrent_calls=max_calls)
    assert decide(_call(), settings, NOW, MediaCapacity(calls, limit)) == expected


def test_overflow_keeps_the_reason_it_was_sent_for() -> None:
    settings = _settings(overflow_target="+14255550199")
    assert decide(_call(), settings, NOW, MediaCapacity(10, 10)) == Redirect("+14255550199", REASON_MEDIA_FULL)
    assert decide(_call(), settings, NOW, MediaCapacity(9, 10)) == Answer()
