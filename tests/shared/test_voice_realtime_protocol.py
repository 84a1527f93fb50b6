from __future__ import annotations

import json

import pytest

from shared.voice_realtime_protocol import (
    AssistantTranscript,
    AudioDelta,
    CallerTranscript,
    OtherEvent,
    RealtimeEndpointError,
    RealtimeProtocolError,
    ResponseDone,
    ResponseStarted,
    ServerError,
    SessionOptions,
    SpeechStarted,
    ToolCallDone,
    TranscriptionFailed,
    append_audio,
    auto_truncates,
    is_azure_voice,
    model_sample_rate,
    parse_server_event,
    realtime_url,
    service_for,
    session_update,
    truncate_item,
)


def test_the_endpoint_decides_the_service() -> None:
    assert service_for("https://res.openai.azure.com", None) == "ga"
    assert service_for("https://res.openai.azure.com/openai/v1", None) == "ga"
    assert service_for("https://res.openai.azure.com/openai/realtime", "2025-04-01-preview") == "preview"
    assert service_for("https://res.services.ai.azure.com/voice-live", "2025-10-01") == "voice_live"
    assert service_for("https://res.cognitiveservices.azure.com/voice-live/realtime", "2025-10-01") == "voice_live"


@pytest.mark.parametrize(("endpoint", "version", "variable"), [
    ("https://res.openai.azure.com", "2025-04-01-preview", "REALTIME_API_VERSION"),  # GA path + api-version
    ("https://res.openai.azure.com/openai/v1", "2025-04-01-preview", "REALTIME_API_VERSION"),
    ("https://res.openai.azure.com/openai/realtime", None, "REALTIME_API_VERSION"),
    ("https://res.services.ai.azure.com/voice-live", None, "REALTIME_API_VERSION"),
    ("https://res.openai.azure.com/somewhere/else", None, "REALTIME_ENDPOINT"),
])
def test_bad_combinations_are_refused_naming_the_variable(endpoint: str, version: str | None,
                                                          variable: str) -> None:
    with pytest.raises(RealtimeEndpointError) as raised:
        service_for(endpoint, version)
    assert raised.value.variable == variable and variable in str(raised.value)


def test_urls_for_ga_preview_and_voice_live() -> None:
    assert realtime_url("ga", "https://res.openai.azure.com", "gpt-realtime", None) == \
        "wss://res.openai.azure.com/openai/v1/realtime?model=gpt-realtime"
    assert realtime_url("preview", "https://res.openai.azure.com/openai/realtime", "dep", "2025-04-01-preview") == \
        "wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=dep"
    assert realtime_url("voice_live", "https://res.services.ai.azure.com/voice-live", "gpt-realtime",
                        "2025-10-01") == \
        "wss://res.services.ai.azure.com/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime"


