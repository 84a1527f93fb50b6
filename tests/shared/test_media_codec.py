from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.media_codec import (
    STOP_AUDIO_MESSAGE,
    AudioData,
    AudioMetadata,
    DtmfData,
    MediaMessageError,
    TranscriptionData,
    TranscriptionMetadata,
    UnknownMediaMessage,
    base64_length,
    decode_media_message,
    encode_audio_data,
    encode_audio_data_b64,
    encode_stop_audio,
    frame_bytes_for,
)

PCM_16K = bytes(range(256)) * 2 + bytes(128)  # 640 bytes
B64_16K = base64.b64encode(PCM_16K).decode()


def pascal(obj: object) -> object:
    """The same message with every key in PascalCase."""
    if isinstance(obj, dict):
        return {key[:1].upper() + key[1:]: pascal(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [pascal(item) for item in obj]
    return obj


AUDIO = {"kind": "AudioData", "audioData": {"timestamp": "2024-05-27T10:12:33.123Z",
                                             "participantRawID": "4:+15551234567", "data": B64_16K,
                                             "silent": False}}
METADATA = {"kind": "AudioMetadata", "audioMetadata": {"subscriptionId": "sub-1", "encoding": "PCM",
                                                       "sampleRate": 24000, "channels": 1, "length": 960}}
DTMF = {"kind": "DtmfData", "dtmfData": {"data": "3"}}
T_META = {"kind": "TranscriptionMetadata", "transcriptionMetadata": {"subscriptionId": "s", "locale": "en-US",
                                                                     "callConnectionId": "cc", "correlationId": "co"}}
T_DATA = {"kind": "TranscriptionData", "transcriptionData": {
    "text": "Hello there.", "format": "display", "confidence": 0.91, "offset": 12_345_678, "duration": 9_000_000,
    "words": [{"text": "Hello", "offset": 12_345_678, "duration": 4_000_000}],
    "participantRawID": "4:+15551234567", "resultStatus": "Final"}}


@pytest.mark.parametrize("casing", [lambda m: m, pascal], ids=["camel", "pascal"])
def test_every_kind_decodes_in_both_casings(casing) -> None:
    audio = decode_media_message(json.dumps(casing(AUDIO)))
    assert isinstance(audio, AudioData)
    assert audio.pcm == PCM_16K and audio.data_b64 == B64_16K and audio.byte_length == 640
    assert audio.participant_raw_id == "4:+15551234567" and audio.silent is False
    assert audio.timestamp == "2024-05-27T10:12:33.123Z"

    meta = decode_media_message(json.dumps(casing(METADATA)))
    assert meta == AudioMetadata("sub-1", "PCM", 24000, 1, 960) and meta.frame_bytes == 960

    assert decode_media_message(json.dumps(casing(DTMF))) == DtmfData("3")
    assert decode_media_message(json.dumps(casing(T_META))) == TranscriptionMetadata("s", "en-US", "cc", "co")

    text = decode_media_message(json.dumps(casing(T_DATA)))
    assert isinstance(text, TranscriptionData)
    assert text.is_final and text.text == "Hello there." and text.confidence == pytest.approx(0.91)
    # 100-ns ticks to milliseconds
    assert text.offset_ms == 1234 and text.duration_ms == 900
    assert text.words[0].text == "Hello" and text.participant_raw_id == "4:+15551234567"


def test_bytes_input_and_intermediate_results() -> None:
    message = dict(T_DATA, transcriptionData=dict(T_DATA["transcriptionData"], resultStatus="Intermediate"))
    decoded = decode_media_message(json.dumps(message).encode())
    assert isinstance(decoded, TranscriptionData) and not decoded.is_final


def test_older_sdk_field_names_for_transcription_are_accepted() -> None:
    body = {"text": "hi", "offsetInTicks": 20_000, "durationInTicks": 10_000, "resultState": "final"}
    decoded = decode_media_message(json.dumps({"kind": "TranscriptionData", "transcriptionData": body}))
    assert isinstance(decoded, TranscriptionData)
    assert (decoded.offset_ms, decoded.duration_ms, decoded.is_final) == (2, 1, True)


def test_unknown_kind_is_kept_not_an_error() -> None:
    decoded = decode_media_message('{"kind":"FutureThing","futureThing":{"x":1}}')
    assert isinstance(decoded, UnknownMediaMessage) and decoded.kind == "FutureThing"
    assert decoded.payload["futureThing"] == {"x": 1}


def audio_with(**changes: object) -> str:
    return json.dumps({"kind": "AudioData", "audioData": dict(AUDIO["audioData"], **changes)})


@pytest.mark.parametrize(
    "message",
    [
        "not json", "", "[]", "null", '"AudioData"', "{}", '{"kind": 5}', '{"kind":"AudioData"}',
        '{"kind":"AudioData","audioData":[]}', audio_with(data=None), audio_with(data=5),
        audio_with(data="!!!!" * 214), audio_with(data=B64_16K[:-4]), audio_with(data=""),
        audio_with(silent="no"), audio_with(timestamp=7), audio_with(participantRawID=["x"]),
        '{"kind":"AudioMetadata","audioMetadata":{"sampleRate":8000}}',
        '{"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000,"channels":2}}',
        '{"kind":"AudioMetadata","audioMetadata":{"sampleRate":true}}',
        '{"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000,"encoding":"OPUS"}}',
        '{"kind":"DtmfData","dtmfData":{}}', '{"kind":"DtmfData","dtmfData":{"data":1}}',
        '{"kind":"TranscriptionData","transcriptionData":{"text":"a","offset":-1}}',
        '{"kind":"TranscriptionData","transcriptionData":{"text":"a","offset":"1"}}',
        '{"kind":"TranscriptionData","transcriptionData":{"text":"a","confidence":"high"}}',
        '{"kind":"TranscriptionData","transcriptionData":{"text":"a","words":{}}}',
        '{"kind":"TranscriptionData","transcriptionData":{"text":"a","words":[1]}}',
        '{"kind":"TranscriptionMetadata","transcriptionMetadata":"x"}',
    ],
)
def test_malformed_input_raises_media_message_error(message: str) -> None:
    with pytest.raises(MediaMessageError):
        decode_media_message(message)


def test_frame_length_is_checked_against_the_stream_format() -> None:
    assert isinstance(decode_media_message(audio_with(), frame_bytes=640), AudioData)
    with pytest.raises(MediaMessageError):
        decode_media_message(audio_with(), frame_bytes=960)
    odd = base64.b64encode(bytes(639)).decode()
    with pytest.raises(MediaMessageError):
        decode_media_message(audio_with(data=odd))


def test_without_validation_the_payload_is_decoded_only_on_demand() -> None:
    bad = "!" * 854 + "=="  # the shape of 640 bytes of base64, but not base64
    frame = decode_media_message(audio_with(data=bad), frame_bytes=640, validate_audio=False)
    assert isinstance(frame, AudioData) and frame.byte_length == 640
    with pytest.raises(MediaMessageError):
        _ = frame.pcm


def test_outbound_messages_match_the_acs_wire_format() -> None:
    assert json.loads(encode_audio_data(PCM_16K)) == {"Kind": "AudioData", "AudioData": {"Data": B64_16K},
                                                      "StopAudio": None}
    assert encode_audio_data_b64(B64_16K) == encode_audio_data(PCM_16K)
    assert json.loads(encode_stop_audio()) == {"Kind": "StopAudio", "AudioData": None, "StopAudio": {}}
    assert encode_stop_audio() == STOP_AUDIO_MESSAGE


def test_outbound_audio_decodes_with_our_own_decoder() -> None:
    decoded = decode_media_message(encode_audio_data(PCM_16K))
    assert isinstance(decoded, AudioData) and decoded.pcm == PCM_16K


def test_frame_sizes() -> None:
    assert (frame_bytes_for(16000), frame_bytes_for(24000)) == (640, 960)
    assert (base64_length(640), base64_length(960)) == (856, 1280)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_arbitrary_input_raises_only_media_message_error(message: str | bytes) -> None:
    try:
        decode_media_message(message)
    except MediaMessageError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
kinds = st.sampled_from(["AudioData", "AudioMetadata", "DtmfData", "TranscriptionData", "TranscriptionMetadata"])
keys = st.sampled_from(["data", "silent", "timestamp", "sampleRate", "channels", "encoding", "text", "offset",
                        "duration", "confidence", "words", "resultStatus", "participantRawID", "length"])


@settings(max_examples=400, deadline=None)
@given(kinds, st.dictionaries(keys, json_values, max_size=6), st.booleans())
def test_structured_garbage_raises_only_media_message_error(kind: str, body: dict, capital: bool) -> None:
    container = kind[:1].lower() + kind[1:]
    message = {"kind": kind, (container[:1].upper() + container[1:]) if capital else container: body}
    try:
        decode_media_message(json.dumps(message))
    except MediaMessageError:
        pass


def test_audio_decode_hot_path_is_cheap() -> None:
    """Not a benchmark: a guard that AudioData decoding stays in the microseconds (measured ~2 us)."""
    message = audio_with()
    count = 2000
    started = time.perf_counter()
    for _ in range(count):
        decode_media_message(message, frame_bytes=640, validate_audio=False)
    per_message = (time.perf_counter() - started) / count
    assert per_message < 1e-3  # 500x the measured cost: catches a re-encode or a quadratic, not noise
