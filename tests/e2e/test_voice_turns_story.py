"""A simulated voice-agent call tells each turn: the ACS simulator's caller speaks three times (the third over
the agent's long answer), the real media host bridges the call with the `realtime` processor to the loopback
model (tests/media_host/realtime_model_fake.py, answering after a fixed think time), and the real function
app, through Durable, keeps the media report. The call's story must place each turn, the barge-in and the
dead air on its timeline, between the connect and the end; the email must carry the one-line summary.
Figures are checked for presence and sanity only (no benchmark here: bench.voice_load measures)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import serve

from shared.call_lifecycle import parse_time
from tests.e2e.test_observability import story
from tests.media_host.realtime_model_fake import Answer, LoopbackRealtimeModel, tone
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import parse_scenario
from tools.local_stack import local_stack

THINK = 0.2
TIME_SCALE = 0.2


@pytest.fixture
def model_port() -> Iterator[int]:
    """The loopback model on its own event loop (the stack and the scenario run their own)."""
    model = LoopbackRealtimeModel("ga", answers=[Answer(audio_seconds=1.0, think_seconds=THINK),
                                                 Answer(audio_seconds=20.0, think_seconds=THINK)], speed=4.0)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> Any:
        return await serve(model.handler, "127.0.0.1", 0, compression=None, max_size=2**24)

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield next(iter(server.sockets)).getsockname()[1]
    finally:
        async def stop() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def speech_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(tone(16000, 0.6))
    return path


def test_each_turn_barge_in_and_dead_air_is_on_the_story_timeline(azurite_connection_string: str, tmp_path: Path,
                                                                   model_port: int) -> None:
    speech = str(speech_wav(tmp_path / "speech.wav"))
    # Asked at 0.5 s (answered for 1 s, heard by about 3 s), at 4.5 s (a 20 s answer), over that answer at 7.5 s
    # (never answered: dead air until the caller hangs up at 11 s). Seconds apart, so a slow machine does not
    # turn the second question into a barge-in.
    scenario = parse_scenario({
        "name": "voice_turns", "caller": "+14255550100", "callee": "+18005550199",
        "utterances": [{"text": "Hello?", "audio": speech, "at_s": at} for at in (0.5, 4.5, 7.5)],
        "hangup": {"by": "caller", "at_s": 11.0}, "max_wait_s": 30, "expect_emails": 1, "email_wait_s": 30})
    settings = {"VOICE_PROCESSOR": "realtime", "REALTIME_ENDPOINT": f"http://127.0.0.1:{model_port}",
                "REALTIME_DEPLOYMENT": "gpt-realtime", "REALTIME_API_KEY": "test-key", "MEDIA_DEAD_AIR_SECONDS": "1"}
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings=settings) as stack:
        result = asyncio.run(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                          signer=stack.signer))
        assert result.validation_ok, result.errors
        (answer,) = stack.simulator.requests_for("answer")
        instance_id = answer.json["operationContext"]
        assert stack.wait_for_call(instance_id, timeout=90)["runtimeStatus"] == "Completed"
        told = story(stack, instance_id)
        (message,) = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                      for path in sorted(stack.eml_dir.glob("*.eml"))]

    timeline = told["timeline"]
    turns = [entry for entry in timeline if entry["event"] == "turn"]
    (barge_in,) = [entry for entry in timeline if entry["event"] == "barge_in"]
    dead_air = [entry for entry in timeline if entry["event"] == "dead_air"]
    media = told["media"]
    assert len(turns) == media["turns"] >= 2 and media["bargeIns"] == 1
    assert len(dead_air) == media["deadAirCount"] >= 1
    connected, ended = parse_time(told["connectedAt"]), parse_time(told["endedAt"])
    assert connected is not None and ended is not None
    for entry in [*turns, barge_in, *dead_air]:
        at = parse_time(entry["at"])
        assert at is not None and connected < at <= ended, entry
    for entry in turns:
        # From speech_stopped (on the audio clock) to the first agent frame to ACS: at least the think time.
        assert THINK * 1000 <= entry["latencyMs"] < 5000 and "model to ACS" in entry["detail"]
    assert turns[1]["at"] < barge_in["at"] < dead_air[-1]["at"]  # one clock, one ISO format: text order is time order
    assert 0 <= barge_in["stopAudioMs"] < 2000 and dead_air[-1]["durationMs"] >= 1000
    assert media["turnLatencyP50Ms"] <= media["turnLatencyMaxMs"]
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Voice: {media['turns']} turn(s); latency p50 {media['turnLatencyP50Ms']} ms" in plain
    assert "1 barge-in(s)" in plain and "turnTimeline" not in plain