def test_session_shapes() -> None:
    ga = json.loads(session_update(SessionOptions("ga", "Be kind.", "alloy", "gpt-4o-transcribe")))
    assert ga["type"] == "session.update" and ga["session"]["type"] == "realtime"
    assert ga["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert ga["session"]["audio"]["input"]["transcription"] == {"model": "gpt-4o-transcribe"}
    assert ga["session"]["audio"]["input"]["turn_detection"]["interrupt_response"] is True
    assert ga["session"]["audio"]["output"]["voice"] == "alloy"
    preview = json.loads(session_update(SessionOptions("preview", "Be kind.", "alloy", None)))["session"]
    assert preview["input_audio_format"] == preview["output_audio_format"] == "pcm16"
    assert preview["turn_detection"]["type"] == "server_vad" and preview["input_audio_transcription"] is None


def test_voice_live_session_for_a_phone_line() -> None:
    session = json.loads(session_update(SessionOptions("voice_live", "Be kind.", "en-US-AvaNeural", "azure-speech",
                                                       16000)))["session"]
    assert session["voice"] == {"name": "en-US-AvaNeural", "type": "azure-standard"}
    assert session["turn_detection"]["type"] == "azure_semantic_vad"
    assert session["turn_detection"]["auto_truncate"] is True and session["turn_detection"]["interrupt_response"]
    assert session["input_audio_noise_reduction"] == {"type": "azure_deep_noise_suppression"}
    assert session["input_audio_echo_cancellation"] == {"type": "server_echo_cancellation"}
    assert session["input_audio_sampling_rate"] == 16000 and session["output_audio_format"] == "pcm16_16000hz"
    assert session["input_audio_transcription"] == {"model": "azure-speech"}
    at_24k = json.loads(session_update(SessionOptions("voice_live", "", "alloy", None, 24000)))["session"]
    assert at_24k["voice"] == {"name": "alloy", "type": "openai"}
    assert at_24k["input_audio_sampling_rate"] == 24000 and at_24k["output_audio_format"] == "pcm16"
    assert model_sample_rate("voice_live", 16000) == 16000 and model_sample_rate("ga", 16000) == 24000
    assert auto_truncates("voice_live") and not auto_truncates("ga") and not auto_truncates("preview")
    assert is_azure_voice("en-US-Ava:DragonHDLatestNeural") and not is_azure_voice("verse")


def test_client_events() -> None:
    assert json.loads(append_audio("AAAA")) == {"type": "input_audio_buffer.append", "audio": "AAAA"}
    assert json.loads(truncate_item("item_1", 3020)) == {"type": "conversation.item.truncate", "item_id": "item_1",
                                                         "content_index": 0, "audio_end_ms": 3020}


@pytest.mark.parametrize("name", ["response.output_audio.delta", "response.audio.delta"])
def test_audio_deltas_under_both_names(name: str) -> None:
    event = {"type": name, "delta": "AAAA", "response_id": "r", "item_id": "i"}
    assert parse_server_event(json.dumps(event)) == AudioDelta("AAAA", "r", "i")


@pytest.mark.parametrize("name", ["response.output_audio_transcript.done", "response.audio_transcript.done"])
def test_assistant_transcripts_under_both_names(name: str) -> None:
    assert parse_server_event(json.dumps({"type": name, "transcript": " Hi. "})) == AssistantTranscript("Hi.")


def test_responses_and_failures() -> None:
    assert parse_server_event('{"type":"response.created","response":{"id":"r1"}}') == ResponseStarted("r1")
    assert parse_server_event('{"type":"response.done","response":{"id":"r1","status":"completed"}}') == \
        ResponseDone("r1", "completed")
    failed = {"type": "response.done", "response": {"id": "r2", "status": "failed", "status_details": {
        "type": "failed", "error": {"type": "server_error", "code": "rate_limit_exceeded", "message": "slow down"}}}}
    assert parse_server_event(json.dumps(failed)) == ResponseDone("r2", "failed", None, "rate_limit_exceeded",
                                                                  "slow down")
    cancelled = {"type": "response.done", "response": {"id": "r3", "status": "cancelled",
                                                       "status_details": {"reason": "turn_detected"}}}
    assert parse_server_event(json.dumps(cancelled)) == ResponseDone("r3", "cancelled", "turn_detected")
    assert parse_server_event('{"type":"response.done"}') == ResponseDone(None, "unknown")
    transcription = {"type": "conversation.item.input_audio_transcription.failed", "item_id": "i", "content_index": 0,
                     "error": {"code": "audio_unintelligible", "message": "no"}}
    assert parse_server_event(json.dumps(transcription)) == TranscriptionFailed("i", "audio_unintelligible", "no")
    error = {"type": "error", "error": {"type": "invalid_request_error", "code": "x", "message": "m", "param": "p"}}
    assert parse_server_event(json.dumps(error)) == ServerError("x", "m", "invalid_request_error", "p")


def test_other_events() -> None:
    assert parse_server_event('{"type":"input_audio_buffer.speech_started","item_id":"i","audio_start_ms":5}') == \
        SpeechStarted("i", 5)
    assert parse_server_event('{"type":"conversation.item.input_audio_transcription.completed",'
                              '"item_id":"i","transcript":"yes"}') == CallerTranscript("i", "yes")
    tool = parse_server_event('{"type":"response.function_call_arguments.done","response_id":"r","call_id":"c"}')
    assert isinstance(tool, ToolCallDone) and tool.response_id == "r" and tool.fields["call_id"] == "c"
    assert parse_server_event('{"type":"session.updated"}') == OtherEvent("session.updated")


@pytest.mark.parametrize("message", ["", "nope", "[]", '{"type":1}', "{}"])
def test_malformed_events(message: str) -> None:
    with pytest.raises(RealtimeProtocolError):
        parse_server_event(message)
