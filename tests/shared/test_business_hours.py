from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.answer_policy import NO_REASON, REASON_AFTER_HOURS, Answer, Redirect, Reject, decide
from shared.answer_policy_settings import load_answer_policy_settings
from shared.business_hours import BusinessHours, OpeningRange, ScheduleError, parse_schedule
from shared.settings import SettingsError
from tests.shared.test_answer_policy import _call

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = BusinessHours(parse_schedule("mon-fri 09:00-17:30; sat 10:00-14:00"), BERLIN)


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


@pytest.mark.parametrize(("moment", "open_"), [
    (berlin(2026, 12, 4, 8, 59, 59), False),   # Friday, a second before opening
    (berlin(2026, 12, 4, 9, 0), True),         # the start is inside
    (berlin(2026, 12, 4, 17, 29, 59), True),
    (berlin(2026, 12, 4, 17, 30), False),      # the end is not
    (berlin(2026, 12, 5, 10, 0), True),        # Saturday
    (berlin(2026, 12, 5, 14, 0), False),
    (berlin(2026, 12, 6, 12, 0), False),       # Sunday: no entry
])
def test_edges_in_local_time(moment: datetime, open_: bool) -> None:
    assert HOURS.is_open(moment) is open_
    assert HOURS.is_open(moment.astimezone(UTC)) is open_  # the same instant given in UTC


