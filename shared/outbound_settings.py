"""Outbound call settings (`POST /api/calls`), read from the environment and validated (pure).

- `ACS_CALLER_ID`: the number (E.164, owned by the ACS resource) or ACS user id (8:acs:...) calls are placed
  from. Optional: without it the route answers 409 `not_configured`; a malformed value stops the app at start-up.
- `OUTBOUND_CALLS_PER_MINUTE`: calls the app may place per minute, counted across every instance of the app.
- `OUTBOUND_DIAL_TIMEOUT_SECONDS`: how long a dialed call may ring before the app cancels it (`not_answered`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.call_actions import ACS_USER_ID, E164
from shared.settings import EnvReader, SettingsError

DEFAULT_CALLS_PER_MINUTE = 10
DEFAULT_DIAL_TIMEOUT_SECONDS = 45


@dataclass(frozen=True)
class OutboundSettings:
    caller_id: str | None = None
    calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE
    dial_timeout_seconds: int = DEFAULT_DIAL_TIMEOUT_SECONDS

    @property
    def caller_is_number(self) -> bool:
        return self.caller_id is not None and self.caller_id.startswith("+")


def load_outbound_settings(environ: Mapping[str, str]) -> OutboundSettings:
    read = EnvReader(environ)
    caller_id = read.optional("ACS_CALLER_ID")
    if caller_id is not None and E164.fullmatch(caller_id) is None and ACS_USER_ID.fullmatch(caller_id) is None:
        raise SettingsError("ACS_CALLER_ID must be an E.164 number of the ACS resource or an ACS user id; for "
                            "example ACS_CALLER_ID=+18005550100")
    return OutboundSettings(
        caller_id=caller_id,
        calls_per_minute=read.integer("OUTBOUND_CALLS_PER_MINUTE", DEFAULT_CALLS_PER_MINUTE, 1, 3000),
        dial_timeout_seconds=read.integer("OUTBOUND_DIAL_TIMEOUT_SECONDS", DEFAULT_DIAL_TIMEOUT_SECONDS, 5, 300),
    )
