"""The realtime processor against a loopback server speaking the OpenAI Realtime protocol, with a real
`websockets` client on the ACS side. Barge-in is asserted through the StopAudio the ACS side receives."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from array import array
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from media_host.config import load_media_host_config
from media_host.server import serve_media_host
from shared.blob_names import transcript_blob
from tests.media_host.conftest import audio_message, metadata_message
from tests.media_host.function_app_stand_in import FunctionAppStandIn, function_app_stand_in
from tests.media_host.test_processors_and_limits import wait_until_idle
from tests.media_host.test_server import INSTANCE, ws_url


def tone_24k(seconds: float) -> bytes:
    count = int(24000 * seconds)
    return array("h", (int(8000 * math.sin(2 * math.pi * 440 * n / 24000)) for n in range(count))).tobytes()


@dataclass
class FakeModel:
    """Plays the model's side: records what the bridge sends, answers like the service does."""

    preview: bool
    headers: dict[str, str] = field(default_factory=dict)
    path: str = ""
    session: dict = field(default_factory=dict)
    appended: list[bytes] = field(default_factory=list)
    cancels: int = 0
    interrupt: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def audio_delta(self) -> str:
        return "response.audio.delta" if self.preview else "response.output_audio.delta"

    @property
    def transcript_done(self) -> str:
        return "response.audio_transcript.done" if self.preview else "response.output_audio_transcript.done"

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.headers = dict(ws.request.headers)
        self.path = ws.request.path
        first = json.loads(await ws.recv())
        assert first["type"] == "session.update"
        self.session = first["session"]
        reader = asyncio.get_running_loop().create_task(self.read(ws))
        while len(self.appended) < 5:
            await asyncio.sleep(0.01)
        # The caller speaks; its transcript arrives; the model answers with 2 s of audio at once.
        await ws.send(json.dumps({"type": "input_audio_buffer.speech_started", "item_id": "item1",
                                  "audio_start_ms": 120}))
        await ws.send(json.dumps({"type": "conversation.item.input_audio_transcription.completed",
                                  "item_id": "item1", "content_index": 0, "transcript": " I need help. "}))
        await ws.send(json.dumps({"type": "response.created", "response": {"id": "resp1"}}))
        audio = tone_24k(2.0)
        for i in range(0, len(audio), 4800):
            await ws.send(json.dumps({"type": self.audio_delta, "delta": base64.b64encode(audio[i:i + 4800]).decode()}))
        await ws.send(json.dumps({"type": self.transcript_done, "transcript": "Sure, I can help."}))
        # The caller talks over the answer: barge-in.
        await self.interrupt.wait()
        await ws.send(json.dumps({"type": "input_audio_buffer.speech_started", "item_id": "item2",
                                  "audio_start_ms": 900}))
        await reader

    async def read(self, ws: ServerConnection) -> None:
        async for message in ws:
            event = json.loads(message)
            if event["type"] == "input_audio_buffer.append":
                self.appended.append(base64.b64decode(event["audio"]))
            elif event["type"] == "response.cancel":
                self.cancels += 1


async def run_call(config, model: FakeModel, sample_rate: int) -> list[dict]:
    frame_bytes = sample_rate // 50 * 2
    async with serve_media_host(config, host="127.0.0.1", port=0) as host:
        async with connect(ws_url(host.port, query="?processor=realtime"), compression=None) as ws:
            await ws.send(metadata_message(sample_rate))
            received: list[dict] = []

            async def caller_audio() -> None:
                for i in range(150):
                    await ws.send(audio_message(bytes([i % 7]) * frame_bytes, f"2024-05-27T10:00:{i // 50:02d}."
                                                f"{i % 50 * 20:03d}Z"))
                    await asyncio.sleep(0.02)

            sender = asyncio.get_running_loop().create_task(caller_audio())
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    received.append(message)
                    audio_frames = sum(1 for m in received if m["Kind"] == "AudioData")
                    if audio_frames == 10:
                        model.interrupt.set()
                    if message["Kind"] == "StopAudio" and audio_frames >= 10:
                        break
                await asyncio.sleep(0.3)  # anything still arriving after barge-in would be a bug
                while True:
                    try:
                        received.append(json.loads(await asyncio.wait_for(ws.recv(), 0.1)))
                    except TimeoutError:
                        break
            finally:
                sender.cancel()
        await wait_until_idle(host)
    return received


