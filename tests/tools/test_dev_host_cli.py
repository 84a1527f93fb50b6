"""`python -m tools.dev_host` as a process: app loading, banner, key from the environment, settings file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tools.dev_host.__main__ import load_app
from tools.dev_host.host_config import parse_local_settings

ROOT = Path(__file__).resolve().parents[2]


def test_serves_the_app_named_on_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "DEV_HOST_FUNCTION_KEY": "cli-key"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.dev_host", "--app", "tests.tools.sample_durable_app:app", "--port", "0",
         "--time-scale", "0.01", "--host-json", str(tmp_path / "absent.json"),
         "--settings", str(tmp_path / "absent.settings.json")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = []
        for line in process.stdout:
            banner.append(line)
            if "activityTrigger" in line:
                break
        text = "".join(banner)
        base_url = re.search(r"on (http://127\.0\.0\.1:\d+)", text).group(1)
        assert "cli-key" not in text  # a key given by the environment is not printed
        assert f"{base_url}/api/start/{{name}} (auth: function)" in text
        with urllib.request.urlopen(f"{base_url}/api/echo/hi", timeout=10) as response:
            assert json.loads(response.read())["route_params"] == {"rest": "hi"}
        request = urllib.request.Request(f"{base_url}/api/start/timer_only", data=b"1", method="POST",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
        request.add_header("x-functions-key", "cli-key")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def test_load_app_accepts_module_and_attribute() -> None:
    from tests.tools.sample_durable_app import app

    assert load_app("tests.tools.sample_durable_app") is app
    assert load_app("tests.tools.sample_durable_app:app") is app
    with pytest.raises(SystemExit):
        load_app("tests.tools.sample_durable_app:attempts_for")


def test_local_settings_values() -> None:
    assert parse_local_settings('{"IsEncrypted": false, "Values": {"A": "1", "B": 2}}') == {"A": "1", "B": "2"}
    with pytest.raises(ValueError):
        parse_local_settings('{"Values": []}')
