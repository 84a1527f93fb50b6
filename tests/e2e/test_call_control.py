"""Call control end to end: the configured flow, the control API and the media host's silence reports, with the
real function app (dev host), media host, simulator and Azurite. Each asserts the .eml, the timeline and what
the simulator recorded of the app's Call Automation requests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from media_host.call_actions_client import CallActionsClient
from shared.call_token import call_token
from shared.caller_silence import SilenceReport
from tests.e2e.test_call_scenarios import CALLER, PlacedCall, assert_no_raw_number
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.local_stack import LocalStack, local_stack

TIME_SCALE = 0.2  # the 30 s hang-up wait takes 6 s, the 20 s media-report wait 4 s
AGENT = "+14255550123"
GREETING = "Welcome to Contoso."
FALLBACK = "Sorry, no agent is free. Please leave a message."
MENU = {"CALL_GREETING_TEXT": GREETING, "CALL_MENU_PROMPT_TEXT": "Press 0 to speak to an agent.",
        "CALL_MENU_OPTIONS": "0:transfer", "CALL_TRANSFER_TARGET": AGENT, "CALL_TRANSFER_FALLBACK_TEXT": FALLBACK}
During = Callable[[LocalStack], Awaitable[None]]


@pytest.fixture
def stack(azurite_connection_string: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings=request.param) as running:
        yield running


def _signer(stack: LocalStack) -> dict[str, Any]:
    # ACS's bearer JWT on callbacks, when this version of the stack requires one.
    signer = getattr(stack, "signer", None)
    return {"signer": signer} if signer is not None else {}


async def _instance_id(stack: LocalStack) -> str:
    for _ in range(200):
        answers = stack.simulator.requests_for("answer")
        if answers and isinstance(answers[0].json, dict):
            return str(answers[0].json["operationContext"])
        await asyncio.sleep(0.05)
    raise AssertionError("the call was never answered")


async def _until_flow(stack: LocalStack, instance_id: str, phase: str, after: int = 0) -> dict[str, Any]:
    """Wait until the call's flow is in `phase` with more than `after` actions requested in the history."""
    for _ in range(400):
        status = await asyncio.to_thread(stack.status, instance_id) or {}
        custom = status.get("customStatus") or {}
        sent = sum(1 for event in status.get("historyEvents", []) if event.get("FunctionName") == "run_call_action"
                   and event.get("EventType") == "TaskCompleted")
        if custom.get("stage") == "connected" and custom.get("flow") == phase and sent >= after:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the flow never reached {phase}")


def place_call(stack: LocalStack, scenario_name: str, during: During | None = None) -> PlacedCall:
    async def run() -> Any:
        call = asyncio.create_task(run_scenario(load_scenario(scenario_name), events_url=stack.events_url,
                                                simulator=stack.simulator, **_signer(stack)))
        if during is not None:
            await during(stack)
        return await call

    result = asyncio.run(run())
    assert result.validation_ok and not result.errors, result.errors
    instance_id = str(stack.simulator.requests_for("answer")[0].json["operationContext"])
    status = stack.wait_for_call(instance_id, timeout=90)
    assert status["runtimeStatus"] == "Completed", status
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(stack.eml_dir.glob("*.eml"))]
    return PlacedCall(result, instance_id, status, messages, stack.transcript(instance_id))


def timeline(call: PlacedCall) -> list[tuple[str, str]]:
    return [(entry["event"], entry["detail"] or "") for entry in call.output["timeline"]]


def requested(call: PlacedCall) -> list[str]:
    return [detail for event, detail in timeline(call) if event == "action_requested"]


def operation_context_of(call: PlacedCall, kind: str) -> list[str]:
    return [str(op.body.get("operationContext")) for op in call.result.operations if op.kind == kind]


def assert_correlated(call: PlacedCall, kind: str) -> None:
    """Every request of `kind` carried the id its timeline entry names (first 8 characters shown)."""
    contexts = operation_context_of(call, kind)
    shown = [detail.rsplit(" ", 1)[-1] for detail in requested(call) if detail.startswith(kind)]
    assert contexts and [context[:8] for context in contexts] == shown


