"""Calls on the dev host with the extension's own replay on (the default): the scenarios that drift there.

Each call must end Completed with one summary and one email, and the extension-style replay must have flagged
nothing (no NonDeterministic failure, no timer whose FireAt moved to another id). The first two failed on the
orchestrator before the single inbox (issue 17: NonDeterministic in both). Simulator and dev host faults are
injected before the call starts.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import Scenario, load_scenario
from tools.local_stack import LocalStack, local_stack

GREETING = "Welcome to Contoso."


@pytest.fixture
def stack(azurite_connection_string: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    time_scale, settings = request.param
    with local_stack(azurite_connection_string, tmp_path, time_scale=time_scale, settings=settings) as running:
        yield running


def place(stack: LocalStack, scenario: Scenario) -> tuple[str, dict[str, Any]]:
    result = asyncio.run(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                      signer=stack.signer))
    assert result.validation_ok, result.errors
    instance_id = str(stack.simulator.requests_for("answer")[0].json["operationContext"])
    return instance_id, stack.wait_for_call(instance_id, timeout=120)


def assert_one_summary_one_email_clean_replay(stack: LocalStack, instance_id: str, status: dict[str, Any]) -> None:
    flags = stack.dev_host.replay_flags(instance_id)
    assert status["runtimeStatus"] == "Completed", f"{status['runtimeStatus']}: {status.get('output')} {flags}"
    assert not flags, flags
    summaries = [event for event in status["historyEvents"]
                 if event.get("FunctionName") == "prepare_call_summary" and event["EventType"] == "TaskCompleted"]
    assert len(summaries) == 1
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(stack.eml_dir.glob("*.eml"))]
    assert len(messages) == 1
    assert status["output"]["email"]["status"] not in ("failed", "skipped")


@pytest.mark.parametrize("stack", [(0.2, {"MAX_CALL_DURATION_SECONDS": "10"})], indirect=True)
def test_hang_up_fails_once_then_caller_disconnects(stack: LocalStack) -> None:
    # azure-core retries a 503 three times inside one attempt: four 503s fail the activity's first attempt.
    stack.simulator.faults.fail_next("terminate", status=503, times=4)
    instance_id, status = place(stack, load_scenario("max_duration"))
    terminates = [r.status for r in stack.simulator.requests_for("terminate")]
    assert terminates[:4] == [503] * 4 and terminates[4:] == [204]
    assert_one_summary_one_email_clean_replay(stack, instance_id, status)
    assert status["output"]["outcome"] == "max_duration"


@pytest.mark.parametrize("stack", [(1.0, {})], indirect=True)
def test_flow_load_fails_once_with_connect_inside_the_retry_window(stack: LocalStack) -> None:
    stack.dev_host.fail_activity_next("load_call_flow")
    # CallConnected 0.1 s after the answer: well inside the 1 s retry interval at time scale 1.
    instance_id, status = place(stack, replace(load_scenario("happy_path"), connect_delay_s=0.1))
    assert_one_summary_one_email_clean_replay(stack, instance_id, status)
    assert status["output"]["outcome"] == "completed"


@pytest.fixture
def racy_stack(azurite_connection_string: str, tmp_path: Path) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path, time_scale=0.2, non_atomic_start=True) as running:
        yield running


def test_concurrent_deliveries_with_non_atomic_start_answer_once(racy_stack: LocalStack) -> None:
    stack = racy_stack
    scenario = replace(load_scenario("duplicate_incoming_call_x3"), incoming_call_deliveries=2)
    result = asyncio.run(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                      signer=stack.signer))
    assert result.validation_ok, result.errors
    assert [200 <= (status or 0) < 300 for status in result.incoming_call_statuses] == [True, True]
    # Both deliveries started the orchestration (the dev host's non-atomic mode answered 202 twice)...
    assert stack.dev_host.host.engine.dropped_starts == 1
    starts = stack.simulator.requests_for("answer")
    assert len(starts) == 1  # ...yet only the claim's winner answered
    instance_id = str(starts[0].json["operationContext"])
    status = stack.wait_for_call(instance_id, timeout=120)
    assert "AnswerFailed" not in [event.get("Name") for event in status["historyEvents"]]
    assert status["output"]["outcome"] == "completed"
    assert_one_summary_one_email_clean_replay(stack, instance_id, status)
