"""run_scenario end to end against a small loopback stand-in application (not the product code):
an aiohttp server for /api/events and callbacks that uses the real Call Automation and Email SDKs, and a
websockets media server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import statistics
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from azure.communication.callautomation import (
    AudioFormat,
    CallAutomationClient,
    FileSource,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    RecognizeInputType,
    StreamingTransportType,
    TranscriptionOptions,
)
from azure.communication.email import EmailClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.results import ScenarioResult
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import Scenario, load_scenario
from tools.azurite import free_port

ACCESS_KEY = base64.b64encode(os.urandom(32)).decode()
COGNITIVE_ENDPOINT = "https://speech.example.test/"
SPOKEN = "Hello, this is Alice. Please call me back about my order tomorrow morning."


@dataclass
class StandInBehaviour:
    audio_format: AudioFormat = AudioFormat.PCM16_K_MONO
    play_and_recognize_on_connect: bool = False
    hang_up_after_s: float | None = None
    email_on_disconnect: bool = False
    echo_frames: int = 10  # AudioData sent back once the first inbound AudioData arrives, then StopAudio
    answer_delay_s: float = 0.0
    restart_media_on_failure: bool = False  # MediaStreamingFailed -> start_media_streaming (media recovery)


@dataclass
class StandInApp:
    """Records what an application would see and does what `behaviour` says."""

    acs_endpoint: str
    behaviour: StandInBehaviour
    port: int = 0
    media_port: int = 0
    answers: list[str] = field(default_factory=list)  # "ok:<id>" or "error:<status>"
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    media_headers: list[dict[str, str]] = field(default_factory=list)
    media_kinds: list[str] = field(default_factory=list)
    media_audio_arrivals: list[float] = field(default_factory=list)
    transcripts: list[dict[str, Any]] = field(default_factory=list)  # from the transcription socket
    transcription_headers: list[dict[str, str]] = field(default_factory=list)
    transcription_kinds: list[str] = field(default_factory=list)
    dtmf: list[str] = field(default_factory=list)
    media_closed: list[int | None] = field(default_factory=list)
    _answer_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/events"

    def _client(self) -> CallAutomationClient:
        return CallAutomationClient(self.acs_endpoint, AzureKeyCredential(ACCESS_KEY))

    def _answer(self, data: dict[str, Any]) -> None:
        media = MediaStreamingOptions(
            transport_url=f"ws://127.0.0.1:{self.media_port}/ws/call", transport_type=StreamingTransportType.WEBSOCKET,
            content_type=MediaStreamingContentType.AUDIO, audio_channel_type=MediaStreamingAudioChannelType.MIXED,
            start_media_streaming=True, enable_bidirectional=True, audio_format=self.behaviour.audio_format,
            enable_dtmf_tones=True)
        transcription = TranscriptionOptions(
            locale="en-US", transport_url=f"ws://127.0.0.1:{self.media_port}/ws/call/transcription",
            transport_type=StreamingTransportType.WEBSOCKET,
            start_transcription=True)
        try:
            props = self._client().answer_call(data["incomingCallContext"], f"http://127.0.0.1:{self.port}/api/cb",
                                               media_streaming=media, transcription=transcription,
                                               cognitive_services_endpoint=COGNITIVE_ENDPOINT,
                                               operation_context="answer")
            self.answers.append(f"ok:{props.call_connection_id}")
        except HttpResponseError as exc:
            self.answers.append(f"error:{exc.status_code}")

    async def events(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            return web.json_response({"validationResponse": body[0]["data"]["validationCode"]})
        for event in body:
            if event["eventType"] == "Microsoft.Communication.IncomingCall":
                await asyncio.sleep(self.behaviour.answer_delay_s)
                await asyncio.to_thread(self._answer, event["data"])
        return web.Response(status=200)

    def _on_connected(self, call_id: str) -> None:
        connection = self._client().get_call_connection(call_id)
        if self.behaviour.play_and_recognize_on_connect:
            connection.play_media(FileSource(url="https://cdn.example.test/greeting.wav"), operation_context="greet")
            connection.start_recognizing_media(RecognizeInputType.DTMF, PhoneNumberIdentifier("+14255550100"),
                                               dtmf_max_tones_to_collect=1, initial_silence_timeout=20,
                                               operation_context="menu")
            connection.start_transcription(locale="en-US", operation_context="transcribe")

    def _restart_media(self, call_id: str) -> None:
        self._client().get_call_connection(call_id).start_media_streaming(operation_context="restart")

    def _hang_up(self, call_id: str) -> None:
        self._client().get_call_connection(call_id).hang_up(is_for_everyone=True)

    def _email(self, call_id: str) -> None:
        message = {"senderAddress": "DoNotReply@example.test",
                   "recipients": {"to": [{"address": "owner@example.test"}]},
                   "content": {"subject": f"Call {call_id[:8]}", "plainText": SPOKEN, "html": f"<p>{SPOKEN}</p>"}}
        EmailClient(self.acs_endpoint, AzureKeyCredential(ACCESS_KEY)).begin_send(
            message, operation_id=f"summary-{call_id}").result()

    async def callback(self, request: web.Request) -> web.Response:
        events = await request.json()
        self.callbacks.extend(events)
        for event in events:
            kind = event["type"].removeprefix("Microsoft.Communication.")
            call_id = event["data"]["callConnectionId"]
            if kind == "CallConnected":
                asyncio.get_running_loop().run_in_executor(None, self._on_connected, call_id)
                if self.behaviour.hang_up_after_s is not None:
                    asyncio.get_running_loop().call_later(
                        self.behaviour.hang_up_after_s,
                        lambda cid=call_id: asyncio.get_running_loop().run_in_executor(None, self._hang_up, cid))
            if kind == "MediaStreamingFailed" and self.behaviour.restart_media_on_failure:
                asyncio.get_running_loop().run_in_executor(None, self._restart_media, call_id)
            if kind == "CallDisconnected" and self.behaviour.email_on_disconnect:
                asyncio.get_running_loop().run_in_executor(None, self._email, call_id)
        return web.Response(status=200)

    async def media(self, ws: ServerConnection) -> None:
        if ws.request.path.endswith("/transcription"):
            await self._receive_transcription(ws)
            return
        self.media_headers.append({k.lower(): v for k, v in ws.request.headers.items()})
        try:
            await self._receive_media(ws)
        except ConnectionClosed:
            pass
        self.media_closed.append(ws.close_code)

    async def _receive_media(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        echoed = False
        async for raw in ws:
            message = json.loads(raw)
            kind = message["kind"]
            self.media_kinds.append(kind)
            if kind == "AudioData":
                self.media_audio_arrivals.append(loop.time())
                if not echoed:
                    echoed = True
                    frame = base64.b64decode(message["audioData"]["data"])
                    for _ in range(self.behaviour.echo_frames):
                        await ws.send(json.dumps({"Kind": "AudioData", "AudioData": {"Data": base64.b64encode(
                            frame).decode()}, "StopAudio": None}))
                    await ws.send(json.dumps({"Kind": "StopAudio", "AudioData": None, "StopAudio": {}}))
            elif kind == "DtmfData":
                self.dtmf.append(message["dtmfData"]["data"])


    async def _receive_transcription(self, ws: ServerConnection) -> None:
        self.transcription_headers.append({k.lower(): v for k, v in ws.request.headers.items()})
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                message = json.loads(raw)
                self.transcription_kinds.append(message["kind"])
                if message["kind"] == "TranscriptionData":
                    self.transcripts.append(message["transcriptionData"])


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


async def _serve(app_state: StandInApp) -> AsyncIterator[StandInApp]:
    app = web.Application()
    app.router.add_post("/api/events", app_state.events)
    app.router.add_post("/api/cb", app_state.callback)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    app_state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with serve(app_state.media, "127.0.0.1", 0, compression=None) as media_server:
        app_state.media_port = next(iter(media_server.sockets)).getsockname()[1]
        yield app_state
    await runner.cleanup()


async def _run(simulator: AcsSimulatorServer, scenario: Scenario,
               behaviour: StandInBehaviour) -> tuple[ScenarioResult, StandInApp]:
    lines: list[str] = []
    async for app in _serve(StandInApp(simulator.endpoint, behaviour)):
        result = await run_scenario(scenario, events_url=app.events_url, simulator=simulator, progress=lines.append)
        await asyncio.sleep(0.2)  # let the stand-in finish handling the last callback
        assert all("+14255550100" not in line for line in lines), "phone numbers must be masked in progress"
        return result, app
    raise AssertionError("unreachable")


def types(result: ScenarioResult) -> list[str]:
    return result.callback_types()


def test_happy_path_end_to_end(simulator: AcsSimulatorServer) -> None:
    scenario = load_scenario("happy_path")
    behaviour = StandInBehaviour(play_and_recognize_on_connect=True, email_on_disconnect=True)

    result, app = asyncio.run(_run(simulator, scenario, behaviour))

    assert result.validation_ok and result.incoming_call_statuses == [200]
    assert result.answer_statuses == [200] and result.connected and result.ended_by == "caller"
    assert types(result)[:3] == ["CallConnected", "MediaStreamingStarted", "TranscriptionStarted"]
    assert {"PlayCompleted", "RecognizeCompleted"} <= set(types(result))
    assert types(result)[-1] == "CallDisconnected"
    assert all(c.status == 200 for c in result.callbacks)
    recognized = next(e for e in app.callbacks if e["type"].endswith("RecognizeCompleted"))
    assert recognized["data"]["dtmfResult"] == {"tones": ["one"]} and recognized["data"]["operationContext"] == "menu"
    assert recognized["data"]["resultInformation"]["subCode"] == 8531
    connected = app.callbacks[0]
    assert connected["source"] == f"calling/callConnections/{result.call_connection_id}" == connected["subject"]
    assert connected["specversion"] == "1.0" and connected["data"]["operationContext"] == "answer"
    assert "resultInformation" not in connected["data"]  # as in the Java SDK's captured CallConnected
    # media: handshake headers, metadata first, real speech; transcripts only on their own socket
    assert app.media_headers[0]["x-ms-call-connection-id"] == result.call_connection_id
    assert app.media_headers[0]["x-ms-call-correlation-id"]
    assert app.media_kinds[0] == "AudioMetadata" and app.dtmf == ["1"]
    assert not {"TranscriptionMetadata", "TranscriptionData"} & set(app.media_kinds)
    assert app.transcription_headers[0]["x-ms-call-connection-id"] == result.call_connection_id
    assert app.transcription_kinds == ["TranscriptionMetadata", "TranscriptionData"]
    [transcript] = app.transcripts
    assert transcript["text"] == SPOKEN and transcript["resultStatus"] == "Final"
    assert 4.9e7 < transcript["duration"] < 5.1e7 and 0.3e7 < transcript["offset"] < 0.8e7
    assert result.media.speech_frames_sent == 249  # 4.97 s of speech in 20 ms frames
    assert result.media.frames_received == 10 and result.media.stop_audio_received == 1
    assert bytes(result.media.received_pcm[:640]) == bytes(result.media.received_pcm[640:1280])  # echoed frame
    assert app.media_closed == [1000]
    [email] = result.emails
    assert email.eml_path is not None and SPOKEN in email.eml_path.read_text()


def test_media_is_paced_at_50_frames_per_second_without_drift(simulator: AcsSimulatorServer) -> None:
    scenario = replace(load_scenario("caller_hangs_up_at_once"), hangup_at_s=3.0)

    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour(audio_format=AudioFormat.PCM24_K_MONO)))

    arrivals = app.media_audio_arrivals
    span = arrivals[-1] - arrivals[0]
    assert result.media.sample_rate == 24000
    assert abs(len(arrivals) - 1 - span / 0.02) <= 2  # frames match elapsed time: no cumulative drift
    assert 145 <= result.media.frames_sent <= 152  # 3 s of audio
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert abs(statistics.mean(gaps) - 0.02) < 0.001


def test_missed_call_never_connects(simulator: AcsSimulatorServer) -> None:
    result, app = asyncio.run(_run(simulator, load_scenario("missed_call"), StandInBehaviour()))
    assert result.answer_statuses == [200] and not result.connected
    assert types(result) == ["CallDisconnected"] and result.ended_by == "abandoned"
    assert app.callbacks[0]["data"]["resultInformation"]["code"] == 487
    assert not result.media.opened and app.media_headers == []


def test_caller_abandons_before_answer_makes_answer_fail(simulator: AcsSimulatorServer) -> None:
    scenario = replace(load_scenario("missed_call"), abandon_at_s=0.0)
    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour(answer_delay_s=0.3)))
    assert result.ended_by == "abandoned" and result.call_connection_id is None
    assert result.answer_statuses == [400] and app.answers == ["error:400"]
    assert result.callbacks == []  # no call connection ever existed, so no callback either


def test_app_hang_up_ends_call_at_max_duration(simulator: AcsSimulatorServer) -> None:
    result, app = asyncio.run(_run(simulator, load_scenario("max_duration"), StandInBehaviour(hang_up_after_s=1.0)))
    assert result.ended_by == "app"
    assert [o.kind for o in result.operations][-1] == "terminate"
    assert 0.9 < result.timings["ended"] - result.timings["connected"] < 2.0
    assert types(result)[-1] == "CallDisconnected" and app.media_closed == [1000]


def test_duplicate_incoming_call_is_answered_once(simulator: AcsSimulatorServer) -> None:
    scenario = replace(load_scenario("duplicate_incoming_call_x3"), hangup_at_s=1.0, utterances=())
    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour()))
    assert result.incoming_call_statuses == [200, 200, 200]
    assert sorted(result.answer_statuses) == [200, 400, 400]
    assert sum(a.startswith("ok:") for a in app.answers) == 1
    assert types(result).count("CallConnected") == 1


def test_callbacks_duplicated_and_reordered(simulator: AcsSimulatorServer) -> None:
    scenario = replace(load_scenario("callbacks_duplicated_reordered"), hangup_at_s=1.0, utterances=())
    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour()))
    received = [e["type"].removeprefix("Microsoft.Communication.") for e in app.callbacks]
    assert received[:4] == ["MediaStreamingStarted", "MediaStreamingStarted", "CallConnected", "CallConnected"]
    assert received.count("CallDisconnected") == 2
    ids = [e["id"] for e in app.callbacks]
    assert len(set(ids)) == len(ids) // 2  # duplicates repeat the same event id


def test_media_socket_dropped_mid_call(simulator: AcsSimulatorServer) -> None:
    scenario = replace(load_scenario("media_socket_dropped"), utterances=(),
                       faults=replace(load_scenario("media_socket_dropped").faults, drop_media_socket_at_s=0.5),
                       hangup_at_s=1.5)
    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour()))
    assert result.media.dropped and result.ended_by == "caller"
    assert app.media_closed == [1006]  # abnormal closure: no close frame
    assert 20 <= result.media.frames_sent <= 30
    assert types(result)[-1] == "CallDisconnected"


def test_a_lost_media_socket_is_reported_and_a_start_request_opens_the_next_one(simulator: AcsSimulatorServer
                                                                               ) -> None:
    scenario = replace(load_scenario("media_socket_dropped"), utterances=(),
                       faults=replace(load_scenario("media_socket_dropped").faults, drop_media_socket_at_s=0.5),
                       hangup_at_s=2.0)
    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour(restart_media_on_failure=True)))
    failed = next(e for e in app.callbacks if e["type"].endswith("MediaStreamingFailed"))
    assert failed["data"]["mediaStreamingUpdate"] == {"contentType": "Audio", "mediaStreamingStatus":
                                                      "mediaStreamingFailed",
                                                      "mediaStreamingStatusDetails": "streamConnectionInterrupted"}
    (start,) = simulator.requests_for("start_media_streaming")
    assert start.status == 202 and start.json == {"operationContext": "restart"}
    started = [e for e in app.callbacks if e["type"].endswith("MediaStreamingStarted")]
    assert [e["data"]["operationContext"] for e in started] == [None, "restart"]
    assert result.media_sockets == 2 and app.media_closed == [1006, 1000]
    assert types(result)[-1] == "CallDisconnected"


def test_answer_throttled_three_times_then_connects(simulator: AcsSimulatorServer) -> None:
    scenario = replace(load_scenario("answer_429x3"), hangup_at_s=0.5, utterances=())
    scenario = replace(scenario, faults=replace(scenario.faults, answer=replace(scenario.faults.answer,
                                                                                retry_after_s=0.05)))
    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour()))
    assert result.answer_statuses == [429, 429, 429, 200] and result.connected


def test_email_throttled_three_times_is_delivered_once(simulator: AcsSimulatorServer) -> None:
    scenario = replace(load_scenario("email_429x3"), hangup_at_s=0.5, utterances=())
    scenario = replace(scenario, faults=replace(scenario.faults, email=replace(scenario.faults.email,
                                                                               retry_after_s=0.05)))
    result, app = asyncio.run(_run(simulator, scenario, StandInBehaviour(email_on_disconnect=True)))
    assert [r.status for r in simulator.requests_for("email")] == [429, 429, 429, 202]
    assert len(result.emails) == 1


def test_failed_validation_places_no_call(simulator: AcsSimulatorServer) -> None:
    async def scenario_against_wrong_answer() -> ScenarioResult:
        async def events(request: web.Request) -> web.Response:
            return web.json_response({"validationResponse": "wrong"})

        app = web.Application()
        app.router.add_post("/api/events", events)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            return await run_scenario(load_scenario("happy_path"), events_url=f"http://127.0.0.1:{port}/api/events",
                                      simulator=simulator)
        finally:
            await runner.cleanup()

    result = asyncio.run(scenario_against_wrong_answer())
    assert result.ended_by == "validation_failed" and not result.validation_ok
    assert [e.kind for e in result.events] == ["SubscriptionValidation"]


def test_cli_serves_and_places_a_call(tmp_path: Path) -> None:
    port = free_port()

    async def scenario_via_cli() -> tuple[int, str, StandInApp]:
        async for app in _serve(StandInApp(f"http://127.0.0.1:{port}", StandInBehaviour())):
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tools.acs_simulator", "--scenario", "caller_hangs_up_at_once",
                "--events-url", app.events_url, "--access-key", ACCESS_KEY, "--port", str(port),
                "--eml-dir", str(tmp_path), "--json", stdout=asyncio.subprocess.PIPE,
                cwd=Path(__file__).resolve().parents[2])
            out, _ = await asyncio.wait_for(process.communicate(), 60)
            return process.returncode or 0, out.decode(), app
        raise AssertionError("unreachable")

    code, out, app = asyncio.run(scenario_via_cli())
    assert code == 0, out
    assert f"ACS simulator listening at http://127.0.0.1:{port}" in out
    assert "callback CallConnected" in out and "+14255550100" not in out.split("{", 1)[0]
    summary = json.loads(out[out.index("\n{") + 1:])
    assert summary["ended_by"] == "caller" and summary["answer_statuses"] == [200]
    assert [e["type"].rsplit(".", 1)[1] for e in app.callbacks][-1] == "CallDisconnected"