@pytest.mark.parametrize("stack", [{"CALL_GREETING_TEXT": GREETING}], indirect=True)
def test_greeting_played(stack: LocalStack) -> None:
    call = place_call(stack, "greeting_played")
    (play,) = stack.simulator.requests_for("play")
    assert play.status == 202 and GREETING in json.dumps(play.json)
    assert_correlated(call, "play")
    events = [event for event, _ in timeline(call)]
    assert events.index("CallConnected") < events.index("action_requested") < events.index("PlayCompleted")
    assert call.output["outcome"] == "completed" and len(call.emails) == 1
    assert "PlayCompleted" in call.plain_text() and "play (greeting)" in call.plain_text()
    assert_no_raw_number(call)


@pytest.mark.parametrize("stack", [MENU], indirect=True)
def test_dtmf_0_transfers_to_the_agent(stack: LocalStack) -> None:
    call = place_call(stack, "dtmf_menu_transfer")
    (recognize,) = stack.simulator.requests_for("recognize")
    assert recognize.json["recognizeOptions"]["dtmfOptions"]["maxTonesToCollect"] == 1
    assert recognize.json["recognizeOptions"]["targetParticipant"]["rawId"] == f"4:{CALLER}"
    (transfer,) = stack.simulator.requests_for("transfer")
    assert transfer.json["targetParticipant"]["phoneNumber"]["value"] == AGENT
    for kind in ("play", "recognize", "transfer"):
        assert_correlated(call, kind)
    assert call.result.ended_by == "transfer"
    assert ("menu_choice", "0: transfer") in timeline(call)
    assert call.output["outcome"] == "transferred" and stack.simulator.requests_for("terminate") == []
    assert "Call transferred" in call.emails[0]["Subject"]
    assert "CallTransferAccepted" in call.plain_text()
    assert AGENT not in call.plain_text() and AGENT not in json.dumps(call.status)
    assert_no_raw_number(call)


@pytest.mark.parametrize("stack", [MENU], indirect=True)
def test_transfer_failed_then_the_fallback_is_spoken(stack: LocalStack) -> None:
    call = place_call(stack, "transfer_failed_fallback")
    assert len(stack.simulator.requests_for("transfer")) == 1
    plays = [json.dumps(request.json) for request in stack.simulator.requests_for("play")]
    assert len(plays) == 2 and GREETING in plays[0] and FALLBACK in plays[1]
    events = [event for event, _ in timeline(call)]
    assert events.index("CallTransferFailed") < len(events) - 1 - events[::-1].index("PlayCompleted")
    failed = next(detail for event, detail in timeline(call) if event == "CallTransferFailed")
    assert failed.startswith("code 500, subCode 9999")
    assert call.output["outcome"] == "completed" and call.result.ended_by == "caller"
    assert "CallTransferFailed - code 500, subCode 9999" in call.plain_text()


async def _two_silences(stack: LocalStack) -> None:
    instance_id = await _instance_id(stack)
    token = call_token(stack.env["CALL_TOKEN_SECRET"], instance_id)
    client = CallActionsClient(stack.dev_host.base_url)
    try:
        await _until_flow(stack, instance_id, "listening")
        assert await client.report_silence(instance_id, token, SilenceReport(5_000, 0))
        await _until_flow(stack, instance_id, "listening", after=1)  # the re-prompt was played
        assert await client.report_silence(instance_id, token, SilenceReport(10_000, 0))
        assert not await client.report_silence(instance_id, "forged-token", SilenceReport(15_000, 0))
    finally:
        await client.close()


@pytest.mark.parametrize("stack", [{"CALLER_SILENCE_SECONDS": "5"}], indirect=True)
def test_silence_reprompts_then_hangs_up_politely(stack: LocalStack) -> None:
    call = place_call(stack, "caller_waits_on_line", during=_two_silences)
    plays = [json.dumps(request.json) for request in stack.simulator.requests_for("play")]
    assert len(plays) == 2 and "Are you still there?" in plays[0] and "Goodbye." in plays[1]
    (terminate,) = stack.simulator.requests_for("terminate") + stack.simulator.requests_for("hang_up")
    assert terminate.status == 204 and call.result.ended_by == "app"
    events = [event for event, _ in timeline(call)]
    assert events.count("CallerSilence") == 2 and "silence_limit" in events
    assert events.index("silence_limit") < events.index("hang_up_requested") < events.index("CallDisconnected")
    assert call.output["endReason"] == "no caller speech"
    assert "End reason: no caller speech" in call.plain_text()


