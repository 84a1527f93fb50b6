from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.media_codec import (
    BYTES_PER_SAMPLE,
    FRAME_MS,
    MAX_AUDIO_MS,
    MAX_DTMF_LENGTH,
    STOP_AUDIO_MESSAGE,
    SUPPORTED_SAMPLE_RATES,
    TICKS_PER_MS,
    AudioData,
    AudioMetadata,
    DtmfData,
    MediaMessageError,
    TranscriptionData,
    TranscriptionMetadata,
    TranscriptionWord,
    UnknownMediaMessage,
    base64_length,
    decode_media_message,
    encode_audio_data,
    encode_audio_data_b64,
    encode_json,
    encode_stop_audio,
    frame_bytes_for,
    max_audio_bytes_for,
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


def test_silent_in_either_casing() -> None:
    def silent_of(body: dict[str, object]) -> bool:
        decoded = decode_media_message(json.dumps({"Kind": "AudioData", "AudioData": {"Data": B64_16K, **body}}))
        assert isinstance(decoded, AudioData) and decoded.data_b64 == B64_16K
        return decoded.silent

    assert silent_of({"Silent": True}) is True
    assert silent_of({"silent": True}) is True
    assert silent_of({}) is False
    assert silent_of({"Silent": None}) is False
    assert silent_of({"silent": None, "Silent": True}) is True
    assert silent_of({"silent": False, "Silent": True}) is False  # camelCase, what ACS sends, wins


def test_optional_fields_take_their_defaults() -> None:
    meta = decode_media_message('{"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000.0}}')
    assert meta == AudioMetadata(None, "PCM", 16000, 1, None) and type(meta.sample_rate) is int
    lower = decode_media_message('{"kind":"AudioMetadata","audioMetadata":{"sampleRate":24000,"encoding":"pcm",'
                                 '"channels":1.0,"length":0}}')
    assert lower == AudioMetadata(None, "pcm", 24000, 1, 0) and lower.frame_bytes == 960
    text = decode_media_message('{"kind":"TranscriptionData","transcriptionData":{"words":[{}]}}')
    assert text == TranscriptionData("", None, None, 0, None, (TranscriptionWord("", None, None),), None, None)
    assert (text.offset_ms, text.duration_ms, text.is_final) == (0, None, False)
    assert decode_media_message('{"kind":"TranscriptionMetadata","transcriptionMetadata":{}}') == (
        TranscriptionMetadata(None, None, None, None))
    frame = decode_media_message(json.dumps({"kind": "AudioData", "audioData": {"data": B64_16K}}))
    assert frame == AudioData(B64_16K, None, None, False) and frame.duration_ms is None


def test_words_in_both_field_namings() -> None:
    words = [{"text": "a", "offset": 0, "duration": 10_000}, {"Text": "b", "offsetInTicks": 20_000,
                                                             "durationInTicks": 30_000}]
    decoded = decode_media_message(json.dumps({"kind": "TranscriptionData", "transcriptionData": {
        "text": "a b", "offset": 0, "format": "display", "words": words}}))
    assert isinstance(decoded, TranscriptionData) and decoded.format == "display"
    assert decoded.words == (TranscriptionWord("a", 0, 10_000), TranscriptionWord("b", 20_000, 30_000))
    assert TICKS_PER_MS == 10_000 and decoded.offset_ms == 0


def test_dtmf_length_edge() -> None:
    assert MAX_DTMF_LENGTH == 32
    longest = "0123456789*#ABCD" * 2
    assert decode_media_message(json.dumps({"kind": "DtmfData", "dtmfData": {"data": longest}})) == DtmfData(longest)


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
    ("message", "error"),
    [
        ("not json", "not valid JSON: "), ("", "not valid JSON: "), ("[]", "message must be a JSON object"),
        ("null", "message must be a JSON object"), ('"AudioData"', "message must be a JSON object"),
        ("{}", "kind must be a string"), ('{"kind": 5}', "kind must be a string"),
        ('{"kind":"AudioData"}', "audioData must be an object"),
        ('{"kind":"AudioData","audioData":[]}', "audioData must be an object"),
        (audio_with(data=None), "data must be a base64 string"), (audio_with(data=5), "data must be a base64 string"),
        (audio_with(data="!!!!" * 214), "audio data is not valid base64: "),
        (audio_with(data=B64_16K[:-1]), "audio data must be non-empty padded base64"),
        (audio_with(data=""), "audio data must be non-empty padded base64"),
        (audio_with(data="===="), "audio data must be a whole number of 16-bit samples"),
        (audio_with(data="AAAA===="), "audio data has surplus base64 padding"),
        (audio_with(silent="no"), "silent must be a boolean"), (audio_with(silent=0), "silent must be a boolean"),
        (audio_with(timestamp=7), "timestamp must be a string"),
        (audio_with(participantRawID=["x"]), "participantRawID must be a string"),
        ('{"kind":"AudioMetadata","audioMetadata":{"sampleRate":8000}}', "sampleRate must be one of (16000, 24000)"),
        ('{"kind":"AudioMetadata","audioMetadata":{}}', "sampleRate is missing"),
        ('{"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000,"channels":2}}',
         "only mono audio (channels=1) is supported"),
        ('{"kind":"AudioMetadata","audioMetadata":{"sampleRate":true}}', "sampleRate must be a number"),
        ('{"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000.5}}', "sampleRate must be an integer"),
        ('{"kind":"AudioMetadata","audioMetadata":{"sampleRate":16000,"encoding":"OPUS"}}',
         "only PCM encoding is supported"),
        ('{"kind":"AudioMetadata","audioMetadata":[]}', "audioMetadata must be an object"),
        ('{"kind":"DtmfData","dtmfData":{}}', "data is missing"),
        ('{"kind":"DtmfData","dtmfData":{"data":1}}', "data must be a string"),
        (json.dumps({"kind": "DtmfData", "dtmfData": {"data": "1" * 33}}), "dtmf data is too long"),
        ('{"kind":"TranscriptionData","transcriptionData":{"text":"a","offset":-1}}', "offset must not be negative"),
        ('{"kind":"TranscriptionData","transcriptionData":{"text":"a","offset":"1"}}', "offset must be a number"),
        ('{"kind":"TranscriptionData","transcriptionData":{"text":"a","confidence":"high"}}',
         "confidence must be a finite number"),
        ('{"kind":"TranscriptionData","transcriptionData":{"text":"a","confidence":false}}',
         "confidence must be a finite number"),
        ('{"kind":"TranscriptionData","transcriptionData":{"text":"a","words":{}}}', "words must be a list"),
        ('{"kind":"TranscriptionData","transcriptionData":{"text":"a","words":[1]}}', "each word must be an object"),
        ('{"kind":"TranscriptionMetadata","transcriptionMetadata":"x"}', "transcriptionMetadata must be an object"),
    ],
)
def test_malformed_input_raises_media_message_error(message: str, error: str) -> None:
    # The message names what is wrong: it is what the media host logs for a refused message.
    with pytest.raises(MediaMessageError) as caught:
        decode_media_message(message)
    assert str(caught.value) == error if not error.endswith(": ") else str(caught.value).startswith(error)


