"""The simulator's recording REST calls, driven by the real CallAutomationClient (shapes: REST spec 2026-03-12)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.tools.test_acs_simulator_rest import ACCESS_KEY, CALLEE, CALLER, call_client, streaming_options
from tools.acs_simulator import AcsSimulatorServer, CallOperation


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


def _answered(simulator: AcsSimulatorServer) -> str:
    offered = simulator.offer_call(CALLER, CALLEE, "Alice")
    call_client(simulator).answer_call(offered.incoming_call_context, "https://app.example.test/cb",
                                       media_streaming=streaming_options())
    return offered.server_call_id


def test_start_pause_resume_stop(simulator: AcsSimulatorServer) -> None:
    server_call_id = _answered(simulator)
    seen: list[CallOperation] = []
    simulator.add_observer(seen.append)
    client = call_client(simulator)
    started = client.start_recording(server_call_id=server_call_id, recording_content_type="audio",
                                     recording_channel_type="mixed", recording_format_type="wav",
                                     recording_state_callback_url="https://app.example.test/cb")
    assert started.recording_id and started.recording_state == "inactive"
    assert client.get_recording_properties(started.recording_id).recording_state == "active"
    client.pause_recording(started.recording_id)
    with pytest.raises(HttpResponseError) as paused_twice:
        client.pause_recording(started.recording_id)
    assert paused_twice.value.status_code == 400
    client.resume_recording(started.recording_id)
    client.stop_recording(started.recording_id)
    with pytest.raises(ResourceNotFoundError):
        client.stop_recording(started.recording_id)
    statuses = [(r.operation, r.status) for r in simulator.requests if "recording" in r.operation]
    assert statuses == [("start_recording", 200), ("get_recording", 200), ("pause_recording", 202),
                        ("pause_recording", 400), ("resume_recording", 202), ("stop_recording", 204),
                        ("stop_recording", 404)]
    start = next(r for r in simulator.requests if r.operation == "start_recording")
    assert start.json["callLocator"] == {"kind": "serverCallLocator", "serverCallId": server_call_id}
    assert [op.kind for op in seen] == ["start_recording", "pause_recording", "resume_recording", "stop_recording"]
    assert {op.body["recordingStateCallbackUri"] for op in seen} == {"https://app.example.test/cb"}


def test_refusals(simulator: AcsSimulatorServer) -> None:
    client = call_client(simulator)
    with pytest.raises(ResourceNotFoundError):
        client.pause_recording("bm8tc3VjaA==")
    with pytest.raises(ResourceNotFoundError):
        client.start_recording(server_call_id="unknown-call")
    server_call_id = _answered(simulator)
    with pytest.raises(HttpResponseError) as bad_format:
        client.start_recording(server_call_id=server_call_id, recording_format_type="flac")
    assert bad_format.value.status_code == 400
    with pytest.raises(HttpResponseError) as plain_callback:
        client.start_recording(server_call_id=server_call_id, recording_state_callback_url="http://app.example.test/")
    assert plain_callback.value.status_code == 400
    audio = {"recording_content_type": "audio", "recording_channel_type": "mixed", "recording_format_type": "wav"}
    client.start_recording(server_call_id=server_call_id, **audio)
    with pytest.raises(HttpResponseError) as second:
        client.start_recording(server_call_id=server_call_id, **audio)
    assert second.value.status_code == 400


@pytest.mark.parametrize("content, channel, form, why", [
    ("audio", "unmixed", "mp3", "not a supported"),  # unmixed audio is wav only (Call Recording overview)
    ("audioVideo", "unmixed", "mp4", "not a supported"),
    ("audio", "mixed", "mp4", "not a supported"),
    ("audioVideo", "mixed", "wav", "not a supported"),
    ("audio", "mixed", "mp3", "not produced by the simulator"),  # the service records it; no encoder here
    ("audioVideo", "mixed", "mp4", "not produced by the simulator"),
    (None, None, None, "audioVideo + mixed + mp4 is not produced"),  # the service's default
])
def test_outputs_the_service_refuses_or_the_simulator_cannot_write_are_400(
        simulator: AcsSimulatorServer, content: str | None, channel: str | None, form: str | None, why: str) -> None:
    server_call_id = _answered(simulator)
    with pytest.raises(HttpResponseError) as refused:
        call_client(simulator).start_recording(server_call_id=server_call_id, recording_content_type=content,
                                               recording_channel_type=channel, recording_format_type=form)
    assert refused.value.status_code == 400 and why in str(refused.value.message)
    assert simulator.requests_for("start_recording")[0].status == 400


@pytest.mark.parametrize("channel", ["mixed", "unmixed"])
def test_wav_outputs_start(simulator: AcsSimulatorServer, channel: str) -> None:
    started = call_client(simulator).start_recording(server_call_id=_answered(simulator),
                                                     recording_content_type="audio", recording_channel_type=channel,
                                                     recording_format_type="wav")
    assert started.recording_id
