"""A weekly schedule of opening hours in one IANA time zone, and whether a moment falls inside it (pure).

Syntax of `CALL_BUSINESS_HOURS`: `;`-separated entries `<days> <HH:MM>-<HH:MM>`, days being a day (`mon`), a
range (`mon-fri`, not wrapping past `sun`) or a comma list (`sat,sun`); the start is inside, the end is not,
`24:00` ends a day, and a range may not pass midnight (write two entries instead). Example:
`mon-fri 09:00-17:30; sat 10:00-14:00`. Local times come from the zone's rules (zoneinfo), so daylight saving
is followed; a time skipped by a spring-forward simply does not occur.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ENTRY = re.compile(r"(?P<days>[a-z,\-]+)\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})")
MINUTES_PER_DAY = 24 * 60


class ScheduleError(ValueError):
    """A schedule that does not parse; the message says which part, never the whole value."""


@dataclass(frozen=True)
class OpeningRange:
    day: int  # 0 = Monday, as datetime.weekday()
    start_minute: int  # inside
    end_minute: int  # not inside; up to 1440


@dataclass(frozen=True)
class BusinessHours:
    ranges: tuple[OpeningRange, ...]
    zone: ZoneInfo

    def is_open(self, moment: datetime) -> bool:
        """`moment` must be time-zone aware (any zone); it is read in the schedule's zone."""
        local = moment.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(r.day == local.weekday() and r.start_minute <= minute < r.end_minute for r in self.ranges)


def _minute(text: str, *, end: bool) -> int:
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        raise ScheduleError(f"{text} is not a time of day (00:00 to 23:59, or 24:00 as an end)")
    return hours * 60 + minutes


def _days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ScheduleError(f"{part!r} is not a day or a day range (days: {', '.join(DAYS)})")
        low, high = DAYS.index(first), DAYS.index(last) if last else DAYS.index(first)
        if high < low:
            raise ScheduleError(f"{part!r} runs backwards; write two entries instead")
        days.extend(range(low, high + 1))
    return days


def parse_schedule(text: str) -> tuple[OpeningRange, ...]:
    ranges: list[OpeningRange] = []
    for raw in (entry.strip().lower() for entry in text.split(";")):
        if not raw:
            continue
        match = _ENTRY.fullmatch(raw)
        if match is None:
            raise ScheduleError(f"entry {raw[:40]!r} is not '<days> HH:MM-HH:MM'")
        start, end = _minute(match["start"], end=False), _minute(match["end"], end=True)
        if end <= start:
            raise ScheduleError(f"entry {raw[:40]!r} ends before it starts; a range may not pass midnight")
        ranges.extend(OpeningRange(day, start, end) for day in _days(match["days"]))
    if not ranges:
        raise ScheduleError("the schedule has no entry")
    return tuple(ranges)
