"""How a call restarts a lost media or transcription stream: attempts and backoff (pure).

Read once at start-up (shared/app_config.py) and carried in each call's orchestration input, so a call keeps
the bounds it started with and replay never depends on the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import EnvReader

INPUT_KEY = "mediaRecovery"


@dataclass(frozen=True)
class MediaRecoverySettings:
    # Restarts per stream per call, in all (0: never restart). Each one is a start request to ACS.
    attempts: int = 3
    # The first restart waits this long after the drop, each next one twice as long as the one before.
    backoff_seconds: int = 2

    def to_input(self) -> dict[str, int]:
        return {"attempts": self.attempts, "backoffSeconds": self.backoff_seconds}

    @staticmethod
    def from_input(data: Mapping[str, object]) -> MediaRecoverySettings:
        """From the orchestration input; anything missing or malformed takes the default (never raises)."""
        raw = data.get(INPUT_KEY)
        raw = raw if isinstance(raw, Mapping) else {}
        defaults = MediaRecoverySettings()
        attempts, backoff = _whole(raw.get("attempts")), _whole(raw.get("backoffSeconds"))
        return MediaRecoverySettings(
            attempts=attempts if attempts is not None and 0 <= attempts <= MAX_ATTEMPTS else defaults.attempts,
            backoff_seconds=backoff if backoff is not None and 1 <= backoff <= MAX_BACKOFF_SECONDS
            else defaults.backoff_seconds)


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 120


def load_media_recovery_settings(environ: Mapping[str, str]) -> MediaRecoverySettings:
    """MEDIA_RECOVERY_ATTEMPTS and MEDIA_RECOVERY_BACKOFF_SECONDS; `SettingsError` names a bad one."""
    read = EnvReader(environ)
    defaults = MediaRecoverySettings()
    return MediaRecoverySettings(
        attempts=read.integer("MEDIA_RECOVERY_ATTEMPTS", defaults.attempts, 0, MAX_ATTEMPTS),
        backoff_seconds=read.integer("MEDIA_RECOVERY_BACKOFF_SECONDS", defaults.backoff_seconds, 1,
                                     MAX_BACKOFF_SECONDS),
    )
