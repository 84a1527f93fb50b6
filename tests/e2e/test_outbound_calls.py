"""Outbound calls end to end on the simulator: the real function app (dev host), the real media host and
Azurite. `POST /api/calls` dials through ACS createCall; the simulator rings the target and answers (transcript
and summary email), declines (CreateCallFailed) or never answers (the app's dial timeout hangs up). Each run
asserts the createCall request, the Durable history, the story, the call list and the .eml, and that the
number dialed is nowhere in clear."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_observability import call_story_json as _story
from tests.e2e.test_observability import get
from tests.e2e.test_observability import sent_emails as _emails
from tests.e2e.test_pii_logs import Capture, capture, raw_number_pattern
from tools.acs_simulator.outbound_engine import run_outbound_scenario
from tools.acs_simulator.results import ScenarioResult
from tools.acs_simulator.scenario import load_scenario
from tools.local_stack import LocalStack, local_stack

CALLER_ID = "+18005550199"  # the bundled outbound scenarios' caller: the app's own number
CALLEE = "+14255550100"  # the party dialed
SENTENCE = "Please call me back about my order tomorrow morning."
TIME_SCALE = 0.2
DIAL_TIMEOUT = 20  # 4 s of real time at TIME_SCALE
__all__ = ["capture"]  # the log capture fixture of the PII test


@pytest.fixture
def stack(azurite_connection_string: str, tmp_path: Path) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings={
            "ACS_CALLER_ID": CALLER_ID, "OUTBOUND_DIAL_TIMEOUT_SECONDS": str(DIAL_TIMEOUT),
            "OUTBOUND_CALLS_PER_MINUTE": "3000"}) as running:
        yield running


def _post(stack: LocalStack, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{stack.dev_host.base_url}/api/calls?code={stack.dev_host.function_key}", data=json.dumps(body).encode(),
        method="POST", headers={"Content-Type": "application/json", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _call(stack: LocalStack, scenario: str, body: dict[str, Any], key: str
          ) -> tuple[ScenarioResult, str, dict[str, Any]]:
    async def place() -> tuple[int, dict[str, Any]]:
        return await asyncio.get_running_loop().run_in_executor(None, _post, stack, body, key)

    result, placed = asyncio.run(run_outbound_scenario(load_scenario(scenario), place=place,
                                                       simulator=stack.simulator, signer=stack.signer))
    status, accepted = placed  # type: ignore[misc]
    assert status == 202, accepted
    instance_id = accepted["instanceId"]
    final = stack.wait_for_call(instance_id, timeout=90)
    assert final["runtimeStatus"] == "Completed", final
    assert not stack.dev_host.replay_flags(instance_id)
    return result, instance_id, final


def _inbox_kinds(final: dict[str, Any]) -> list[object]:
    kinds = []
    for event in final["historyEvents"]:
        if event["EventType"] == "EventRaised":
            payload = json.loads(event["Input"])
            payload = json.loads(payload) if isinstance(payload, str) else payload  # JSON text (#295)
            kinds.append(payload.get("type"))
    return kinds


def _activities(final: dict[str, Any]) -> list[str]:
    return [event["FunctionName"] for event in final["historyEvents"]
            if event["EventType"] == "TaskCompleted" and event.get("FunctionName")]


def _listed(stack: LocalStack, instance_id: str, outcome: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:  # the index row is written apart from the instance
        status, _, body = get(stack, f"/api/calls?outcome={outcome}")
        rows = {row["instanceId"]: row for row in json.loads(body)["calls"]} if status == 200 else {}
        if instance_id in rows or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert instance_id in rows, body
    return rows[instance_id]


def _assert_create_call(stack: LocalStack, instance_id: str) -> dict[str, Any]:
    (create,) = stack.simulator.requests_for("create_call")
    assert create.status == 201
    body = create.json
    assert body["targets"] == [{"rawId": f"4:{CALLEE}", "phoneNumber": {"value": CALLEE}}]
    assert body["sourceCallerIdNumber"] == {"value": CALLER_ID}
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/api/callbacks/{instance_id}\?token=[\w-]+", body["callbackUri"])
    assert body["operationContext"] == instance_id
    media = body["mediaStreamingOptions"]
    assert media["transportUrl"].split("?")[0].startswith(f"ws://127.0.0.1:{stack.env['MEDIA_HOST_PORT']}/ws/"
                                                          f"{instance_id}/")
    assert media["startMediaStreaming"] is True and media["enableBidirectional"] is True
    assert body["transcriptionOptions"]["transportUrl"].split("?")[0].endswith("/transcription")
    assert body["callIntelligenceOptions"]["cognitiveServicesEndpoint"].startswith("https://")
    assert create.headers["repeatability-request-id"] and create.headers["repeatability-first-sent"]
    return body


def _assert_masked(final: dict[str, Any], story: dict[str, Any]) -> None:
    for document in (final, story):
        assert CALLEE not in json.dumps(document) and CALLEE[1:] not in json.dumps(document)


def test_an_answered_outbound_call_streams_transcribes_and_emails(stack: LocalStack, capture: Capture) -> None:
    body = {"to": CALLEE, "greetingText": "Hello, this is Contoso about your order."}
    result, instance_id, final = _call(stack, "outbound_answered", body, "order-4711")
    assert result.connected and result.ended_by == "caller" and result.media.frames_sent > 0
    _assert_create_call(stack, instance_id)
    output = final["output"]
    assert output["outcome"] == "completed" and output["connectedAt"]
    assert _activities(final).count("place_outbound_call") == 1 and "load_call_flow" in _activities(final)
    assert {"CallConnected", "CallDisconnected", "PlayCompleted"} <= set(_inbox_kinds(final))
    (play,) = [r for r in stack.simulator.requests_for("play") if r.status == 202]
    assert play.json["playSources"][0]["text"]["text"] == body["greetingText"]
    assert SENTENCE in stack.transcript(instance_id)
    (message,) = _emails(stack)
    assert message["Subject"].startswith("Outbound call completed: +1 425 *** **00")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert SENTENCE in text and CALLEE not in message.as_string()
    story = _story(stack, instance_id)
    assert story["direction"] == "outbound" and story["outcome"] == "completed"
    assert story["timeline"][0]["event"] == "dialing"
    _assert_masked(final, story)
    assert _listed(stack, instance_id, "completed")["direction"] == "outbound"
    # A retry of the request: the same call, nothing placed again; the key with another body is refused.
    assert _post(stack, body, "order-4711") == (202, {"instanceId": instance_id,
                                                     "statusUrl": f"{stack.env['CALLBACK_BASE_URL']}/api/calls/"
                                                                  f"{instance_id}"})
    assert _post(stack, {"to": CALLEE}, "order-4711")[0] == 422
    assert len(stack.simulator.requests_for("create_call")) == 1
    assert any(line.startswith("calls.outbound_calls_http") for line in capture.lines)
    leaks = [line for line in capture.lines if raw_number_pattern(CALLEE).search(line)]
    assert leaks == [], leaks[:3]


def test_a_declined_outbound_call_ends_not_answered_with_acs_result(stack: LocalStack) -> None:
    result, instance_id, final = _call(stack, "outbound_declined", {"to": CALLEE}, "declined-1")
    assert result.ended_by == "create_call_failed" and not result.connected
    assert "CreateCallFailed" in result.callback_types()
    _assert_create_call(stack, instance_id)
    output = final["output"]
    assert output["outcome"] == "not_answered" and output["connectedAt"] is None
    assert output["endReason"].startswith("code 603, subCode 0")
    assert "CreateCallFailed" in _inbox_kinds(final) and "hang_up_call" not in _activities(final)
    assert stack.simulator.requests_for("terminate") == []
    (message,) = _emails(stack)
    assert message["Subject"].startswith("Outbound call not answered")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Transcript" not in text and "declined" in text
    story = _story(stack, instance_id)
    assert story["outcome"] == "not_answered" and story["direction"] == "outbound"
    assert "CreateCallFailed" in json.dumps(story["timeline"])
    _assert_masked(final, story)
    _listed(stack, instance_id, "not_answered")


def test_an_unanswered_outbound_call_is_cancelled_at_the_dial_timeout(stack: LocalStack) -> None:
    result, instance_id, final = _call(stack, "outbound_no_answer", {"to": CALLEE}, "nobody-home")
    assert result.ended_by == "app" and not result.connected
    body = _assert_create_call(stack, instance_id)
    (terminate,) = stack.simulator.requests_for("terminate")
    assert terminate.status == 204 and body["operationContext"] == instance_id
    output = final["output"]
    assert output["outcome"] == "not_answered" and output["endReason"] == "not connected in time"
    assert "hang_up_call" in _activities(final)
    (message,) = _emails(stack)
    assert message["Subject"].startswith("Outbound call not answered")
    story = _story(stack, instance_id)
    assert story["outcome"] == "not_answered"
    _assert_masked(final, story)
