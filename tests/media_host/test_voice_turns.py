"""Per-turn voice measurements of a realtime call, end to end: a real ACS-side socket at 16 kHz, the media
host, and the loopback model (realtime_model_fake.py) answering after a fixed think time. The figures are not
asserted (this is no benchmark): the test checks they are present, sane and recorded as metrics."""

from __future__ import annotations

import asyncio
import json

from shared import kpis
from shared.blob_names import media_report_blob
from tests.media_host.realtime_model_fake import Answer, LoopbackRealtimeModel
from tests.media_host.test_realtime_bridge import Caller, call
from tests.media_host.test_server import INSTANCE
from tests.otel_memory import memory_telemetry

THINK = 0.2
FIGURES = (kpis.VOICE_TURN_LATENCY, kpis.VOICE_MODEL_TO_ACS, kpis.VOICE_CALLER_TO_MODEL,
           kpis.VOICE_BARGE_IN_STOP_AUDIO, kpis.VOICE_BARGE_IN_AUDIO_STOPPED, kpis.VOICE_DEAD_AIR)


def realtime_counts(telemetry) -> dict[str, int]:
    return {name: sum(point.count for point in telemetry.points(name)
                      if point.attributes.get("voice.processor") == "realtime") for name in FIGURES}


def test_turns_barge_in_and_dead_air_are_measured_and_recorded(media_env, read_blob) -> None:
    telemetry = memory_telemetry()
    before = realtime_counts(telemetry)
    # Two answers; the caller's third utterance (the barge-in) gets none: dead air until the call ends.
    model = LoopbackRealtimeModel("ga", answers=[Answer(audio_seconds=1.0, think_seconds=THINK),
                                                 Answer(audio_seconds=20.0, think_seconds=THINK)], speed=4.0)

    async def scenario() -> Caller:
        async with call(media_env, model, 16000, MEDIA_DEAD_AIR_SECONDS="1") as caller:
            await caller.say(0.4)
            await caller.until(lambda: len(caller.audio()) >= 50)  # the first answer, in full
            await asyncio.sleep(0.3)
            heard = len(caller.audio())
            await caller.say(0.4)
            await caller.until(lambda: len(caller.audio()) >= heard + 50)  # 1 s into the long answer
            await caller.say(0.4)  # over the agent
            await caller.until(lambda: bool(caller.stops()))
            await asyncio.sleep(1.8)  # unanswered for longer than MEDIA_DEAD_AIR_SECONDS
        return caller

    asyncio.run(scenario())
    turns = json.loads(read_blob(media_report_blob(INSTANCE)))["turns"]
    print("\nturns:", json.dumps(turns))
    assert turns["turns"] == 2 and len(turns["entries"]["turns"]) == 2
    for entry in turns["entries"]["turns"]:
        # From speech_stopped (on the audio clock) to the first frame to ACS: at least the model's think time.
        assert THINK * 1000 <= entry["latencyMs"] < 5000
        assert 0 <= entry["modelToAcsMs"] < entry["latencyMs"] - THINK * 1000 + 1
        assert 0 <= entry["callerToModelMs"] < 1000
    assert turns["latencyMs"]["count"] == 2 and turns["latencyMs"]["p50"] <= turns["latencyMs"]["max"]
    assert turns["bargeIns"] == 1
    (barge_in,) = turns["entries"]["bargeIns"]
    assert 0 <= barge_in["stopAudioMs"] <= barge_in["audioStoppedMs"] < 2000
    assert barge_in["atMs"] > turns["entries"]["turns"][1]["atMs"]
    assert turns["deadAir"]["count"] == 1 and turns["deadAir"]["thresholdMs"] == 1000.0
    (silence,) = turns["entries"]["deadAir"]
    assert 1000 <= silence["durationMs"] < 10000
    assert turns["greetingMs"] is None  # the model spoke only when spoken to
    after = realtime_counts(telemetry)
    assert after[kpis.VOICE_TURN_LATENCY] - before[kpis.VOICE_TURN_LATENCY] == 2
    assert after[kpis.VOICE_MODEL_TO_ACS] - before[kpis.VOICE_MODEL_TO_ACS] == 2
    assert after[kpis.VOICE_CALLER_TO_MODEL] - before[kpis.VOICE_CALLER_TO_MODEL] == 2
    assert after[kpis.VOICE_BARGE_IN_STOP_AUDIO] - before[kpis.VOICE_BARGE_IN_STOP_AUDIO] == 1
    assert after[kpis.VOICE_BARGE_IN_AUDIO_STOPPED] - before[kpis.VOICE_BARGE_IN_AUDIO_STOPPED] == 1
    assert after[kpis.VOICE_DEAD_AIR] - before[kpis.VOICE_DEAD_AIR] == 1


def speak_then_pause(media_env, processor: str, frames: int = 60, **settings: str) -> None:
    """One call: 0.4 s of speech (ACS's `silent` flag off), then silence, to the end of `frames`."""
    from websockets.asyncio.client import connect

    from media_host.config import load_media_host_config
    from media_host.server import serve_media_host
    from tests.media_host.conftest import audio_message, metadata_message
    from tests.media_host.test_processors_and_limits import wait_until_idle
    from tests.media_host.test_server import ws_url

    async def scenario() -> None:
        async with serve_media_host(load_media_host_config(dict(media_env, VOICE_PROCESSOR=processor, **settings)),
                                    host="127.0.0.1", port=0) as host:
            async with connect(ws_url(host.port), compression=None) as ws:
                await ws.send(metadata_message(16000))
                for n in range(frames):
                    await ws.send(audio_message(bytes(640), f"2024-05-27T10:00:{n // 50:02d}.{n % 50 * 20:03d}Z",
                                                silent=n >= 20))
                    await asyncio.sleep(0.02)
            await wait_until_idle(host)

    asyncio.run(scenario())


def test_an_echo_call_has_turns_from_acs_silent_flags(media_env, read_blob) -> None:
    """Without a VAD of its own, the caller's speech is found from ACS's `silent` flag."""
    speak_then_pause(media_env, "echo")
    turns = json.loads(read_blob(media_report_blob(INSTANCE)))["turns"]
    # The echo answers every frame: the end of speech is followed at once by an agent frame.
    assert turns["turns"] == 1 and 0 <= turns["latencyMs"]["max"] < 1000
    assert turns["greetingMs"] is not None and turns["greetingMs"] >= 0


def test_a_transcribe_call_has_no_turns_and_its_silence_is_no_dead_air(media_env, read_blob) -> None:
    """The transcribe processor never answers: the caller's pause after speaking waits for no reply."""
    speak_then_pause(media_env, "transcribe", frames=100, MEDIA_DEAD_AIR_SECONDS="1")  # 1.6 s of pause
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert report["framesReceived"] == 100 and "turns" not in report
