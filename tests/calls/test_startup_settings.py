"""A bad setting stops the function app at start-up (`import function_app`), naming the variable: the real
import in a fresh interpreter, as the Functions worker does it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FUNCTION_APP_ENV

ROOT = Path(__file__).resolve().parents[2]
CLOSED = {"CALL_BUSINESS_HOURS": "mon 09:00-10:00", "CALL_TIMEZONE": "UTC"}


def _start(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("CALL_", "MEDIA_", "MAX_CONCURRENT"))}
    environ.update({**FUNCTION_APP_ENV, **extra})
    return subprocess.run([sys.executable, "-c", "import function_app"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def test_valid_settings_start() -> None:
    started = _start({**CLOSED, "CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_TEXT": "We are closed.",
                      "MEDIA_AUDIO_CHANNEL": "unmixed", "MEDIA_DTMF": "off"})
    assert started.returncode == 0, started.stderr


@pytest.mark.parametrize(("extra", "variable"), [
    ({**CLOSED, "CALL_AFTER_HOURS_ACTION": "voicemail"}, "CALL_AFTER_HOURS_ACTION"),  # an unknown policy action
    ({"CALL_BUSINESS_HOURS": "mon-fri 9-5", "CALL_TIMEZONE": "UTC"}, "CALL_BUSINESS_HOURS"),  # malformed schedule
    ({"MEDIA_AUDIO_CHANNEL": "stereo"}, "MEDIA_AUDIO_CHANNEL"),
    ({"MEDIA_DTMF": "maybe"}, "MEDIA_DTMF"),
])
def test_a_bad_setting_stops_start_up_naming_the_variable(extra: dict[str, str], variable: str) -> None:
    started = _start(extra)
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert last.startswith("shared.settings.SettingsError: " + variable), last
