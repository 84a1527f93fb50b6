"""Faults injected into whole calls on one machine (simulator, dev host with function_app, media host, Azurite,
ACS JWT on), each asserting the outcome: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shared.call_inbox import decode_json_object
from shared.call_story import build_call_story
from shared.call_token import call_token
from tests.calls.test_events_http import raised_events
from tools.acs_simulator.results import ScenarioResult
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import Fault, Faults, Scenario, load_scenario
from tools.local_stack import LocalStack, local_stack
from tools.tcp_fault_proxy import TcpFaultProxy, blob_port_of, via_proxy

SPOKEN = "Hello, this is Alice. Please call me back about my order tomorrow morning."
TIME_SCALE = 0.2


@pytest.fixture
def stack(azurite_connection_string: str, tmp_path: Path) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE) as running:
        yield running


def emails_of(stack: LocalStack) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(stack.eml_dir.glob("*.eml"))]


def plain_text(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def the_instance(stack: LocalStack) -> str:
    (instance_id,) = {r.json["operationContext"] for r in stack.simulator.requests_for("answer")}
    return instance_id


def place(stack: LocalStack, scenario: Scenario, during: Any = None) -> tuple[ScenarioResult, dict[str, Any]]:
    async def go() -> ScenarioResult:
        call = run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator, signer=stack.signer)
        if during is None:
            return await call
        result, _ = await asyncio.gather(call, during())
        return result

    result = asyncio.run(go())
    assert result.validation_ok, result.errors
    status = stack.wait_for_call(the_instance(stack), timeout=120)
    assert status["runtimeStatus"] == "Completed", status
    return result, status


def test_answer_fails_with_500_then_succeeds(stack: LocalStack) -> None:
    scenario = replace(load_scenario("happy_path"), faults=Faults(answer=Fault(status=500, times=1)))
    result, status = place(stack, scenario)
    assert [r.status for r in stack.simulator.requests_for("answer")] == [500, 200]
    # azure-core retried the same request: one Repeatability-Request-ID, so ACS could not answer twice.
    assert len({r.headers.get("repeatability-request-id") for r in stack.simulator.requests_for("answer")}) == 1
    assert status["output"]["outcome"] == "completed"
    assert result.connected and len(emails_of(stack)) == 1
    assert SPOKEN in stack.transcript(the_instance(stack))


def test_email_throttled_five_times_is_sent_exactly_once(stack: LocalStack) -> None:
    scenario = replace(load_scenario("happy_path"), email_wait_s=60,
                       faults=Faults(email=Fault(status=429, times=5, retry_after_s=1)))
    started = time.monotonic()
    _, status = place(stack, scenario)
    attempts = stack.simulator.requests_for("email")
    sends = [r for r in attempts if r.method == "POST"]
    assert [r.status for r in sends][:5] == [429] * 5
    assert len(stack.simulator.emails) == 1 and len(emails_of(stack)) == 1
    # One deterministic Operation-Id across the client's retries and the activity's retry.
    assert len({r.headers.get("operation-id") for r in sends}) == 1
    assert status["output"]["email"]["status"].lower() == "succeeded"
    assert time.monotonic() - started >= 5  # Retry-After: 1 s was honoured five times


AFTER_RESTART = "This sentence comes after the media host was started again."


def test_media_host_killed_mid_call_and_started_again_recovers(azurite_connection_string: str,
                                                               tmp_path: Path) -> None:
    base = load_scenario("media_socket_dropped")
    scenario = replace(base, name="media_host_killed", faults=Faults(), hangup_at_s=22.0,  # a real kill -9
                       utterances=(base.utterances[0], replace(base.utterances[1], text=AFTER_RESTART, at_s=16.0)))
    # Backoff 3 s of Durable time (0.6 s real at this time scale), doubling: restarts 0.6, 1.8, 4.2 and 9 s
    # after the kill, whatever time the host takes to start again on a busy machine; the second sentence
    # begins about 10 s after the kill.
    settings = {"MEDIA_RECOVERY_BACKOFF_SECONDS": "3", "MEDIA_RECOVERY_ATTEMPTS": "6"}
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, media_process=True,
                     settings=settings) as stack:
        assert stack.media_process is not None
        killed = stack.media_process

        async def kill_after_first_sentence_then_restart() -> None:
            while True:  # the first sentence is in Blob once the media host flushed it
                answers = stack.simulator.requests_for("answer")
                if answers and SPOKEN in await asyncio.to_thread(stack.transcript, the_instance(stack)):
                    break
                await asyncio.sleep(0.1)
            os.kill(killed.pid, signal.SIGKILL)
            await asyncio.to_thread(killed.wait, 5)
            await asyncio.to_thread(stack.restart_media_host)

        result, status = place(stack, scenario, kill_after_first_sentence_then_restart)
        assert killed.returncode == -signal.SIGKILL
        output = status["output"]
        assert output["outcome"] == "completed"
        lines = [json.loads(line) for line in stack.transcript(the_instance(stack)).splitlines()]
        assert AFTER_RESTART in result.media.transcripts_sent, output["timeline"]
        assert [line["text"] for line in lines if line["source"] != "gap"] == [SPOKEN, AFTER_RESTART]
        assert [line["source"] for line in lines].index("gap") == 1  # the gap marker between the two
        # The simulator recorded the restarts the call asked for, with its own operationContext.
        starts = [r for r in stack.simulator.requests_for("start_media_streaming") if r.status == 202]
        assert starts and all(r.json["operationContext"].startswith("media-recovery:media:") for r in starts)
        assert any(r.status == 202 for r in stack.simulator.requests_for("start_transcription"))
        assert result.media_sockets == 2
        restarts = [event for event in status["historyEvents"]
                    if event.get("EventType") == "TaskCompleted"
                    and event.get("FunctionName") == "restart_media_stream"]
        assert restarts and any(decode_json_object(event["Result"])["status"] == "accepted" for event in restarts)
        story = build_call_story(status)
        assert "restart_media_stream" in [entry["event"] for entry in story["timeline"]]
        assert story["mediaRecovery"]["recovered"] is True
        first, second = story["mediaRecovery"]["sockets"]
        assert "lostAt" in first and second["closeCode"] == 1000 and second["socketId"]
        assert output["partial"] is False
        (message,) = emails_of(stack)
        text = plain_text(message)
        assert SPOKEN in text and AFTER_RESTART in text
        assert "recovered after" in text and "incomplete" not in text.lower()


def test_blob_unavailable_for_ten_seconds_loses_nothing(azurite_connection_string: str, tmp_path: Path) -> None:
    with TcpFaultProxy("127.0.0.1", blob_port_of(azurite_connection_string)) as proxy:
        proxied = via_proxy(azurite_connection_string, proxy.port)
        # Real-time Durable timers: the media-report wait (20 s) is compared with real storage retry delays.
        with local_stack(proxied, tmp_path, time_scale=1.0) as stack:
            async def outage_during_the_call() -> None:
                while not any(r.status == 200 for r in stack.simulator.requests_for("answer")):
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)  # connected, audio flowing: the transcript is written during the outage
                proxy.outage(10)

            scenario = replace(load_scenario("happy_path"), email_wait_s=60)
            _, status = place(stack, scenario, outage_during_the_call)
            assert proxy.refused + proxy.cut > 0, "the outage was felt"
            assert status["output"]["outcome"] == "completed"
            assert status["output"]["partial"] is False
            assert [json.loads(line)["text"] for line in stack.transcript(the_instance(stack)).splitlines()] == \
                [SPOKEN]
            (message,) = emails_of(stack)
            assert SPOKEN in plain_text(message)


def test_callback_flood_of_garbage_leaves_the_real_call_alone(stack: LocalStack) -> None:
    statuses: list[int] = []
    stop = threading.Event()

    async def flood() -> None:
        while not stack.simulator.requests_for("answer"):
            await asyncio.sleep(0.05)
        instance_id = the_instance(stack)
        token = call_token(stack.env["CALL_TOKEN_SECRET"], instance_id)
        base = f"{stack.dev_host.base_url}/api/callbacks"
        garbage: list[tuple[str, bytes, dict[str, str]]] = [
            (f"{base}/{instance_id}?token={token}", b'[{"type": "Microsoft.Communication.CallDisconnected"}]',
             {"Content-Type": "application/json"}),  # no JWT: someone who learned the URL
            (f"{base}/{instance_id}?token=wrong", b"[]", {"Content-Type": "application/json", **stack.signer("x")}),
            (f"{base}/{instance_id}?token={token}", b"\x00\xff{{{", {"Content-Type": "application/json",
                                                                   **stack.signer("x")}),
            (f"{base}/{instance_id}?token={token}", b"[" * 100_000, {"Content-Type": "application/json",
                                                                   **stack.signer("x")}),
            (f"{base}/call-unknown?token=x", b"garbage", {"Content-Type": "text/plain"}),
        ]
        async with aiohttp.ClientSession() as session:
            number = 0
            while not stop.is_set() and number < 3000:
                url, body, headers = garbage[number % len(garbage)]
                async with session.post(url, data=body, headers=headers) as response:
                    statuses.append(response.status)
                number += 1

    async def flood_until_done() -> None:
        task = asyncio.create_task(flood())
        while not stack.simulator.requests_for("terminate") and not task.done() and len(statuses) < 3000:
            await asyncio.sleep(0.2)
            if stack.status(the_instance(stack)) and stack.status(the_instance(stack))["runtimeStatus"] != \
                    "Running":
                break
        stop.set()
        await task

    result, status = place(stack, load_scenario("happy_path"), flood_until_done)
    assert len(statuses) >= 200
    assert all(400 <= code < 500 for code in statuses), sorted(set(statuses))
    assert status["output"]["outcome"] == "completed"
    assert result.ended_by == "caller"
    assert [json.loads(line)["text"] for line in stack.transcript(the_instance(stack)).splitlines()] == [SPOKEN]
    assert len(emails_of(stack)) == 1
    raised = raised_events(status)
    assert raised.count("CallDisconnected") == 1  # the forged hang-up never reached the call