def test_daylight_saving_is_followed() -> None:
    # 09:00 in Berlin is 08:00 UTC in winter (CET) and 07:00 UTC in summer (CEST).
    assert HOURS.is_open(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    assert not HOURS.is_open(datetime(2026, 1, 5, 7, 59, tzinfo=UTC))
    assert HOURS.is_open(datetime(2026, 7, 6, 7, 0, tzinfo=UTC))
    assert not HOURS.is_open(datetime(2026, 7, 6, 6, 59, tzinfo=UTC))


def test_syntax() -> None:
    assert parse_schedule("sat,sun 00:00-24:00") == (OpeningRange(5, 0, 1440), OpeningRange(6, 0, 1440))
    assert parse_schedule(" MON 08:00-12:00 ;; mon 13:00-17:00 ") == (OpeningRange(0, 480, 720),
                                                                     OpeningRange(0, 780, 1020))


@pytest.mark.parametrize("text", ["", ";", "mon", "mon 9:00-17:00", "mon 09:00-09:00", "mon 22:00-06:00",
                                  "fri-mon 09:00-17:00", "monday 09:00-17:00", "mon 24:00-24:00",
                                  "mon 09:60-17:00", "mon 09:00-24:01", "mon 09:00-17:00 extra"])
def test_malformed_schedules(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(text)


def _settings(**extra: str):  # type: ignore[no-untyped-def]
    return load_answer_policy_settings({"CALL_BUSINESS_HOURS": "mon-fri 09:00-17:30", "CALL_TIMEZONE": "Europe/Berlin",
                                        **extra})


def test_outside_hours_a_call_is_rejected_or_redirected() -> None:
    closed, opened = berlin(2026, 12, 4, 17, 30), berlin(2026, 12, 4, 17, 29)
    assert decide(_call(), _settings(), opened, None) == Answer()
    assert decide(_call(), _settings(), closed, None) == Reject(NO_REASON, REASON_AFTER_HOURS)
    redirecting = _settings(CALL_AFTER_HOURS_TARGET="8:acs:night_desk")
    assert decide(_call(), redirecting, closed, None) == Redirect("8:acs:night_desk", REASON_AFTER_HOURS)
    assert decide(_call(), redirecting, closed + timedelta(hours=16), None) == Redirect(
        "8:acs:night_desk", REASON_AFTER_HOURS)  # 09:30 on Saturday
    assert decide(_call(), redirecting, closed + timedelta(days=3, hours=-8, minutes=-30), None) == Answer()


def test_a_blocked_caller_is_forbidden_even_after_hours() -> None:
    settings = _settings(CALL_BLOCKED_CALLERS="+14255550100")
    assert decide(_call(), settings, berlin(2026, 12, 6, 3), None).reject_reason == "forbidden"  # type: ignore[union-attr]


@pytest.mark.parametrize(("environ", "variable"), [
    ({"CALL_BUSINESS_HOURS": "weekdays 9-5", "CALL_TIMEZONE": "Europe/Berlin"}, "CALL_BUSINESS_HOURS"),
    ({"CALL_BUSINESS_HOURS": "mon-fri 09:00-17:00"}, "CALL_TIMEZONE"),
    ({"CALL_BUSINESS_HOURS": "mon-fri 09:00-17:00", "CALL_TIMEZONE": "Mars/Olympus"}, "CALL_TIMEZONE"),
    ({"CALL_BUSINESS_HOURS": "mon-fri 09:00-17:00", "CALL_TIMEZONE": "../etc/passwd"}, "CALL_TIMEZONE"),
    ({"CALL_TIMEZONE": "Europe/Berlin"}, "CALL_BUSINESS_HOURS"),
    ({"CALL_BUSINESS_HOURS": "mon 09:00-17:00", "CALL_TIMEZONE": "UTC", "CALL_AFTER_HOURS_TARGET": "desk"},
     "CALL_AFTER_HOURS_TARGET"),
])
def test_malformed_settings_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_answer_policy_settings(environ)


def test_day_names_and_minutes_are_pinned() -> None:
    assert parse_schedule("mon-sun 00:01-23:59") == tuple(OpeningRange(day, 1, 1439) for day in range(7))
    assert parse_schedule("tue-thu,sat 09:59-10:00") == (OpeningRange(1, 599, 600), OpeningRange(2, 599, 600),
                                                         OpeningRange(3, 599, 600), OpeningRange(5, 599, 600))
    assert parse_schedule("fri-fri 00:00-24:00") == (OpeningRange(4, 0, 1440),)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the schedule has no entry"),
    (" ; ;", "the schedule has no entry"),
    ("mon 9:00-17:00", "entry 'mon 9:00-17:00' is not '<days> HH:MM-HH:MM'"),
    ("mon 09:00-17:00 and then some more words, and more", "entry 'mon 09:00-17:00 and then some more words' "
                                                           "is not '<days> HH:MM-HH:MM'"),  # 40 characters
    ("mon 09:00-09:00", "entry 'mon 09:00-09:00' ends before it starts; a range may not pass midnight"),
    ("mon 09:01-09:00", "entry 'mon 09:01-09:00' ends before it starts; a range may not pass midnight"),
    ("mon,tue,wed,thu,fri,sat,sun 22:00-06:00", "entry 'mon,tue,wed,thu,fri,sat,sun 22:00-06:00' ends before it "
                                                "starts; a range may not pass midnight"),  # 39 characters
    ("mon,tue,wed,thu,fri,sat,sun,mon 22:00-06:00", "entry 'mon,tue,wed,thu,fri,sat,sun,mon 22:00-06' ends before "
                                                    "it starts; a range may not pass midnight"),  # clipped at 40
    ("mon 24:00-24:00", "24:00 is not a time of day (00:00 to 23:59, or 24:00 as an end)"),
    ("mon 25:00-26:00", "25:00 is not a time of day (00:00 to 23:59, or 24:00 as an end)"),
    ("mon 09:00-24:01", "24:01 is not a time of day (00:00 to 23:59, or 24:00 as an end)"),
    ("mon 09:60-17:00", "09:60 is not a time of day (00:00 to 23:59, or 24:00 as an end)"),
    ("mon 09:00-25:00", "25:00 is not a time of day (00:00 to 23:59, or 24:00 as an end)"),
    ("fri-mon 09:00-17:00", "'fri-mon' runs backwards; write two entries instead"),
    ("mon,sun-sat 09:00-17:00", "'sun-sat' runs backwards; write two entries instead"),
    ("mon-xyz 09:00-17:00", "'mon-xyz' is not a day or a day range (days: mon, tue, wed, thu, fri, sat, sun)"),
    ("xyz 09:00-17:00", "'xyz' is not a day or a day range (days: mon, tue, wed, thu, fri, sat, sun)"),
])
def test_malformed_schedules_say_which_part(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(("moment", "open_"), [
    (berlin(2026, 12, 7, 0, 0), True),     # Monday 00:00: a day's first minute
    (berlin(2026, 12, 6, 23, 59, 59), True),  # Sunday's last second, inside 24:00
    (berlin(2026, 12, 8, 0, 0), False),    # Tuesday: no entry
    (berlin(2026, 12, 7, 12, 0), False),   # Monday noon: closed between the entries
    (berlin(2026, 12, 7, 11, 59), True),
])
def test_whole_days_and_gaps(moment: datetime, open_: bool) -> None:
    hours = BusinessHours(parse_schedule("mon 00:00-12:00; sun 18:00-24:00; mon 13:00-14:00"), BERLIN)
    assert hours.is_open(moment) is open_