def test_frame_length_is_checked_against_the_stream_format() -> None:
    """`frame_bytes` (older callers): exactly one 20 ms frame, nothing else."""
    assert isinstance(decode_media_message(audio_with(), frame_bytes=640), AudioData)
    unpadded = base64.b64encode(bytes(642)).decode()  # 856 characters, like 640 bytes, but no padding
    for data, frame_bytes in ((B64_16K, 960), (unpadded, 640), (B64_16K[:-2] + "A=", 640)):
        for validate in (True, False):
            with pytest.raises(MediaMessageError, match=f"^audio frame must be {frame_bytes} bytes$"):
                decode_media_message(audio_with(data=data), frame_bytes=frame_bytes, validate_audio=validate)
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
    assert type(frame_bytes_for(16000)) is int
    assert (base64_length(640), base64_length(960), base64_length(1), base64_length(3)) == (856, 1280, 4, 4)


def test_json_encoding_is_compact() -> None:
    assert encode_json({"a": [1, None, "é"]}) == '{"a":[1,null,"é"]}'.encode()


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_arbitrary_input_raises_only_media_message_error(message: str | bytes) -> None:
    try:
        decode_media_message(message)
    except MediaMessageError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _string_rule(value: object) -> tuple[bool, object]:
    return value is None or isinstance(value, str), value


def _count_rule(value: object) -> tuple[bool, object]:
    """A non-negative integer; an integral float counts (JSON has one number type)."""
    ok = value is None or (not isinstance(value, bool) and isinstance(value, (int, float)) and value >= 0
                           and value == int(value))
    return ok, None if value is None or not ok else int(value)  # type: ignore[arg-type]


def _confidence_rule(value: object) -> tuple[bool, object]:
    ok = value is None or (not isinstance(value, bool) and isinstance(value, (int, float)))
    return ok, None if value is None or not ok else float(value)  # type: ignore[arg-type]


