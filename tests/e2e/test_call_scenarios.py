"""Whole calls on one machine: the bundled simulator scenarios against the real function app (in the dev
host), the real media host and Azurite. Each asserts the .eml, the Durable history and status, and the
transcript blob."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared import blob_names
from tests.calls.test_events_http import raised_events
from tests.e2e.test_observability import get
from tools.acs_simulator.results import ScenarioResult
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.local_stack import LocalStack, local_stack

SPOKEN = "Hello, this is Alice. Please call me back about my order tomorrow morning."
CALLER = "+14255550100"
# Timers run 5x faster than real time: a 45 s connect timeout takes 9 s, the 20 s media-report wait 4 s.
TIME_SCALE = 0.2


@dataclass
class PlacedCall:
    result: ScenarioResult
    instance_id: str
    status: dict[str, Any]
    emails: list[email.message.EmailMessage]
    transcript: str

    @property
    def output(self) -> dict[str, Any]:
        return self.status["output"]

    def raised(self) -> list[str]:
        return raised_events(self.status)

    def timeline_events(self) -> list[str]:
        return [entry["event"] for entry in self.output["timeline"]]

    def plain_text(self) -> str:
        (message,) = self.emails
        return message.get_body(preferencelist=("plain",)).get_content()

    def html(self) -> str:
        (message,) = self.emails
        return message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def stack(azurite_connection_string: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    settings = getattr(request, "param", None) or {}
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings=settings) as running:
        yield running


def place_call(stack: LocalStack, scenario_name: str) -> PlacedCall:
    scenario = load_scenario(scenario_name)
    result = asyncio.run(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                      signer=stack.signer))
    assert result.validation_ok, result.errors
    answers = [r for r in stack.simulator.requests_for("answer") if r.status == 200]
    instance_ids = {r.json["operationContext"] for r in stack.simulator.requests_for("answer")}
    assert len(answers) == 1 and len(instance_ids) == 1, "one call, answered once"
    (instance_id,) = instance_ids
    status = stack.wait_for_call(instance_id, timeout=90)
    assert status["runtimeStatus"] == "Completed", status
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(stack.eml_dir.glob("*.eml"))]
    return PlacedCall(result, instance_id, status, messages, stack.transcript(instance_id))


def assert_no_raw_number(call: PlacedCall) -> None:
    for message in call.emails:
        assert CALLER not in message.as_string()
        assert CALLER not in message["Subject"]
    assert CALLER not in json.dumps(call.status)


def test_happy_path(stack: LocalStack) -> None:
    call = place_call(stack, "happy_path")
    assert call.output["outcome"] == "completed"
    assert call.output["partial"] is False
    assert ["CallAnswered", "CallConnected", "CallDisconnected", "MediaStreamEnded"] == [
        name for name in call.raised() if name in ("CallAnswered", "CallConnected", "CallDisconnected",
                                                   "MediaStreamEnded")]
    assert call.status["customStatus"]["stage"] == "summarized"
    assert json.loads(call.transcript.splitlines()[0])["text"] == SPOKEN
    assert len(call.emails) == 1
    assert SPOKEN in call.plain_text()
    assert "completed" in call.emails[0]["Subject"]
    assert call.output["email"]["status"].lower() == "succeeded"
    assert call.result.media.frames_sent > 300  # about 8 s of 20 ms frames, streamed in real time
    # The key press at 6 s came on the media socket (MEDIA_DTMF is on by default) and shows in the timeline.
    (answer,) = stack.simulator.requests_for("answer")
    assert answer.json["mediaStreamingOptions"]["enableDtmfTones"] is True and call.result.media.dtmf_sent == ["1"]
    (press,) = [entry for entry in call.output["timeline"] if entry["event"] == "dtmf_received"]
    assert press["detail"] == "1" and call.output["connectedAt"] < press["at"] < call.output["endedAt"]
    status, _, body = get(stack, f"/api/calls/{call.instance_id}")
    (shown,) = [entry for entry in json.loads(body)["timeline"] if entry["event"] == "dtmf_received"]
    assert status == 200 and shown["detail"] == "1" and shown["status"] == "info"
    assert_no_raw_number(call)


def test_happy_path_with_the_replays_in_a_process_of_their_own(azurite_connection_string: str,
                                                               tmp_path: Path) -> None:
    # As on Flex Consumption, where Durable triggers run apart from HTTP triggers (tools/dev_host/replay_worker.py):
    # the same call, the same story. Only a worker process that imported the app can replay by name, so a call
    # that completes here was replayed there.
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, replay_processes=1) as stack:
        call = place_call(stack, "happy_path")
        assert stack.dev_host.replay_flags(call.instance_id) == []
    assert call.output["outcome"] == "completed" and call.output["partial"] is False
    assert [name for name in call.raised() if name in ("CallAnswered", "CallConnected", "CallDisconnected")] == [
        "CallAnswered", "CallConnected", "CallDisconnected"]
    assert json.loads(call.transcript.splitlines()[0])["text"] == SPOKEN
    assert len(call.emails) == 1 and SPOKEN in call.plain_text()


def test_missed_call_never_connected(stack: LocalStack) -> None:
    call = place_call(stack, "missed_call")
    assert call.output["outcome"] == "missed"
    assert "CallConnected" not in call.raised()
    assert call.transcript == ""
    assert len(call.emails) == 1
    assert "missed" in call.emails[0]["Subject"].lower()
    assert SPOKEN not in call.plain_text()
    assert_no_raw_number(call)


def test_caller_hangs_up_at_once(stack: LocalStack) -> None:
    call = place_call(stack, "caller_hangs_up_at_once")
    assert call.output["outcome"] == "completed"
    assert call.transcript == ""
    assert len(call.emails) == 1
    assert call.output["connectedAt"] <= call.output["endedAt"]


# 40 s of call time is 8 s here: long enough for the first sentence to be transcribed.
@pytest.mark.parametrize("stack", [{"MAX_CALL_DURATION_SECONDS": "40"}], indirect=True)
def test_maximum_duration_reached(stack: LocalStack) -> None:
    call = place_call(stack, "max_duration")
    assert call.output["outcome"] == "max_duration"
    hang_ups = stack.simulator.requests_for("hang_up") + stack.simulator.requests_for("terminate")
    assert len(hang_ups) == 1
    assert "max_duration_reached" in call.timeline_events()
    assert call.result.ended_by == "app"
    assert len(call.emails) == 1
    assert SPOKEN in call.plain_text()


def test_email_throttled_three_times_then_delivered_once(stack: LocalStack) -> None:
    call = place_call(stack, "email_429x3")
    throttled = [r for r in stack.simulator.requests_for("email") if r.status == 429]
    assert len(throttled) == 3
    assert len(stack.simulator.emails) == 1
    assert len(call.emails) == 1
    assert SPOKEN in call.plain_text()


def test_same_incoming_call_delivered_three_times_at_once(stack: LocalStack) -> None:
    call = place_call(stack, "duplicate_incoming_call_x3")
    assert all(status is not None and 200 <= status < 300 for status in call.result.incoming_call_statuses)
    assert len(call.result.incoming_call_statuses) == 3
    assert call.output["outcome"] == "completed"
    assert len(call.emails) == 1


def test_callbacks_duplicated_and_reordered(stack: LocalStack) -> None:
    call = place_call(stack, "callbacks_duplicated_reordered")
    assert call.raised().count("CallConnected") == 2  # both copies reached Durable...
    assert call.timeline_events().count("CallConnected") == 1  # ...and only one counted
    assert call.output["outcome"] == "completed"
    assert len(call.emails) == 1
    assert SPOKEN in call.plain_text()


def test_media_socket_dropped_is_restarted_and_loses_no_transcript(stack: LocalStack) -> None:
    # ACS transcribes on a socket of its own: cutting the media socket (no close frame) loses audio frames, not
    # the transcript. ACS reports the loss (MediaStreamingFailed), the call starts streaming again, and the
    # second socket streams until the caller hangs up: the summary says it recovered, not that it is incomplete.
    call = place_call(stack, "media_socket_dropped")
    assert call.result.media.dropped and call.result.media_sockets == 2
    assert call.output["outcome"] == "completed"
    lines = [json.loads(line) for line in call.transcript.splitlines()]
    assert [line["text"] for line in lines if line["source"] != "gap"] == \
        [SPOKEN, "This second sentence is lost with the media socket."]
    assert [line["source"] for line in lines].count("gap") == 1
    (start,) = stack.simulator.requests_for("start_media_streaming")
    assert start.status == 202 and start.json == {"operationContext": "media-recovery:media:1"}
    assert {"media_stream_lost", "media_restart_requested", "media_stream_recovered"} <= set(call.timeline_events())
    media: dict[str, Any] = {}
    for _ in range(50):  # the first socket writes media.json once the transcription socket closed
        media = json.loads(stack.read_blob(blob_names.media_report_blob(call.instance_id)) or b"{}")
        if len(media.get("sockets", [])) == 2:
            break
        time.sleep(0.1)
    assert sorted(socket["closeCode"] for socket in media["sockets"]) == [1000, 1006], media
    recovery = call.output["mediaRecovery"]
    assert recovery["recovered"] is True and len(recovery["sockets"]) == 2
    assert call.output["partial"] is False
    assert len(call.emails) == 1
    assert "second sentence" in call.plain_text()
    assert "recovered after" in call.plain_text() and "incomplete" not in call.plain_text().lower()


@pytest.mark.parametrize("stack", [{"ACS_COGNITIVE_SERVICES_ENDPOINT": ""}], indirect=True)
def test_without_ai_services_acs_transcribes_nothing_and_the_email_says_why(stack: LocalStack) -> None:
    # The strict simulator, like ACS, transcribes only when the answer asks for it; without an AI services
    # endpoint the answer cannot, and the call's email says so instead of showing an empty transcript.
    call = place_call(stack, "happy_path")
    (answer,) = stack.simulator.requests_for("answer")
    assert "transcriptionOptions" not in answer.json and "callIntelligenceOptions" not in answer.json
    assert call.output["outcome"] == "completed"
    assert call.transcript == ""
    assert "real-time transcription is not configured" in call.plain_text()
    assert SPOKEN not in call.plain_text()
