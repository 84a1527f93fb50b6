"""Recording end to end: started, paused, resumed and stopped through the control API on a live call, with the
real function app (dev host), media host, simulator and Azurite. Asserts the control API's refusals, the
simulator's recorded requests, the Durable history, the story's timeline and the .eml."""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

import aiohttp
import pytest

from shared.call_story import build_call_story
from shared.call_story_page import render_call_story_page
from tests.calls.test_events_http import raised_events
from tests.e2e.test_call_control import _instance_id, _until_flow, place_call, stack, timeline
from tests.e2e.test_call_scenarios import assert_no_raw_number
from tools.local_stack import LocalStack

__all__ = ["stack"]  # the fixture, shared with test_call_control
# wav: the simulator writes no mp3 (no encoder here) and refuses a start asking for it
# (tools/acs_simulator/recordings.py).
RECORDING = {"CALL_RECORDING": "audio", "CALL_RECORDING_FORMAT": "wav"}
STEPS = ("start_recording", "pause_recording", "resume_recording", "stop_recording")


async def _until_recording(stack: LocalStack, instance_id: str, state: str) -> None:
    for _ in range(400):
        status = await asyncio.to_thread(stack.status, instance_id) or {}
        if (status.get("customStatus") or {}).get("recording") == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the recording never became {state}")


async def _post(session: aiohttp.ClientSession, url: str, key: dict[str, str], action: str
                ) -> tuple[int, dict[str, Any]]:
    async with session.post(url, params=key, json={"action": action}) as response:
        return response.status, await response.json()


