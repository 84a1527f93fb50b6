"""The answer policy's settings (pure, validated): who is refused and where calls go when there is no room.

- `CALL_BLOCKED_CALLERS`: comma-separated E.164 numbers; their calls are rejected with `forbidden`.
- `MAX_CONCURRENT_CALLS`: a limit on live calls, counted by the media host (so it needs
  `MEDIA_HOST_HEALTH_URL`); unset means only the media host's own limit applies.
- `CALL_OVERFLOW_TARGET`: E.164 number or ACS user id a call is redirected to when there is no room;
  unset means such calls are rejected with `busy`.
- `MEDIA_HOST_HEALTH_URL`: the media host's `/healthz` (http or https), asked before each answer.
- `CALL_BUSINESS_HOURS` with `CALL_TIMEZONE` (IANA): the weekly opening hours (shared/business_hours.py);
  outside them a call is rejected, redirected to `CALL_AFTER_HOURS_TARGET`, or answered with a message and hung
  up, as `CALL_AFTER_HOURS_ACTION` says (shared/after_hours_settings.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.after_hours_settings import NAMES as AFTER_HOURS_NAMES
from shared.after_hours_settings import AfterHours, load_after_hours
from shared.business_hours import BusinessHours, ScheduleError, parse_schedule
from shared.call_actions import ACS_USER_ID, E164
from shared.settings import SettingsError

BLOCKED_CALLERS = "CALL_BLOCKED_CALLERS"
MAX_CONCURRENT_CALLS = "MAX_CONCURRENT_CALLS"
OVERFLOW_TARGET = "CALL_OVERFLOW_TARGET"
MEDIA_HOST_HEALTH_URL = "MEDIA_HOST_HEALTH_URL"
BUSINESS_HOURS = "CALL_BUSINESS_HOURS"
TIMEZONE = "CALL_TIMEZONE"
AFTER_HOURS_TARGET = "CALL_AFTER_HOURS_TARGET"
_MAX_CALLS_CEILING = 100_000


@dataclass(frozen=True)
class AnswerPolicySettings:
    blocked_callers: frozenset[str] = frozenset()
    max_concurrent_calls: int | None = None
    overflow_target: str | None = None
    media_host_health_url: str | None = None
    business_hours: BusinessHours | None = None  # None: always open
    after_hours: AfterHours = AfterHours()


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def _blocked(environ: Mapping[str, str]) -> frozenset[str]:
    raw = _optional(environ, BLOCKED_CALLERS)
    if raw is None:
        return frozenset()
    numbers = [part.strip() for part in raw.split(",") if part.strip()]
    for number in numbers:
        if E164.fullmatch(number) is None:
            # The value itself is not echoed: it is a phone number.
            raise SettingsError(f"{BLOCKED_CALLERS} holds an entry that is not an E.164 number; for example "
                                f"{BLOCKED_CALLERS}=+14255550123,+442071234567")
    return frozenset(numbers)


def _max_calls(environ: Mapping[str, str]) -> int | None:
    raw = _optional(environ, MAX_CONCURRENT_CALLS)
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= _MAX_CALLS_CEILING:
        raise SettingsError(f"{MAX_CONCURRENT_CALLS} must be an integer from 1 to {_MAX_CALLS_CEILING}; "
                            f"for example {MAX_CONCURRENT_CALLS}=20")
    return int(raw)


def _target(environ: Mapping[str, str], name: str) -> str | None:
    raw = _optional(environ, name)
    if raw is not None and E164.fullmatch(raw) is None and ACS_USER_ID.fullmatch(raw) is None:
        raise SettingsError(f"{name} must be an E.164 number or an ACS user id; for example {name}=+14255550123")
    return raw


def _business_hours(environ: Mapping[str, str]) -> BusinessHours | None:
    raw, zone_name = _optional(environ, BUSINESS_HOURS), _optional(environ, TIMEZONE)
    if raw is None:
        if zone_name is not None or any(_optional(environ, name) is not None for name in AFTER_HOURS_NAMES):
            raise SettingsError(f"{TIMEZONE} and the CALL_AFTER_HOURS_ settings need {BUSINESS_HOURS}; for example "
                                f"{BUSINESS_HOURS}=mon-fri 09:00-17:00")
        return None
    try:
        ranges = parse_schedule(raw)
    except ScheduleError as error:
        raise SettingsError(f"{BUSINESS_HOURS}: {error}; for example "
                            f"{BUSINESS_HOURS}=mon-fri 09:00-17:30; sat 10:00-14:00") from None
    if zone_name is None:
        raise SettingsError(f"{BUSINESS_HOURS} needs {TIMEZONE}; for example {TIMEZONE}=Europe/Berlin")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{TIMEZONE} must be an IANA time zone; for example {TIMEZONE}=Europe/Berlin") from None
    return BusinessHours(ranges, zone)


def _health_url(environ: Mapping[str, str]) -> str | None:
    raw = _optional(environ, MEDIA_HOST_HEALTH_URL)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise SettingsError(f"{MEDIA_HOST_HEALTH_URL} must be an http or https URL; for example "
                            f"{MEDIA_HOST_HEALTH_URL}=https://media.contoso.com/healthz")
    return raw


def load_answer_policy_settings(environ: Mapping[str, str]) -> AnswerPolicySettings:
    """Validate the answer policy's settings. Raises `SettingsError` naming the first bad variable."""
    settings = AnswerPolicySettings(
        blocked_callers=_blocked(environ),
        max_concurrent_calls=_max_calls(environ),
        overflow_target=_target(environ, OVERFLOW_TARGET),
        media_host_health_url=_health_url(environ),
        business_hours=_business_hours(environ),
        after_hours=load_after_hours(environ, _target(environ, AFTER_HOURS_TARGET)),
    )
    if settings.max_concurrent_calls is not None and settings.media_host_health_url is None:
        # The live call count comes from the media host: a limit nothing can count against is a mistake.
        raise SettingsError(f"{MAX_CONCURRENT_CALLS} needs {MEDIA_HOST_HEALTH_URL} (the media host counts the "
                            f"live calls); for example {MEDIA_HOST_HEALTH_URL}=https://media.contoso.com/healthz")
    return settings
