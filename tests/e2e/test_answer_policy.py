"""The answer policy end to end on the simulator: the real function app (dev host), the real media host and
Azurite. A refused call is never answered, is still one Durable instance with its outcome and reason, shows
in its story and the call list, and gets the short email."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.call_token import instance_id_for_call
from tests.e2e.test_observability import call_story_json as _story
from tests.e2e.test_observability import get
from tests.e2e.test_observability import sent_emails as _emails
from tools.acs_simulator.results import ScenarioResult
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.local_stack import LocalStack, local_stack

CALLER = "+14255550100"  # the bundled scenarios' caller
OVERFLOW = "+14255550199"
TIME_SCALE = 0.2


class SilentHealth:
    """A media host health route that accepts the connection and never answers (hung or overloaded)."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._server.close()
        for connection in self._held:
            connection.close()


@pytest.fixture
def silent_health() -> Iterator[SilentHealth]:
    server = SilentHealth()
    yield server
    server.close()


def _run(stack: LocalStack, scenario: str) -> ScenarioResult:
    result = asyncio.run(run_scenario(load_scenario(scenario), events_url=stack.events_url,
                                      simulator=stack.simulator, signer=stack.signer))
    assert result.validation_ok, result.errors
    return result


def _instance_of(incoming_call_context: str) -> str:
    # The simulator's context carries its serverCallId (tools/acs_simulator/identifiers.py); the app derives the
    # call's instance id from that.
    payload = incoming_call_context.split(".")[1]
    server_call_id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["cc"]
    return instance_id_for_call(server_call_id)


def _refused_instance(stack: LocalStack, outcome: str, incoming_call_context: str) -> tuple[str, dict[str, Any]]:
    instance_id = _instance_of(incoming_call_context)
    final = stack.wait_for_call(instance_id, timeout=60)
    assert final["runtimeStatus"] == "Completed", final
    deadline = time.monotonic() + 30
    while True:  # in the call list with its outcome (the index row is written apart from the instance)
        status, _, body = get(stack, f"/api/calls?outcome={outcome}")
        listed = status == 200 and instance_id in {row["instanceId"] for row in json.loads(body)["calls"]}
        if listed or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert listed, body
    return instance_id, final


def _assert_short_email(stack: LocalStack, label: str) -> None:
    (message,) = _emails(stack)
    assert message["Subject"].startswith(label)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Connected at" not in text and "Transcript" not in text
    assert CALLER not in message.as_string()


@pytest.fixture
def blocked_stack(azurite_connection_string: str, tmp_path: Path) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE,
                     settings={"CALL_BLOCKED_CALLERS": f"+442071234567,{CALLER}"}) as running:
        yield running


def test_a_blocked_caller_is_rejected_forbidden(blocked_stack: LocalStack) -> None:
    stack = blocked_stack
    result = _run(stack, "happy_path")
    assert result.ended_by == "rejected" and not result.connected
    assert stack.simulator.requests_for("answer") == []
    (reject,) = stack.simulator.requests_for("reject")
    assert reject.status == 204 and reject.json["callRejectReason"] == "forbidden"
    instance_id, final = _refused_instance(stack, "rejected", reject.json["incomingCallContext"])
    output = final["output"]
    assert output["outcome"] == "rejected" and output["endReason"] == "blocked_caller"
    assert output["connectedAt"] is None
    started = final["input"] if isinstance(final["input"], dict) else json.loads(final["input"])
    assert started["policy"] == {"action": "reject", "reason": "blocked_caller", "rejectReason": "forbidden"}
    assert [e for e in final["historyEvents"] if e["EventType"] == "EventRaised"] == []  # nothing answered
    assert {entry["event"] for entry in output["timeline"]} >= {"ringing", "rejected"}
    story = _story(stack, instance_id)
    assert story["outcome"] == "rejected"
    assert "rejected" in json.dumps(story["timeline"])
    _assert_short_email(stack, "Call rejected")
    assert CALLER not in json.dumps(final)


@pytest.fixture
def overflow_stack(azurite_connection_string: str, tmp_path: Path, silent_health: SilentHealth
                   ) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings={
            "MEDIA_HOST_HEALTH_URL": f"http://127.0.0.1:{silent_health.port}/healthz",
            "CALL_OVERFLOW_TARGET": OVERFLOW}) as running:
        yield running


