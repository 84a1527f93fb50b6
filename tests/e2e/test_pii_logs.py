"""No raw phone number in any log line of a whole call: every record of this process (simulator, dev host
running function_app) at DEBUG, with its extra fields, plus the media host's own process log. The caller and
callee numbers of the scenario must appear only masked."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.json_log_format import record_extras
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.local_stack import local_stack


def raw_number_pattern(number: str) -> re.Pattern[str]:
    """The national digits of `number`, each optionally followed by one separator, as a printed number may be."""
    national = re.sub(r"\D", "", number)[1:]  # without the country code 1
    return re.compile(r"\D?".join(national))


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extras = {k: str(v) for k, v in record_extras(record).items()}
        exception = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.lines.append(f"{record.name} {record.getMessage()} {json.dumps(extras)} {exception} "
                          f"{record.stack_info or ''}")


@pytest.fixture
def capture() -> Iterator[Capture]:
    root = logging.getLogger()
    handler, level = Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_whole_call_logs_no_raw_phone_number(azurite_connection_string: str, tmp_path: Path,
                                               capture: Capture) -> None:
    scenario = load_scenario("happy_path")
    with local_stack(azurite_connection_string, tmp_path, time_scale=0.2, media_process=True) as stack:
        logging.getLogger("calls.events_http").info("canary: caller %s", scenario.caller)
        result = asyncio.run(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                          signer=stack.signer))
        (instance_id,) = {r.json["operationContext"] for r in stack.simulator.requests_for("answer")}
        status = stack.wait_for_call(instance_id, timeout=90)
        assert status["output"]["outcome"] == "completed" and len(result.emails) == 1
        assert stack.media_log is not None
    media_lines = stack.media_log.read_text(encoding="utf-8").splitlines()
    lines = capture.lines + media_lines

    # The capture saw the whole call, from both processes, and the canary went through the masking.
    assert any(line.startswith("calls.") for line in capture.lines)
    assert any(line.startswith("dev_host") for line in capture.lines)
    assert any(line.startswith("azure.core.pipeline.policies.http_logging_policy") for line in capture.lines)
    assert any('"logger": "media_host' in line for line in media_lines)
    assert any("canary: caller +1 425 *** **00" in line for line in capture.lines)
    for number in (scenario.caller, scenario.callee):
        pattern = raw_number_pattern(number)
        leaks = [line for line in lines if pattern.search(line)]
        assert leaks == [], leaks[:3]
