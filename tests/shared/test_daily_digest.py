"""shared.daily_digest and shared.digest_settings: which day is due, its window, the claim, the counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.app_config import load_app_config
from shared.call_index_keys import ended_entity, started_entity
from shared.daily_digest import (
    CLAIM_STALE,
    DigestCall,
    claim_action,
    count_calls,
    day_window,
    digest_call,
    due_day,
)
from shared.digest_settings import DigestSettings, load_digest_settings
from shared.settings import SettingsError
from tests.shared.test_settings import VALID

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_previous_local_day_is_due_from_the_digest_time_on() -> None:
    # 06:59 in Berlin (05:59 UTC in winter): not yet; 07:00: the day before, in Berlin.
    assert due_day(datetime(2026, 12, 4, 5, 59, tzinfo=UTC), time(7, 0), BERLIN) is None
    assert due_day(datetime(2026, 12, 4, 6, 0, tzinfo=UTC), time(7, 0), BERLIN) == date(2026, 12, 3)
    # 23:30 UTC on the 4th is already the 5th in Berlin: the 4th is due.
    assert due_day(datetime(2026, 12, 4, 23, 30, tzinfo=UTC), time(0, 0), BERLIN) == date(2026, 12, 4)
    with pytest.raises(ValueError):
        due_day(datetime(2026, 12, 4, 6, 0), time(7, 0), BERLIN)


def test_the_window_is_the_local_day_in_utc_with_daylight_saving() -> None:
    since, to = day_window(date(2026, 3, 29), BERLIN)  # clocks go forward: a 23-hour day
    assert since == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert to == datetime(2026, 3, 29, 22, 0, tzinfo=UTC) - timedelta(microseconds=1)
    since, to = day_window(date(2026, 12, 3), UTC)
    assert (since, to + timedelta(microseconds=1)) == (datetime(2026, 12, 3, tzinfo=UTC),
                                                       datetime(2026, 12, 4, tzinfo=UTC))


def test_a_day_is_claimed_once_and_taken_over_only_when_the_claim_is_stale() -> None:
    now = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    assert claim_action(None, now) == "create"
    assert claim_action({"state": "sent", "claimedAt": "2026-12-01T00:00:00Z"}, now) == "skip"
    fresh = {"state": "sending", "claimedAt": (now - timedelta(minutes=5)).isoformat()}
    assert claim_action(fresh, now) == "skip"
    stale = {"state": "sending", "claimedAt": (now - CLAIM_STALE - timedelta(seconds=1)).isoformat()}
    assert claim_action(stale, now) == "take_over"
    assert claim_action({"state": "sending"}, now) == "take_over"  # unreadable claim: its run is gone


def _row(instance: str, outcome: str | None, reason: str | None = None, *, direction: str = "inbound",
         dropped: bool = False, caller: str = "4:+1 425 *** **00") -> dict[str, str]:
    ringing = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    row = started_entity(instance, ringing, caller, direction)
    if outcome is not None:
        row.update(ended_entity(instance, ringing, outcome, "2026-12-03T09:31:00Z", reason, dropped))
    return row


def test_calls_are_read_from_index_rows_with_numbers_masked() -> None:
    call = digest_call(_row("call-1", "rejected", "blocked_caller", caller="4:+14255550100"))
    assert call == DigestCall("call-1", datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "4:+1 425 *** **00",
                              "rejected", "blocked_caller", "inbound", False)
    assert digest_call(_row("call-2", "completed", "call to +14255550123 ended")).reason == \
        "call to +1 425 *** **23 ended"
    running = digest_call({"instanceId": "call-3"})
    assert (running.outcome, running.caller, running.direction, running.ringing_at) == \
        ("running", "unknown", "inbound", None)


def test_counts_by_outcome_direction_reason_and_dropped() -> None:
    calls = [digest_call(row) for row in (
        _row("c1", "completed"), _row("c2", "completed", dropped=True), _row("c3", "missed"),
        _row("c4", "rejected", "blocked_caller"), _row("c5", "rejected", "blocked_caller"),
        _row("c6", "rejected", "media_host_full"), _row("c7", "redirected", "after_hours"),
        _row("c8", "not_answered", "no_answer", direction="outbound"), _row("c9", "handed_off"),
        _row("c10", "after_hours_message", "after_hours"), _row("c11", None), _row("c12", "something_new"))]
    counts = count_calls(calls)
    assert counts.total == 12
    assert counts.by_outcome == (("completed", 2), ("handed_off", 1), ("missed", 1), ("rejected", 3),
                                 ("redirected", 1), ("after_hours_message", 1), ("not_answered", 1),
                                 ("running", 1), ("something_new", 1))
    assert counts.by_direction == (("inbound", 11), ("outbound", 1))
    assert counts.reasons == {"rejected": (("blocked_caller", 2), ("media_host_full", 1)),
                              "redirected": (("after_hours", 1),)}
    assert counts.dropped == 1
    assert counts.not_served == 7  # missed, 3 rejected, redirected, not answered, after-hours message


def test_digest_settings_default_off_and_validate() -> None:
    assert load_digest_settings({}) == DigestSettings((), time(7, 0))
    assert not load_digest_settings({"DIGEST_EMAIL_TO": " "}).enabled
    settings = load_digest_settings({"DIGEST_EMAIL_TO": "ops@contoso.com, lead@contoso.com", "DIGEST_TIME": "06:45"})
    assert settings == DigestSettings(("ops@contoso.com", "lead@contoso.com"), time(6, 45)) and settings.enabled
    for bad in ({"DIGEST_TIME": "7:00"}, {"DIGEST_TIME": "24:00"}, {"DIGEST_TIME": "07:60"},
                {"DIGEST_EMAIL_TO": "not-an-address"},
                {"DIGEST_EMAIL_TO": ",".join(f"a{n}@contoso.com" for n in range(51))}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            load_digest_settings(bad)
    assert load_app_config({**VALID, "DIGEST_EMAIL_TO": "ops@contoso.com"}).digest.enabled