def realtime_config(media_env: dict[str, str], port: int, **extra: str):
    return load_media_host_config(dict(media_env, REALTIME_ENDPOINT=f"http://127.0.0.1:{port}",
                                       REALTIME_DEPLOYMENT="gpt-realtime", REALTIME_API_KEY="test-key",
                                       REALTIME_VOICE="verse", REALTIME_INSTRUCTIONS="Be brief.", **extra))


def assert_barge_in(received: list[dict], model: FakeModel, frame_bytes: int) -> None:
    kinds = [m["Kind"] for m in received]
    last_stop = len(kinds) - 1 - kinds[::-1].index("StopAudio")
    audio = [m for m in received if m["Kind"] == "AudioData"]
    assert {len(base64.b64decode(m["AudioData"]["Data"])) for m in audio} == {frame_bytes}
    # 2 s of answer = 100 frames; paced, only ~10 went out before the caller interrupted, and nothing after.
    assert 10 <= len(audio) < 30
    assert "AudioData" not in kinds[last_stop + 1:]
    assert received[last_stop] == {"Kind": "StopAudio", "AudioData": None, "StopAudio": {}}
    assert model.cancels == 1  # only the second speech_started interrupted a response


def test_realtime_ga_at_24_khz_with_barge_in(media_env, read_blob) -> None:
    async def scenario() -> tuple[list[dict], FakeModel]:
        model = FakeModel(preview=False)
        async with serve(model.handler, "127.0.0.1", 0) as fake:
            port = next(iter(fake.sockets)).getsockname()[1]
            received = await run_call(realtime_config(media_env, port), model, 24000)
        return received, model

    received, model = asyncio.run(scenario())
    assert_barge_in(received, model, 960)
    assert model.headers.get("api-key") == "test-key"
    url = urlsplit(model.path)
    assert url.path == "/openai/v1/realtime" and parse_qs(url.query) == {"model": ["gpt-realtime"]}
    assert model.session["type"] == "realtime" and model.session["instructions"] == "Be brief."
    assert model.session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert model.session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert model.session["audio"]["input"]["transcription"]["model"]
    assert model.session["audio"]["output"]["voice"] == "verse"
    # 24 kHz caller audio reaches the model as sent: 960-byte frames, same bytes
    assert model.appended[0] == bytes([0]) * 960 and all(len(chunk) == 960 for chunk in model.appended)
    lines = [json.loads(line) for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert {"speaker": "caller", "text": "I need help.", "offsetMs": 120, "durationMs": None, "confidence": None,
            "source": "caller"} in lines
    assert [line["text"] for line in lines if line["source"] == "assistant"] == ["Sure, I can help."]


def test_realtime_preview_at_16_khz_resamples_both_ways(media_env, read_blob) -> None:
    async def scenario() -> tuple[list[dict], FakeModel]:
        model = FakeModel(preview=True)
        async with serve(model.handler, "127.0.0.1", 0) as fake:
            port = next(iter(fake.sockets)).getsockname()[1]
            config = realtime_config(media_env, port, REALTIME_API_VERSION="2025-04-01-preview")
            received = await run_call(config, model, 16000)
        return received, model

    received, model = asyncio.run(scenario())
    assert_barge_in(received, model, 640)
    url = urlsplit(model.path)
    assert url.path == "/openai/realtime"
    assert parse_qs(url.query) == {"api-version": ["2025-04-01-preview"], "deployment": ["gpt-realtime"]}
    assert model.session["input_audio_format"] == "pcm16" and model.session["voice"] == "verse"
    assert model.session["turn_detection"]["type"] == "server_vad"
    assert all(len(chunk) == 960 for chunk in model.appended)  # 16 kHz frames went up as 24 kHz
    lines = [json.loads(line) for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert [line["source"] for line in lines] == ["caller", "assistant"]


def test_an_unreachable_model_does_not_end_the_call(media_env, read_blob) -> None:
    from tools.azurite import free_port

    config = realtime_config(media_env, free_port())

    async def scenario() -> None:
        async with serve_media_host(config, host="127.0.0.1", port=0) as host:
            async with connect(ws_url(host.port, query="?processor=realtime"), compression=None) as ws:
                await ws.send(metadata_message(24000))
                await ws.send(audio_message(bytes(960), "2024-05-27T10:00:00.000Z"))
                await ws.send(json.dumps({"kind": "TranscriptionData", "transcriptionData": {
                    "text": "still recorded", "offset": 0, "duration": 0, "resultStatus": "Final"}}))
                await asyncio.sleep(0.2)
                assert ws.close_code is None
            await wait_until_idle(host)

    asyncio.run(scenario())
    assert b"still recorded" in read_blob(transcript_blob(INSTANCE))


@dataclass
class ToolCallingModel:
    """The model decides to transfer the caller: it calls the transfer tool and waits for the output."""

    tool: str = "transfer_to_agent"
    session: dict = field(default_factory=dict)
    after_tool: list[dict] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    async def handler(self, ws: ServerConnection) -> None:
        self.session = json.loads(await ws.recv())["session"]
        await ws.send(json.dumps({"type": "response.created", "response": {"id": "resp7"}}))
        await ws.send(json.dumps({"type": "response.function_call_arguments.done", "response_id": "resp7",
                                  "item_id": "item7", "output_index": 0, "call_id": "call_transfer_1",
                                  "name": self.tool, "arguments": '{"reason": "asked for a human"}'}))
        await ws.send(json.dumps({"type": "response.done", "response": {"id": "resp7", "status": "completed"}}))
        async for message in ws:
            event = json.loads(message)
            if event["type"] in ("conversation.item.create", "response.create"):
                self.after_tool.append(event)
            if event["type"] == "response.create":
                self.answered.set()


@pytest.mark.parametrize("preview", [False, True], ids=["ga", "preview"])
def test_the_model_transfers_the_caller_through_the_function_app(media_env, preview: bool) -> None:
    async def scenario() -> tuple[ToolCallingModel, FunctionAppStandIn]:
        model = ToolCallingModel()
        async with function_app_stand_in() as app, serve(model.handler, "127.0.0.1", 0) as fake:
            port = next(iter(fake.sockets)).getsockname()[1]
            extra = {"REALTIME_API_VERSION": "2025-04-01-preview"} if preview else {}
            config = realtime_config(media_env, port, CALLBACK_BASE_URL=app.base_url, **extra)
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port, query="?processor=realtime"), compression=None) as ws:
                    await ws.send(metadata_message(24000))
                    await ws.send(audio_message(bytes(960), "2024-05-27T10:00:00.000Z"))
                    await asyncio.wait_for(model.answered.wait(), 5)
                await wait_until_idle(host)
        return model, app

    model, app = asyncio.run(scenario())
    assert [tool["name"] for tool in model.session["tools"]] == ["transfer_to_agent", "end_call"]
    (request,) = app.of("actions")
    assert request.instance_id == INSTANCE and request.query == {"token": ws_url(0).rsplit("/", 1)[1]}
    assert request.body == {"action": "transfer"}  # the model names no number: the configured agent line
    assert request.headers.get("Idempotency-Key")
    output, create = model.after_tool
    assert output["item"]["type"] == "function_call_output" and output["item"]["call_id"] == "call_transfer_1"
    assert json.loads(output["item"]["output"]) == {"accepted": True}
    assert create == {"type": "response.create"}