async def _hang_up_through_the_api(stack: LocalStack) -> None:
    instance_id = await _instance_id(stack)
    base = f"{stack.dev_host.base_url}/api/calls/{instance_id}/actions"
    key = {"code": stack.dev_host.function_key}
    async with aiohttp.ClientSession() as session:
        await _until_flow(stack, instance_id, "listening")
        async with session.post(base, json={"action": "hang_up"}) as response:
            assert response.status == 401  # function key required
        async with session.post(base, params=key, json={"action": "transfer", "target": "555-0100"}) as response:
            assert response.status == 400 and (await response.json())["path"] == "target"
        async with session.post(base.replace(instance_id, "call-" + "0" * 32), params=key,
                                json={"action": "hang_up"}) as response:
            assert response.status == 404
        async with session.post(base, params=key, json={"action": "hang_up"}) as response:
            assert response.status == 202
            body = await response.json()
            assert body["action"] == "hang_up" and body["actionId"]
        await asyncio.to_thread(stack.wait_for_call, instance_id, 60)
        async with session.post(base, params=key, json={"action": "hang_up"}) as response:
            assert response.status == 409


@pytest.mark.parametrize("stack", [{}], indirect=True)
def test_control_api_hang_up(stack: LocalStack) -> None:
    call = place_call(stack, "caller_waits_on_line", during=_hang_up_through_the_api)
    assert len(stack.simulator.requests_for("terminate") + stack.simulator.requests_for("hang_up")) == 1
    assert call.result.ended_by == "app"
    assert any(detail.startswith("hang_up (api)") for detail in requested(call))
    assert call.output["endReason"] == "hang-up requested (api)" and call.output["outcome"] == "completed"
    assert "hang_up_result - ok" in call.plain_text()


@pytest.mark.parametrize("stack", [{"CALL_GREETING_AUDIO_URL": "https://cdn.contoso.example/greeting.wav"}],
                         indirect=True)
def test_play_failed_shows_its_code_in_the_summary(stack: LocalStack) -> None:
    call = place_call(stack, "play_failed")
    (play,) = stack.simulator.requests_for("play")
    assert "https://cdn.contoso.example/greeting.wav" in json.dumps(play.json)
    failed = next(detail for event, detail in timeline(call) if event == "PlayFailed")
    assert failed.startswith("code 400, subCode 8536, Action failed, file could not be downloaded.")
    assert "PlayFailed - code 400, subCode 8536" in call.plain_text()
    assert "subCode 8536" in call.html()
    assert call.output["outcome"] == "completed"


@pytest.mark.parametrize("stack", [{"CALL_MENU_PROMPT_TEXT": "Press 0 to speak to an agent.",
                                    "CALL_MENU_OPTIONS": "0:transfer", "CALL_TRANSFER_TARGET": AGENT,
                                    "CALL_MENU_TIMEOUT_SECONDS": "1", "CALL_MENU_MAX_REPROMPTS": "1"}],
                         indirect=True)
def test_menu_without_input_is_reprompted_a_bounded_number_of_times(stack: LocalStack) -> None:
    call = place_call(stack, "menu_no_input")
    recognizes = stack.simulator.requests_for("recognize")
    assert len(recognizes) == 2
    assert all(r.json["recognizeOptions"]["initialSilenceTimeoutInSeconds"] == 1 for r in recognizes)
    assert_correlated(call, "recognize")
    failures = [detail for event, detail in timeline(call) if event == "RecognizeFailed"]
    assert len(failures) == 2 and all(detail.startswith("code 400, subCode 8510") for detail in failures)
    assert ("menu_gave_up", "no choice after 2 prompt(s)") in timeline(call)
    assert stack.simulator.requests_for("transfer") == [] and call.output["outcome"] == "completed"
    assert "RecognizeFailed - code 400, subCode 8510" in call.plain_text()
