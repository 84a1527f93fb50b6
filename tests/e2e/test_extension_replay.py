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
import json
import urllib.request
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


@pytest.mark.parametrize("stack", [(0.2, {"CALL_GREETING_TEXT": GREETING, "MAX_CALL_DURATION_SECONDS": "10"})],
                         indirect=True)
def test_action_result_callback_and_deadline_in_the_same_second(stack: LocalStack) -> None:
    # At time scale 0.2 the 10 s maximum duration ends 2 s after CallConnected; the greeting's PlayCompleted
    # and the caller's hang-up are timed to land within the same tenth of a second.
    scenario = replace(load_scenario("greeting_played"), play_duration_s=2.0, hangup_at_s=2.05)
    instance_id, status = place(stack, scenario)
    assert_one_summary_one_email_clean_replay(stack, instance_id, status)
    assert status["output"]["outcome"] in ("completed", "max_duration")
    kinds = [_inbox_kind(event) for event in status["historyEvents"] if event["EventType"] == "EventRaised"]
    assert "PlayCompleted" in kinds and "CallDisconnected" in kinds


def _inbox_kind(event: dict[str, Any]) -> object:
    payload = json.loads(event["Input"])
    payload = json.loads(payload) if isinstance(payload, str) else payload  # JSON text through the SDK (#295)
    return payload.get("type")


PROMPTS = 25


@pytest.mark.parametrize("stack", [(1.0, {})], indirect=True)
def test_a_long_call_with_many_prompts(stack: LocalStack) -> None:
    # 25 prompts asked through the control API while the caller stays on the line: a long history that
    # the extension's replay must go through again at every episode.
    async def run() -> str:
        # The caller stays long enough for every prompt even on a loaded machine; the prompts are spaced so
        # that each is asked while the call is connected.
        scenario = replace(load_scenario("greeting_played"), hangup_at_s=30.0, max_wait_s=60)
        call = asyncio.create_task(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                                signer=stack.signer))
        while not stack.simulator.requests_for("answer"):
            await asyncio.sleep(0.05)
        instance_id = str(stack.simulator.requests_for("answer")[0].json["operationContext"])
        await asyncio.sleep(1.0)  # connected and listening
        url = f"{stack.dev_host.base_url}/api/calls/{instance_id}/actions?code={stack.dev_host.function_key}"
        for n in range(PROMPTS):
            body = json.dumps({"action": "play", "url": f"https://cdn.contoso.com/prompt-{n}.wav"}).encode()
            request = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            response = await asyncio.to_thread(urllib.request.urlopen, request, timeout=10)
            assert response.status == 202
            await asyncio.sleep(0.2)
        result = await call
        assert result.validation_ok, result.errors
        return instance_id

    instance_id = asyncio.run(run())
    status = stack.wait_for_call(instance_id, timeout=120)
    assert_one_summary_one_email_clean_replay(stack, instance_id, status)
    plays = [r for r in stack.simulator.requests_for("play") if r.status == 202]
    assert len(plays) == PROMPTS
    completed = [event for event in status["historyEvents"]
                 if event.get("FunctionName") == "run_call_action" and event["EventType"] == "TaskCompleted"]
    assert len(completed) == PROMPTS
