"""Caller-silence reports from the media host: a real `websockets` client plays ACS, a loopback HTTP server
plays the function app. The clock is the call's audio (20 ms a frame), so frames can be sent fast."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from media_host.config import load_media_host_config
from media_host.server import serve_media_host
from shared.settings import SettingsError
from tests.media_host.conftest import audio_message, metadata_message, transcription_message
from tests.media_host.function_app_stand_in import FunctionAppStandIn, function_app_stand_in
from tests.media_host.test_processors_and_limits import wait_until_idle
from tests.media_host.test_server import INSTANCE, ws_url

FRAME = bytes(640)  # 20 ms at 16 kHz
SPEECH = bytes([0, 16]) * 320


def timestamp(frame: int) -> str:
    ms = frame * 20
    return f"2024-05-27T10:{ms // 60000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"


async def send_frames(ws, first: int, count: int, silent: bool) -> int:
    for n in range(first, first + count):
        await ws.send(audio_message(FRAME if silent else SPEECH, timestamp(n), silent=silent))
    return first + count


def test_silence_is_reported_with_the_call_token_and_speech_resets_it(media_env) -> None:
    async def scenario() -> tuple[FunctionAppStandIn, list[dict]]:
        async with function_app_stand_in() as app:
            config = load_media_host_config(dict(media_env, CALLBACK_BASE_URL=app.base_url,
                                                 CALLER_SILENCE_SECONDS="1"))
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port), compression=None) as ws:
                    await ws.send(metadata_message(16000))
                    frame = await send_frames(ws, 0, 60, silent=True)  # 1.2 s of silence: one report at 1 s
                    first = await app.wait_for("silence", 1)
                    assert [r.body for r in first] == [{"silentMs": 1000, "utterances": 0}]
                    frame = await send_frames(ws, frame, 10, silent=False)  # the caller speaks until 1.4 s
                    await ws.send(transcription_message("hello", 12_000_000, 2_000_000))
                    await send_frames(ws, frame, 80, silent=True)  # silent again until 3.0 s
                    await app.wait_for("silence", 2)
                    await asyncio.sleep(0.2)  # a third report would be a bug
                await wait_until_idle(host)
        return app, [r.body for r in app.of("silence")]

    app, bodies = asyncio.run(scenario())
    # Without the reset the second report would come at 2.0 s, 2000 ms silent. Two utterances: the speech
    # after the report (the flow needs it when ACS transcribes nothing) and the final transcript.
    assert bodies == [{"silentMs": 1000, "utterances": 0}, {"silentMs": 1600, "utterances": 2}]
    token = ws_url(0).rsplit("/", 1)[1]
    assert all(r.instance_id == INSTANCE and r.query == {"token": token} for r in app.of("silence"))
    assert all(r.headers["Content-Type"] == "application/json" for r in app.of("silence"))


def test_without_the_setting_nothing_is_reported(media_env) -> None:
    async def scenario() -> FunctionAppStandIn:
        async with function_app_stand_in() as app:
            config = load_media_host_config(dict(media_env, CALLBACK_BASE_URL=app.base_url))
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port), compression=None) as ws:
                    await ws.send(metadata_message(16000))
                    await send_frames(ws, 0, 150, silent=True)
                    await asyncio.sleep(0.3)
                await wait_until_idle(host)
        return app

    assert asyncio.run(scenario()).of("silence") == []


def test_a_failing_function_app_does_not_disturb_the_call(media_env) -> None:
    async def scenario() -> tuple[FunctionAppStandIn, int | None]:
        async with function_app_stand_in() as app:
            app.status = 400  # final: the client does not retry, the call goes on
            config = load_media_host_config(dict(media_env, CALLBACK_BASE_URL=app.base_url,
                                                 CALLER_SILENCE_SECONDS="1"))
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port, query="?processor=echo"), compression=None) as ws:
                    await ws.send(metadata_message(16000))
                    for n in range(150):
                        await ws.send(audio_message(FRAME, timestamp(n), silent=True))
                        await asyncio.wait_for(ws.recv(), 2)  # the echo keeps coming back
                    await app.wait_for("silence", 3)
                    code = ws.close_code
                await wait_until_idle(host)
        return app, code

    app, code = asyncio.run(scenario())
    assert code is None
    assert [r.body["silentMs"] for r in app.of("silence")] == [1000, 2000, 3000]


@pytest.mark.parametrize("value", ["-1", "601", "soon"])
def test_a_bad_silence_setting_names_the_variable(media_env, value: str) -> None:
    with pytest.raises(SettingsError, match="CALLER_SILENCE_SECONDS"):
        load_media_host_config(dict(media_env, CALLER_SILENCE_SECONDS=value))


def test_speech_after_a_report_is_an_utterance_without_any_transcript(media_env) -> None:
    """Without ACS transcription the flow still sees that the caller answered its re-prompt."""

    async def scenario() -> list[object]:
        async with function_app_stand_in() as app:
            config = load_media_host_config(dict(media_env, CALLBACK_BASE_URL=app.base_url,
                                                 CALLER_SILENCE_SECONDS="1"))
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port), compression=None) as ws:
                    await ws.send(metadata_message(16000))
                    frame = await send_frames(ws, 0, 50, silent=True)
                    frame = await send_frames(ws, frame, 5, silent=False)
                    frame = await send_frames(ws, frame, 5, silent=True)
                    frame = await send_frames(ws, frame, 5, silent=False)  # same turn: not counted again
                    await send_frames(ws, frame, 85, silent=True)  # until 3.0 s
                    await app.wait_for("silence", 2)
                    await asyncio.sleep(0.2)
                await wait_until_idle(host)
        return [r.body for r in app.of("silence")]

    assert asyncio.run(scenario()) == [{"silentMs": 1000, "utterances": 0}, {"silentMs": 1700, "utterances": 1}]


def test_silence_is_timed_by_audio_duration_whatever_the_frame_size(media_env) -> None:
    # 60 ms AudioData (1920 bytes at 16 kHz): nothing published promises 20 ms frames, and the clock is the
    # call's audio, so 17 of them (1.02 s) make the first report, 16 (0.96 s) do not.
    async def scenario() -> list[dict]:
        async with function_app_stand_in() as app:
            config = load_media_host_config(dict(media_env, CALLBACK_BASE_URL=app.base_url,
                                                 CALLER_SILENCE_SECONDS="1"))
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port), compression=None) as ws:
                    await ws.send(metadata_message(16000))
                    for n in range(16):
                        await ws.send(audio_message(bytes(1920), timestamp(3 * n), silent=True))
                    await asyncio.sleep(0.3)
                    assert app.of("silence") == []
                    await ws.send(audio_message(bytes(1920), timestamp(48), silent=True))
                    await app.wait_for("silence", 1)
                await wait_until_idle(host)
        return [r.body for r in app.of("silence")]

    assert asyncio.run(scenario()) == [{"silentMs": 1020, "utterances": 0}]
