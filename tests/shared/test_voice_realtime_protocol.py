from __future__ import annotations

import json

import pytest

from shared.voice_realtime_protocol import (
    AssistantTranscript,
    AudioDelta,
    CallerTranscript,
    OtherEvent,
    RealtimeProtocolError,
    ResponseDone,
    ResponseStarted,
    ServerError,
    SpeechStarted,
    append_audio,
    cancel_response,
    parse_server_event,
    realtime_url,
    session_update,
)


def test_urls_for_ga_preview_and_voice_live() -> None:
    assert realtime_url("https://res.openai.azure.com", "gpt-realtime", None) == \
        "wss://res.openai.azure.com/openai/v1/realtime?model=gpt-realtime"
    assert realtime_url("https://res.openai.azure.com/", "dep", "2025-04-01-preview") == \
        "wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=dep"
    assert realtime_url("https://res.services.ai.azure.com/voice-live/realtime", "gpt-realtime", "2025-10-01") == \
        "wss://res.services.ai.azure.com/voice-live/realtime?model=gpt-realtime&api-version=2025-10-01"


def test_session_shapes() -> None:
    ga = json.loads(session_update("ga", "Be kind.", "alloy", "whisper-1"))
    assert ga["type"] == "session.update" and ga["session"]["type"] == "realtime"
    assert ga["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert ga["session"]["audio"]["input"]["transcription"] == {"model": "whisper-1"}
    assert ga["session"]["audio"]["output"]["voice"] == "alloy"
    preview = json.loads(session_update("preview", "Be kind.", "alloy", None))["session"]
    assert preview["input_audio_format"] == preview["output_audio_format"] == "pcm16"
    assert preview["turn_detection"]["type"] == "server_vad" and preview["input_audio_transcription"] is None


def test_client_events() -> None:
    assert json.loads(append_audio("AAAA")) == {"type": "input_audio_buffer.append", "audio": "AAAA"}
    assert json.loads(cancel_response()) == {"type": "response.cancel"}


@pytest.mark.parametrize("name", ["response.output_audio.delta", "response.audio.delta"])
def test_audio_deltas_under_both_names(name: str) -> None:
    assert parse_server_event(json.dumps({"type": name, "delta": "AAAA"})) == AudioDelta("AAAA")


@pytest.mark.parametrize("name", ["response.output_audio_transcript.done", "response.audio_transcript.done"])
def test_assistant_transcripts_under_both_names(name: str) -> None:
    assert parse_server_event(json.dumps({"type": name, "transcript": " Hi. "})) == AssistantTranscript("Hi.")


def test_other_events() -> None:
    assert parse_server_event('{"type":"input_audio_buffer.speech_started","item_id":"i","audio_start_ms":5}') == \
        SpeechStarted("i", 5)
    assert parse_server_event('{"type":"conversation.item.input_audio_transcription.completed",'
                              '"item_id":"i","transcript":"yes"}') == CallerTranscript("i", "yes")
    assert parse_server_event('{"type":"response.created"}') == ResponseStarted()
    assert parse_server_event('{"type":"response.done"}') == ResponseDone()
    assert parse_server_event('{"type":"error","error":{"code":"x","message":"m"}}') == ServerError("x", "m")
    assert parse_server_event('{"type":"session.updated"}') == OtherEvent("session.updated")


@pytest.mark.parametrize("message", ["", "nope", "[]", '{"type":1}', "{}"])
def test_malformed_events(message: str) -> None:
    with pytest.raises(RealtimeProtocolError):
        parse_server_event(message)