def test_a_media_host_that_does_not_answer_sends_the_call_to_overflow_unanswered(overflow_stack: LocalStack) -> None:
    stack = overflow_stack
    result = _run(stack, "happy_path")
    assert result.ended_by == "redirected" and not result.connected
    assert result.media.frames_sent == 0
    assert stack.simulator.requests_for("answer") == []  # never answered: it could not be streamed
    (redirect,) = stack.simulator.requests_for("redirect")
    assert redirect.status == 204 and redirect.json["target"]["rawId"] == f"4:{OVERFLOW}"
    instance_id, final = _refused_instance(stack, "redirected", redirect.json["incomingCallContext"])
    output = final["output"]
    assert output["outcome"] == "redirected" and output["endReason"] == "media_host_unavailable"
    (redirected,) = [entry for entry in output["timeline"] if entry["event"] == "redirected"]
    assert redirected["detail"].endswith(": media_host_unavailable") and OVERFLOW not in redirected["detail"]
    assert _story(stack, instance_id)["outcome"] == "redirected"
    _assert_short_email(stack, "Call redirected")
    assert OVERFLOW not in json.dumps(final) and CALLER not in json.dumps(final)


@pytest.fixture
def after_hours_stack(azurite_connection_string: str, tmp_path: Path) -> Iterator[LocalStack]:
    # Open only on a day three days away: closed now, whatever now is.
    open_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(datetime.now(UTC).weekday() + 3) % 7]
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings={
            "CALL_BUSINESS_HOURS": f"{open_day} 00:00-24:00", "CALL_TIMEZONE": "UTC",
            "CALL_AFTER_HOURS_TARGET": "8:acs:night_desk"}) as running:
        yield running


def test_after_hours_the_call_is_redirected_unanswered(after_hours_stack: LocalStack) -> None:
    stack = after_hours_stack
    result = _run(stack, "happy_path")
    assert result.ended_by == "redirected" and stack.simulator.requests_for("answer") == []
    (redirect,) = stack.simulator.requests_for("redirect")
    assert redirect.json["target"]["rawId"] == "8:acs:night_desk"
    assert redirect.json["target"]["communicationUser"] == {"id": "8:acs:night_desk"}
    instance_id, final = _refused_instance(stack, "redirected", redirect.json["incomingCallContext"])
    assert final["output"]["endReason"] == "after_hours"
    assert _story(stack, instance_id)["outcome"] == "redirected"
    _assert_short_email(stack, "Call redirected")


@pytest.fixture
def one_call_stack(azurite_connection_string: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings={
            "MEDIA_MAX_CONNECTIONS": "2", "MEDIA_MAX_CALLS": "1", "CALL_OVERFLOW_TARGET": OVERFLOW}) as running:
        # The media host's port is chosen by the stack: point the policy at its real /healthz once it runs.
        from calls import app_context

        monkeypatch.setenv("MEDIA_HOST_HEALTH_URL", f"http://127.0.0.1:{running.env['MEDIA_HOST_PORT']}/healthz")
        app_context.reset()
        yield running
        app_context.reset()


def _media_health(stack: LocalStack) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.env['MEDIA_HOST_PORT']}/healthz", timeout=2) as response:
        return json.loads(response.read())


def test_a_full_media_host_sends_the_next_call_to_overflow_unanswered(one_call_stack: LocalStack) -> None:
    stack = one_call_stack

    async def two_calls() -> tuple[ScenarioResult, ScenarioResult]:
        first = asyncio.create_task(run_scenario(load_scenario("happy_path"), events_url=stack.events_url,
                                                 simulator=stack.simulator, signer=stack.signer))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while True:  # the first call streams (media and transcription sockets, one call): the host is full
            health = await asyncio.to_thread(_media_health, stack)
            if health["calls"] >= health["limit"] or loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert health["calls"] >= health["limit"] == 1, health
        second = await run_scenario(load_scenario("happy_path"), events_url=stack.events_url,
                                    simulator=stack.simulator, signer=stack.signer)
        return await first, second

    first, second = asyncio.run(two_calls())
    assert first.connected and first.ended_by != "redirected"
    assert second.ended_by == "redirected" and not second.connected and second.media.frames_sent == 0
    (answer,) = stack.simulator.requests_for("answer")  # the first call only
    (redirect,) = stack.simulator.requests_for("redirect")
    assert redirect.json["incomingCallContext"] != answer.json["incomingCallContext"]
    assert redirect.json["target"]["rawId"] == f"4:{OVERFLOW}"
    instance_id, final = _refused_instance(stack, "redirected", redirect.json["incomingCallContext"])
    assert final["output"]["endReason"] == "media_host_full"
    assert instance_id != answer.json["operationContext"]
    assert stack.wait_for_call(answer.json["operationContext"], timeout=90)["output"]["outcome"] == "completed"
