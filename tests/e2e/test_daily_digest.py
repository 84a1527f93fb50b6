"""The daily digest end to end on the simulator: calls with different outcomes through the real function app
(dev host), media host and Azurite, then the digest of that day, run as the timer would (twice at once and once
more: one email), read back as the simulator's .eml."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from azure.core.exceptions import HttpResponseError

from calls.digest_timer import DigestRun, digest_operation_id, run_digest
from tests.e2e.test_answer_policy import CALLER, _instance_of
from tests.e2e.test_observability import get
from tests.e2e.test_observability import sent_emails as _emails
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.azurite import running_azurite
from tools.local_stack import LocalStack, local_stack

BLOCKED = "+14255559999"
DIGEST_TO = "digest@calls.localhost"
# Fourteen hours ahead of UTC: the digest's day is the business hours' local day, not the UTC one.
ZONE = ZoneInfo("Pacific/Kiritimati")


@pytest.fixture
def digest_stack(tmp_path: Path) -> Iterator[LocalStack]:
    # An Azurite of its own: the digest counts every call of the day in the call index, and other tests' calls
    # of today share the session's one.
    with running_azurite() as azurite, local_stack(azurite.connection_string, tmp_path, time_scale=0.2, settings={
            "CALL_BLOCKED_CALLERS": BLOCKED, "CALL_BUSINESS_HOURS": "mon-sun 00:00-24:00",
            "CALL_TIMEZONE": ZONE.key, "DIGEST_EMAIL_TO": DIGEST_TO, "DIGEST_TIME": "06:30"}) as running:
        yield running


def _call(stack: LocalStack, scenario_name: str, caller: str = CALLER) -> None:
    scenario = replace(load_scenario(scenario_name), caller=caller)
    result = asyncio.run(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                      signer=stack.signer))
    assert result.validation_ok, result.errors


def _wait_listed(stack: LocalStack, outcomes: dict[str, str]) -> None:
    """Until the call list shows each call with its outcome (the index row is merged by the summary activity)."""
    deadline = time.monotonic() + 60
    while True:
        status, _, body = get(stack, "/api/calls?limit=50")
        listed = {row["instanceId"]: row["outcome"] for row in json.loads(body)["calls"]} if status == 200 else {}
        if all(listed.get(instance) == outcome for instance, outcome in outcomes.items()):
            return
        assert time.monotonic() < deadline, (outcomes, listed)
        time.sleep(0.5)


def test_the_days_calls_in_one_digest_email(digest_stack: LocalStack) -> None:
    stack = digest_stack
    day = datetime.now(ZONE).date()
    _call(stack, "happy_path")
    _call(stack, "happy_path", caller=BLOCKED)
    _call(stack, "missed_call")
    answered = [request.json["operationContext"] for request in stack.simulator.requests_for("answer")]
    (reject,) = stack.simulator.requests_for("reject")
    rejected = _instance_of(reject.json["incomingCallContext"])
    completed, missed = answered
    for instance in (completed, rejected, missed):
        assert stack.wait_for_call(instance, timeout=90)["runtimeStatus"] == "Completed"
    _wait_listed(stack, {completed: "completed", rejected: "rejected", missed: "missed"})
    summaries = len(_emails(stack))

    # Not due before DIGEST_TIME on the next local day; then two instances at once and a rerun: one email.
    assert run_digest(datetime.combine(day + timedelta(days=1), time_of_day(6, 29), ZONE)) == DigestRun("not_due")
    due = datetime.combine(day + timedelta(days=1), time_of_day(6, 45), ZONE)
    # A send ACS refuses fails the run and gives the day back: the next run sends it.
    stack.simulator.faults.fail_next("email", status=400)
    with pytest.raises(HttpResponseError):
        run_digest(due)
    assert len(_emails(stack)) == summaries
    runs: list[DigestRun] = []
    threads = [threading.Thread(target=lambda: runs.append(run_digest(due))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(run.status for run in runs) == ["sent", "skipped"], runs
    assert run_digest(due + timedelta(hours=3)).status == "skipped"
    messages = _emails(stack)
    assert len(messages) == summaries + 1
    (digest,) = [message for message in messages if message["Subject"].startswith("Daily call digest")]
    assert digest["X-ACS-Operation-Id"] == digest_operation_id(day)
    assert digest["To"] == DIGEST_TO
    assert digest["Subject"] == f"Daily call digest {day.isoformat()}: 3 calls, 2 not answered"

    text = digest.get_body(preferencelist=("plain",)).get_content()
    html = digest.get_body(preferencelist=("html",)).get_content()
    assert "Answered (completed): 1" in text and "Missed: 1" in text and "Rejected: 1" in text
    assert "Rejected: reasons\n  blocked_caller: 1" in text and "inbound: 3" in text
    assert "Dropped (connected, then cut off): 0" in text
    base = stack.env["CALLBACK_BASE_URL"]
    for instance in (rejected, missed):
        assert f"{base}/api/calls/{instance}/view" in text
        assert f'<a href="{base}/api/calls/{instance}/view">story</a>' in html
    assert f"/api/calls/{completed}/view" not in text  # answered: counted, not listed
    assert "4:+1 425 *** **99" in text  # the blocked caller, masked
    assert BLOCKED not in digest.as_string() and CALLER not in digest.as_string()
    # The link opens the call's story (with the function key, like every ops route).
    status, _, story = get(stack, f"/api/calls/{rejected}/view")
    assert status == 200 and "rejected" in story