def test_without_call_control_no_tools_are_offered(media_env) -> None:
    async def scenario() -> ToolCallingModel:
        model = ToolCallingModel()
        async with serve(model.handler, "127.0.0.1", 0) as fake:
            port = next(iter(fake.sockets)).getsockname()[1]
            async with serve_media_host(realtime_config(media_env, port), host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port, query="?processor=realtime"), compression=None) as ws:
                    await ws.send(metadata_message(24000))
                    await asyncio.sleep(0.3)
                await wait_until_idle(host)
        return model

    model = asyncio.run(scenario())
    assert model.session and "tools" not in model.session
    assert model.after_tool == []  # the tool call is ignored: nothing to run it with


def test_a_tool_we_do_not_offer_is_refused_without_any_action(media_env) -> None:
    async def scenario() -> tuple[ToolCallingModel, FunctionAppStandIn]:
        model = ToolCallingModel(tool="dial_any_number")
        async with function_app_stand_in() as app, serve(model.handler, "127.0.0.1", 0) as fake:
            port = next(iter(fake.sockets)).getsockname()[1]
            config = realtime_config(media_env, port, CALLBACK_BASE_URL=app.base_url)
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port, query="?processor=realtime"), compression=None) as ws:
                    await ws.send(metadata_message(24000))
                    await asyncio.wait_for(model.answered.wait(), 5)
                await wait_until_idle(host)
        return model, app

    model, app = asyncio.run(scenario())
    assert app.of("actions") == []
    output, _ = model.after_tool
    assert output["item"]["call_id"] == "call_transfer_1"
    assert json.loads(output["item"]["output"]) == {"accepted": False, "detail": "unknown tool"}