async def _post_once(url: str, key: dict[str, str], action: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        status, body = await _post(session, url, key, action)
        return status, str(body.get("error"))


async def _record_through_the_api(stack: LocalStack) -> None:
    instance_id = await _instance_id(stack)
    url = f"{stack.dev_host.base_url}/api/calls/{instance_id}/actions"
    key = {"code": stack.dev_host.function_key}
    async with aiohttp.ClientSession() as session:
        await _until_flow(stack, instance_id, "listening")
        status, body = await _post(session, url, key, "pause_recording")
        assert (status, body["error"]) == (422, "recording_state"), body  # nothing to pause yet
        status, body = await _post(session, url, key, "record_everything")
        assert (status, body["path"]) == (400, "action")
        for step, state in zip(STEPS, ("active", "paused", "active", "stopped"), strict=True):
            status, body = await _post(session, url, key, step)
            assert status == 202 and body["action"] == step, body
            await _until_recording(stack, instance_id, state)
            if step == "start_recording":
                status, body = await _post(session, url, key, "start_recording")
                assert (status, body["error"]) == (422, "recording_state")  # one recording at a time
        status, body = await _post(session, url, key, "resume_recording")
        assert status == 422  # stopped: nothing to resume
        status, _ = await _post(session, url, key, "hang_up")
        assert status == 202


@pytest.mark.parametrize("stack", [RECORDING], indirect=True)
def test_recording_started_paused_resumed_and_stopped(stack: LocalStack) -> None:
    call = place_call(stack, "caller_waits_on_line", during=_record_through_the_api)
    ended = asyncio.run(_post_once(f"{stack.dev_host.base_url}/api/calls/{call.instance_id}/actions",
                                   {"code": stack.dev_host.function_key}, "pause_recording"))
    assert ended == (409, "conflict")  # a recording action on a call that is no longer connected
    # The simulator's requests: the call located by its serverCallId, the same recording id throughout.
    (start,) = stack.simulator.requests_for("start_recording")
    start_input = call.status["input"]
    server_call_id = (json.loads(start_input) if isinstance(start_input, str) else start_input)["serverCallId"]
    assert start.status == 200
    assert start.json["callLocator"] == {"kind": "serverCallLocator", "serverCallId": server_call_id}
    assert (start.json["recordingContentType"], start.json["recordingChannelType"],
            start.json["recordingFormatType"]) == ("audio", "mixed", "wav")
    assert start.json["recordingStateCallbackUri"].startswith(f"{stack.dev_host.base_url}/api/callbacks/"
                                                              f"{call.instance_id}?token=")
    (recording_id,) = {op.body["recordingId"] for op in call.result.operations if op.kind in STEPS}
    changes = [(r.operation, r.status) for r in stack.simulator.requests if r.operation in STEPS[1:]]
    assert changes == [("pause_recording", 202), ("resume_recording", 202), ("stop_recording", 204)]
    assert all(recording_id.replace("=", "") in r.path.replace("=", "")
               for r in stack.simulator.requests if r.operation in STEPS[1:])
    # The Durable history: each request raised once, and RecordingStateChanged came through the call's inbox.
    history = call.status["historyEvents"]
    assert raised_events(call.status).count("RecordingStateChanged") == 4
    runs = [(json.loads(event["Input"]), str(event.get("Result"))) for event in history
            if event.get("EventType") == "TaskCompleted" and event.get("FunctionName") == "run_call_action"]
    assert [run_input["action"] for run_input, _ in runs] == list(STEPS)
    # The id came back as the start's result, and the machine named it in pause, resume and stop.
    assert recording_id in runs[0][1] and "recordingId" not in runs[0][0]
    assert [run_input.get("recordingId") for run_input, _ in runs[1:]] == [recording_id] * 3
    assert all("token=" not in json.dumps(run_input) for run_input, _ in runs)  # the callback URL stays out
    # The timeline and the story: each step sent, each state change in order.
    sent = [detail.split(" ")[0] for event, detail in timeline(call) if event == "action_sent"]
    assert sent[:4] == list(STEPS)
    changed = [detail for event, detail in timeline(call) if event == "RecordingStateChanged"]
    assert changed == ["state active", "state inactive", "state active", "state inactive"], changed
    story_events = [entry["event"] for entry in build_call_story(call.status)["timeline"]]
    assert story_events.count("RecordingStateChanged") == 4
    # The email tells the same story.
    assert call.plain_text().count("RecordingStateChanged") == 4
    assert "RecordingStateChanged - state inactive" in call.plain_text()
    assert "start_recording (api)" in call.plain_text()
    # The stopped recording's file came through Event Grid and is stored and linked (paused time left out).
    stored = [detail for event, detail in timeline(call) if event == "recording_stored"]
    assert stored == [f"calls/{call.instance_id}/recording-0.wav"]
    assert "Recording: " in call.plain_text() and stored[0] in call.plain_text()
    assert_no_raw_number(call)



CONSENT = "This call is recorded for quality."
AT_CONNECT = {"CALL_RECORDING": "audio_unmixed", "CALL_RECORDING_START": "connect",
              "CALL_RECORDING_CONSENT_TEXT": CONSENT, "CALL_GREETING_TEXT": "Welcome to Contoso."}


@pytest.mark.parametrize("stack", [AT_CONNECT], indirect=True)
def test_recording_at_connect_after_the_consent_notice(stack: LocalStack) -> None:
    call = place_call(stack, "greeting_played")
    consent, greeting = stack.simulator.requests_for("play")
    assert CONSENT in json.dumps(consent.json) and "Welcome to Contoso." in json.dumps(greeting.json)
    (start,) = stack.simulator.requests_for("start_recording")
    assert start.status == 200 and start.json["recordingChannelType"] == "unmixed"
    assert start.json["recordingFormatType"] == "wav"
    # The order ACS saw: the notice played in full, then the recording, then the greeting (on the recording).
    order = [r.operation for r in stack.simulator.requests if r.operation in ("play", "start_recording")]
    assert order == ["play", "start_recording", "play"]
    events = [(event, detail.split(" (")[0]) for event, detail in timeline(call)]
    consent_done = events.index(("PlayCompleted", "code 200, subCode 0, Action completed successfully."))
    assert consent_done < events.index(("action_requested", "start_recording"))
    assert ("RecordingStateChanged", "state active") in events
    assert "start_recording (recording)" in call.plain_text() and "play (recording_consent)" in call.plain_text()
    assert_no_raw_number(call)


FILE_TWICE = {**AT_CONNECT, "CALL_RECORDING": "audio"}


def _recording_events_url(stack: LocalStack) -> str:
    return f"{stack.dev_host.base_url}/api/recording-events"


@pytest.mark.parametrize("stack", [FILE_TWICE], indirect=True)
def test_recording_file_arrives_twice_one_file_is_stored_and_linked(stack: LocalStack) -> None:
    call = place_call(stack, "recorded_call_file_twice")
    # With consent: the notice played in full before the recording started.
    order = [r.operation for r in stack.simulator.requests if r.operation in ("play", "start_recording")]
    assert order[:2] == ["play", "start_recording"]
    # Event Grid: the subscription validated first, then the same event (same id) delivered twice, both 200.
    deliveries = [(e.kind, e.event_id, e.status) for e in call.result.events
                  if e.url.startswith(_recording_events_url(stack))]
    assert [kind for kind, _, _ in deliveries] == ["SubscriptionValidation", "RecordingFileStatusUpdated",
                                                   "RecordingFileStatusUpdated"]
    assert deliveries[1][1] == deliveries[2][1] and deliveries[1][2] == deliveries[2][2] == 200
    # The inbox got both; the machine took the chunk once, so one download, one activity, one blob.
    assert raised_events(call.status).count("RecordingFileReady") == 2
    downloads = stack.simulator.requests_for("download_recording")
    assert [r.status for r in downloads] == [200]
    assert downloads[0].headers["x-ms-host"] == "127.0.0.1" and "HMAC-SHA256" in downloads[0].headers["authorization"]
    runs = [event for event in call.status["historyEvents"]
            if event.get("EventType") == "TaskCompleted" and event.get("FunctionName") == "download_call_recording"]
    assert len(runs) == 1
    blob = f"calls/{call.instance_id}/recording-0.wav"
    stored = stack.read_blob(blob)
    (document,) = stack.simulator.recording_files.documents.values()
    assert stored == document and stored[:4] == b"RIFF"
    # What the simulator streamed while recording: the caller's sentence, not silence only.
    assert any(stored[44:][i] for i in range(0, len(stored) - 44, 97))
    changes = [(event, detail) for event, detail in timeline(call) if event.startswith("recording_")]
    assert changes == [("recording_file_ready", "1 new chunk(s)"), ("recording_stored", blob),
                       ("recording_file_ready", "already taken")] or changes == [
        ("recording_file_ready", "1 new chunk(s)"), ("recording_file_ready", "already taken"),
        ("recording_stored", blob)], changes
    # The story links it; the email too (plain text and an escaped href).
    story = build_call_story(call.status)
    (linked,) = story["recordings"]
    assert linked["blob"] == blob and linked["url"].endswith(f"/transcripts/{blob}")
    assert f'href="{html.escape(linked["url"], quote=True)}"' in render_call_story_page(story)
    assert f"Recording: {linked['url']}" in call.plain_text()
    assert f'<a href="{html.escape(linked["url"], quote=True)}">' in call.html()
    assert_no_raw_number(call)


def _file_event(subject: str, location: str) -> list[dict[str, Any]]:
    return [{"id": "5f1b7a0e-0000-4000-8000-000000000001", "topic": "/subscriptions/x", "subject": subject,
             "eventType": "Microsoft.Communication.RecordingFileStatusUpdated", "dataVersion": "1.0",
             "metadataVersion": "1", "eventTime": "2026-01-01T00:00:00Z",
             "data": {"recordingStorageInfo": {"recordingChunks": [
                 {"documentId": "0-eus-d1-abc", "index": 0, "endReason": "SessionEnded", "contentLocation": location,
                  "metadataLocation": location}]},
                 "recordingStartTime": "2026-01-01T00:00:00Z", "recordingDurationMs": 1000,
                 "sessionEndReason": "CallEnded"}}]


async def _post_events(stack: LocalStack, body: object) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(
            _recording_events_url(stack), params={"code": stack.dev_host.function_key}, json=body) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("stack", [RECORDING], indirect=True)
def test_recording_events_bad_input_is_4xx_and_unknown_calls_are_acknowledged(stack: LocalStack) -> None:
    good = "https://eus.asm.skype.com/v1/objects/0-eus-d1-abc/content/audio"
    subject = "/recording/call/c1/serverCallId/aHR0cHM6Ly9ub3QtYS1jYWxs/recordingId/eyJhIjoxfQ=="
    status, body = asyncio.run(_post_events(stack, _file_event(subject, good)))
    assert (status, body) == (200, {"raised": 0, "ignored": 1})  # no such call: acknowledged, never retried
    status, body = asyncio.run(_post_events(stack, _file_event(subject, "https://evil.example/x")))
    assert status == 400 and body["path"] == "[0].data.recordingStorageInfo.recordingChunks[0].contentLocation"
    status, body = asyncio.run(_post_events(stack, _file_event("/not/a/recording", good)))
    assert (status, body["path"]) == (400, "subject")
    status, body = asyncio.run(_post_events(stack, {"not": "events"}))
    assert status == 400 and body["error"] == "bad_request"