# For each (kind, field): the rule the codec applies to that field alone, as (accepted?, decoded value), and
# how to read the decoded value back. Written from the wire format, not from the codec.
FIELD_RULES = {
    ("AudioData", "timestamp"): (_string_rule, lambda m: m.timestamp),
    ("AudioData", "participantRawID"): (_string_rule, lambda m: m.participant_raw_id),
    ("AudioData", "silent"): (lambda v: (v is None or isinstance(v, bool), bool(v)), lambda m: m.silent),
    ("TranscriptionData", "text"): (lambda v: (_string_rule(v)[0], v or ""), lambda m: m.text),
    ("TranscriptionData", "format"): (_string_rule, lambda m: m.format),
    ("TranscriptionData", "resultStatus"): (_string_rule, lambda m: m.result_status),
    ("TranscriptionData", "offset"): (lambda v: (_count_rule(v)[0], _count_rule(v)[1] or 0), lambda m: m.offset_ticks),
    ("TranscriptionData", "duration"): (_count_rule, lambda m: m.duration_ticks),
    ("TranscriptionData", "confidence"): (_confidence_rule, lambda m: m.confidence),
    ("AudioMetadata", "subscriptionId"): (_string_rule, lambda m: m.subscription_id),
    ("AudioMetadata", "length"): (_count_rule, lambda m: m.length),
    ("TranscriptionMetadata", "locale"): (_string_rule, lambda m: m.locale),
    ("DtmfData", "data"): (lambda v: (isinstance(v, str) and len(v) <= 32, v), lambda m: m.data),
}
VALID_BODIES = {
    "AudioData": dict(AUDIO["audioData"]), "TranscriptionData": dict(T_DATA["transcriptionData"]),
    "AudioMetadata": dict(METADATA["audioMetadata"]), "TranscriptionMetadata": dict(T_META["transcriptionMetadata"]),
    "DtmfData": dict(DTMF["dtmfData"]),
}


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(FIELD_RULES)), json_values, st.booleans())
def test_any_json_value_in_one_field_is_taken_or_refused_by_that_fields_rule(
    kind_and_field: tuple[str, str], value: object, capital: bool
) -> None:
    """Both sides: a value the field's rule allows decodes to exactly that value; any other is refused."""
    kind, name = kind_and_field
    rule, read = FIELD_RULES[kind_and_field]
    message = {"kind": kind, kind[:1].lower() + kind[1:]: {**VALID_BODIES[kind], name: value}}
    accepted, expected = rule(value)
    encoded = json.dumps(pascal(message) if capital else message)
    if accepted:
        assert read(decode_media_message(encoded)) == expected
    else:
        with pytest.raises(MediaMessageError):
            decode_media_message(encoded)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SUPPORTED_SAMPLE_RATES), st.data(), st.booleans(), st.booleans())
def test_audio_of_any_whole_number_of_samples_up_to_one_second_is_taken(
    rate: int, data: st.DataObject, capital: bool, validate: bool
) -> None:
    samples = data.draw(st.integers(1, rate))  # up to 1 s (MAX_AUDIO_MS) at the stream's rate
    pcm = data.draw(st.binary(min_size=samples * 2, max_size=samples * 2))
    silent = data.draw(st.booleans())
    body = {"data": base64.b64encode(pcm).decode(), "silent": silent}
    message = {"kind": "AudioData", "audioData": body}
    decoded = decode_media_message(json.dumps(pascal(message) if capital else message), sample_rate=rate,
                                   validate_audio=validate)
    assert isinstance(decoded, AudioData)
    assert (decoded.pcm, decoded.silent, decoded.timestamp, decoded.participant_raw_id) == (pcm, silent, None, None)
    assert (decoded.byte_length, decoded.sample_count, decoded.sample_rate) == (len(pcm), samples, rate)
    assert decoded.duration_ms == pytest.approx(samples * 1000 / rate)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SUPPORTED_SAMPLE_RATES), st.data(), st.booleans())
def test_audio_of_a_half_sample_or_over_one_second_is_refused(rate: int, data: st.DataObject, validate: bool) -> None:
    size = data.draw(st.one_of(st.integers(0, 2 * rate).map(lambda n: 2 * n + 1),  # odd: a half sample
                               st.integers(rate + 1, 2 * rate).map(lambda n: 2 * n)))  # whole, but over 1 s
    message = audio_with(data=base64.b64encode(bytes(size)).decode())
    with pytest.raises(MediaMessageError):
        decode_media_message(message, sample_rate=rate, validate_audio=validate)


def test_audio_length_edges() -> None:
    assert (MAX_AUDIO_MS, BYTES_PER_SAMPLE, FRAME_MS, SUPPORTED_SAMPLE_RATES) == (1000, 2, 20, (16000, 24000))
    assert type(max_audio_bytes_for(16000)) is int
    assert (max_audio_bytes_for(16000), max_audio_bytes_for(24000), max_audio_bytes_for(None)) == (32000, 48000,
                                                                                                  48000)

    def audio(size: int) -> str:
        return audio_with(data=base64.b64encode(bytes(size)).decode())

    for rate, longest in ((16000, 32000), (24000, 48000), (None, 48000)):
        decoded = decode_media_message(audio(longest), sample_rate=rate)
        assert isinstance(decoded, AudioData) and decoded.sample_count == longest // 2
        assert decoded.duration_ms == (None if rate is None else 1000.0)
        with pytest.raises(MediaMessageError, match="^audio data longer than 1000 ms$"):
            decode_media_message(audio(longest + 2), sample_rate=rate)
    shortest = decode_media_message(audio(2), sample_rate=16000)
    assert isinstance(shortest, AudioData) and (shortest.sample_count, shortest.duration_ms) == (1, 0.0625)
    one_frame = decode_media_message(audio_with(), sample_rate=16000)
    assert isinstance(one_frame, AudioData) and (one_frame.sample_count, one_frame.duration_ms) == (320, 20.0)
    with pytest.raises(MediaMessageError, match="^audio data must be a whole number of 16-bit samples$"):
        decode_media_message(audio(641), sample_rate=16000)
