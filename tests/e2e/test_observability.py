"""One call, one story, end to end: the real function app (dev host), media host and ACS simulator, with
in-memory OpenTelemetry. A simulated call must give one trace spanning the IncomingCall function, the
orchestration's activities and the media host; the call metrics must count it; and `GET /api/calls/{id}`
must tell its story."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.chromium_screenshot import requires_chromium, screenshot
from tests.otel_memory import MemoryTelemetry, memory_telemetry, spans_of_trace
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.azurite import free_port
from tools.call_story.__main__ import main as call_story_cli
from tools.local_stack import LocalStack, local_stack

TIME_SCALE = 0.2
CALLER_DIGITS = "4255550100"


@pytest.fixture(scope="module")
def telemetry() -> MemoryTelemetry:
    return memory_telemetry()


@pytest.fixture(scope="module")
def stack(azurite_connection_string: str, tmp_path_factory: pytest.TempPathFactory,
          telemetry: MemoryTelemetry) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path_factory.mktemp("observability"),
                     time_scale=TIME_SCALE) as running:
        yield running


def place(stack: LocalStack, scenario: str) -> str:
    before = len(stack.simulator.requests_for("answer"))
    result = asyncio.run(run_scenario(load_scenario(scenario), events_url=stack.events_url,
                                      simulator=stack.simulator, signer=stack.signer))
    assert result.validation_ok, result.errors
    (answer,) = stack.simulator.requests_for("answer")[before:]
    instance_id = answer.json["operationContext"]
    assert stack.wait_for_call(instance_id, timeout=90)["runtimeStatus"] == "Completed"
    return instance_id


def get(stack: LocalStack, path: str, *, key: bool = True) -> tuple[int, str, str]:
    separator = "&" if "?" in path else "?"
    url = f"{stack.dev_host.base_url}{path}{separator}code={stack.dev_host.function_key}" if key else \
        f"{stack.dev_host.base_url}{path}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read().decode()


def sent_emails(stack: LocalStack) -> list[email.message.EmailMessage]:
    """Every email the simulator received, as parsed messages, in file order."""
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(Path(stack.eml_dir).glob("*.eml"))]


def call_story_json(stack: LocalStack, instance_id: str) -> dict[str, Any]:
    status, _, body = get(stack, f"/api/calls/{instance_id}")
    assert status == 200, body
    return json.loads(body)


def story(stack: LocalStack, instance_id: str) -> dict[str, Any]:
    status, content_type, body = get(stack, f"/api/calls/{instance_id}")
    assert status == 200 and content_type.startswith("application/json"), body
    return json.loads(body)


def attribute_text(spans: Any) -> str:
    return json.dumps([dict(span.attributes or {}) for span in spans], default=str)


@dataclass(frozen=True)
class HappyCall:
    instance_id: str
    counters_before: dict[str, float]
    histograms_before: dict[str, tuple[int, float]]


@pytest.fixture(scope="module")
def happy_call(stack: LocalStack, telemetry: MemoryTelemetry) -> HappyCall:
    counters_before = telemetry.counter_totals()
    histograms_before = telemetry.histogram_totals()
    return HappyCall(place(stack, "happy_path"), counters_before, histograms_before)


def test_happy_path_is_one_trace_with_metrics_and_a_story(stack: LocalStack, telemetry: MemoryTelemetry,
                                                          happy_call: HappyCall) -> None:
    instance_id = happy_call.instance_id
    counters_before, histograms_before = happy_call.counters_before, happy_call.histograms_before
    spans = telemetry.finished_spans()
    (root,) = [s for s in spans if s.name == "IncomingCall" and s.attributes.get("call.instance_id") == instance_id]
    call_spans = list(spans_of_trace(spans, root.context.trace_id))
    names = {span.name for span in call_spans}
    assert {"IncomingCall", "activity load_call_flow", "activity prepare_call_summary",
            "activity send_summary_email", "media stream"} <= names, names
    assert root.parent is None
    for span in call_spans:
        if span is not root:
            assert span.parent is not None and span.parent.span_id == root.context.span_id, span.name
    (media,) = [s for s in call_spans if s.name == "media stream"]
    (summary,) = [s for s in call_spans if s.name == "activity prepare_call_summary"]
    assert root.attributes["call.correlation_id"] and root.attributes["call.connection_id"]
    assert media.attributes["call.connection_id"] == root.attributes["call.connection_id"]
    assert media.attributes["call.correlation_id"] == root.attributes["call.correlation_id"]
    assert media.attributes["media.frames_received"] > 300
    assert summary.attributes["call.outcome"] == "completed"
    assert CALLER_DIGITS not in attribute_text(spans)

    counters = telemetry.counter_totals()
    histograms = telemetry.histogram_totals()

    def delta(name: str) -> float:
        return counters.get(name, 0) - counters_before.get(name, 0)

    assert (delta("calls.incoming"), delta("calls.answered"), delta("email.sent")) == (1, 1, 1)
    assert delta("calls.missed") == 0 and delta("calls.dropped") == 0 and delta("email.failed") == 0
    answer_count = histograms["call.answer_latency"][0] - histograms_before.get("call.answer_latency", (0, 0))[0]
    assert answer_count == 1
    frames_before, latency_before = histograms_before.get("media.frame_latency", (0, 0.0))
    windows = histograms["media.frame_latency"][0] - frames_before
    assert windows >= 6  # one per second of audio: the call streams about 8 s
    mean_latency = (histograms["media.frame_latency"][1] - latency_before) / windows
    assert 0 <= mean_latency < 200  # the KPI, on loopback
    assert histograms["media.frame_jitter"][0] >= windows

    told = story(stack, instance_id)
    assert told["outcome"] == "completed" and told["correlationId"] == root.attributes["call.correlation_id"]
    events = [entry["event"] for entry in told["timeline"]]
    for expected in ("ringing", "CallAnswered", "CallConnected", "MediaStreamEnded", "CallDisconnected",
                     "prepare_call_summary", "send_summary_email"):
        assert expected in events
    assert told["media"]["framesReceived"] == media.attributes["media.frames_received"]
    assert told["transcriptBlob"] == f"calls/{instance_id}/transcript.jsonl"
    assert stack.read_blob(told["transcriptBlob"])
    assert told["email"]["status"] == "Succeeded" and told["email"]["operationId"]
    assert told["durations"]["talkSeconds"] > 5
    assert CALLER_DIGITS not in json.dumps(told)

    status, content_type, page = get(stack, f"/api/calls/{instance_id}/view")
    assert status == 200 and content_type.startswith("text/html")
    assert "completed" in page and "CallConnected" in page and CALLER_DIGITS not in page

    status, _, listed = get(stack, "/api/calls?outcome=completed")
    assert status == 200 and instance_id in [row["instanceId"] for row in json.loads(listed)["calls"]]


@requires_chromium
def test_the_page_served_by_the_function_app_renders_in_chromium(stack: LocalStack, happy_call: HappyCall,
                                                                 tmp_path: Path) -> None:
    url = (f"{stack.dev_host.base_url}/api/calls/{happy_call.instance_id}/view"
           f"?code={stack.dev_host.function_key}")
    image = screenshot(url, tmp_path, "served")
    colours = image.colour_counts()
    assert colours[(0x1A, 0x7F, 0x37)] > 800  # the green "completed" badge
    assert colours[(0x09, 0x69, 0xDA)] > 100  # the timeline's blue markers
    assert colours[(0xB6, 0xE3, 0xC0)] > 200  # the talk-time bar between connect and disconnect


def test_missed_call_story_and_metrics(stack: LocalStack, telemetry: MemoryTelemetry) -> None:
    before = telemetry.counter_totals()
    instance_id = place(stack, "missed_call")
    after = telemetry.counter_totals()
    assert after.get("calls.missed", 0) - before.get("calls.missed", 0) == 1
    assert after.get("calls.incoming", 0) - before.get("calls.incoming", 0) == 1
    told = story(stack, instance_id)
    assert told["outcome"] == "missed" and told["connectedAt"] is None and told["media"] is None
    (missed,) = [entry for entry in told["timeline"] if entry["event"] == "missed"]
    assert missed["detail"] == "caller hung up before connect"
    (disconnected,) = [entry for entry in told["timeline"] if entry["event"] == "CallDisconnected"]
    assert "487" in disconnected["detail"]
    status, _, listed = get(stack, "/api/calls?outcome=missed")
    rows = json.loads(listed)["calls"]
    assert status == 200 and instance_id in [row["instanceId"] for row in rows]
    assert all(row["outcome"] == "missed" for row in rows)


def test_story_endpoints_need_the_function_key_and_a_known_call(stack: LocalStack) -> None:
    assert get(stack, "/api/calls/call-0123", key=False)[0] == 401
    assert get(stack, "/api/calls", key=False)[0] == 401
    status, _, body = get(stack, "/api/calls/call-does-not-exist")
    assert status == 404 and json.loads(body)["error"] == "not_found"
    assert get(stack, "/api/calls?from=yesterday")[0] == 400
    assert get(stack, "/api/calls?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")[0] == 400
    assert get(stack, "/api/calls?outcome=%3Cscript%3E")[0] == 400


def test_the_cli_tells_the_story_and_lists_calls(stack: LocalStack, happy_call: HappyCall,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["--base-url", stack.dev_host.base_url]
    monkeypatch.setenv("CALL_STORY_FUNCTION_KEY", stack.dev_host.function_key)
    assert call_story_cli([happy_call.instance_id, *base]) == 0
    text = capsys.readouterr().out
    assert f"Call {happy_call.instance_id}: completed" in text
    assert "CallConnected" in text and "The summary email was sent." in text and CALLER_DIGITS not in text
    assert call_story_cli(["--list", "--outcome", "completed", *base]) == 0
    assert happy_call.instance_id in capsys.readouterr().out
    assert call_story_cli([happy_call.instance_id, "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["instanceId"] == happy_call.instance_id
    monkeypatch.delenv("CALL_STORY_FUNCTION_KEY")
    assert call_story_cli([happy_call.instance_id, *base]) == 1  # no key: the app refuses
    assert "HTTP 401" in capsys.readouterr().err
    assert call_story_cli(["call-x", "--base-url", f"http://127.0.0.1:{free_port()}"]) == 2


TRANSFER_SCENARIO = Path(__file__).resolve().parents[2] / "tools" / "acs_simulator" / "scenarios" / \
    "dtmf_menu_transfer.json"
AGENT = "+14255550123"


@pytest.mark.skipif(not TRANSFER_SCENARIO.exists(), reason="the transfer scenario comes with call control")
def test_transferred_call_story(azurite_connection_string: str, tmp_path: Path, telemetry: MemoryTelemetry) -> None:
    menu = {"CALL_MENU_PROMPT_TEXT": "Press 0 for an agent.", "CALL_MENU_OPTIONS": "0:transfer",
            "CALL_TRANSFER_TARGET": AGENT}
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings=menu) as running:
        instance_id = place(running, "dtmf_menu_transfer")
        told = story(running, instance_id)
    assert told["outcome"] == "transferred"
    spans = telemetry.finished_spans()
    (root,) = [s for s in spans if s.name == "IncomingCall" and s.attributes.get("call.instance_id") == instance_id]
    actions = {span.attributes.get("call.action"): span.attributes.get("activity.status")
               for span in spans_of_trace(spans, root.context.trace_id) if span.name == "activity run_call_action"}
    assert actions == {"recognize_dtmf": "accepted", "transfer": "accepted"}
    (summary,) = [span for span in spans_of_trace(spans, root.context.trace_id)
                  if span.name == "activity prepare_call_summary"]
    assert summary.attributes["call.outcome"] == "transferred"
    events = [entry["event"] for entry in told["timeline"]]
    assert "CallTransferAccepted" in events and events.index("CallConnected") < events.index("CallTransferAccepted")
    (accepted,) = [entry for entry in told["timeline"] if entry["event"] == "CallTransferAccepted"]
    assert "transfer" in accepted["meaning"].lower()
    assert "4255550123" not in json.dumps(told) and CALLER_DIGITS not in json.dumps(told)
