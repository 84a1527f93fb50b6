"""The daily digest's settings (pure, validated): who gets it and at what local time.

- `DIGEST_EMAIL_TO`: comma-separated addresses; unset or empty turns the digest off.
- `DIGEST_TIME`: `HH:MM`, the local time from which the previous day's digest is due, in the time zone of the
  business hours (`CALL_TIMEZONE`, shared/answer_policy_settings.py), or UTC when no business hours are set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from shared.settings import EnvReader, SettingsError

DIGEST_EMAIL_TO = "DIGEST_EMAIL_TO"
DIGEST_TIME = "DIGEST_TIME"
# ACS Email takes at most 50 recipients per message (the same bound as SUMMARY_RECIPIENTS).
MAX_RECIPIENTS = 50
_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class DigestSettings:
    recipients: tuple[str, ...] = ()
    send_at: time = time(7, 0)

    @property
    def enabled(self) -> bool:
        return bool(self.recipients)


def load_digest_settings(environ: Mapping[str, str]) -> DigestSettings:
    """Validate the digest's settings. Raises `SettingsError` naming the first bad variable."""
    read = EnvReader(environ)
    raw_time = read.optional(DIGEST_TIME)
    match = _HH_MM.fullmatch(raw_time) if raw_time is not None else None
    if raw_time is not None and match is None:
        raise SettingsError(f"{DIGEST_TIME} must be a time of day as HH:MM (00:00 to 23:59); for example "
                            f"{DIGEST_TIME}=07:30")
    send_at = time(int(match.group(1)), int(match.group(2))) if match is not None else DigestSettings.send_at
    raw_to = read.optional(DIGEST_EMAIL_TO)
    if raw_to is None:
        return DigestSettings((), send_at)
    recipients = tuple(part.strip() for part in raw_to.split(",") if part.strip())
    if len(recipients) > MAX_RECIPIENTS:
        raise SettingsError(f"{DIGEST_EMAIL_TO} lists more than ACS Email's {MAX_RECIPIENTS} recipients per message")
    for address in recipients:
        read.email(DIGEST_EMAIL_TO, address, "ops@contoso.com")
    return DigestSettings(recipients, send_at)
