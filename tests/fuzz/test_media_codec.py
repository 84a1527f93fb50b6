"""Property: the media codec decodes or raises MediaMessageError for any text or bytes a peer may send."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.media_codec import MediaMessageError, decode_media_message
from tests.fuzz.strategies import json_values, mutated

QUICK = settings(max_examples=400, deadline=None)
SEEDS = [
    {"kind": "AudioMetadata", "audioMetadata": {"subscriptionId": "s", "encoding": "PCM", "sampleRate": 16000,
                                                "channels": 1, "length": 640}},
    {"kind": "AudioData", "audioData": {"timestamp": "2024-05-27T10:00:00.000Z", "participantRawID": "4:+1555",
                                        "data": base64.b64encode(bytes(640)).decode(), "silent": False}},
    {"kind": "DtmfData", "dtmfData": {"data": "3"}},
    {"kind": "TranscriptionData", "transcriptionData": {"text": "hi", "format": "display", "confidence": 0.9,
                                                        "offset": 1, "duration": 2, "words": [{"text": "hi"}],
                                                        "participantRawID": "4:+1555", "resultStatus": "Final"}},
    {"kind": "TranscriptionMetadata", "transcriptionMetadata": {"subscriptionId": "s", "locale": "en-US"}},
]
messages = st.one_of(
    st.text(max_size=300), st.binary(max_size=300), json_values.map(json.dumps),
    *(mutated(seed).map(json.dumps) for seed in SEEDS))


@QUICK
@given(messages, st.sampled_from([None, 640, 960]), st.booleans())
def test_decode_never_raises_anything_else(message: str | bytes, frame_bytes: int | None, validate: bool) -> None:
    try:
        decode_media_message(message, frame_bytes=frame_bytes, validate_audio=validate)
    except MediaMessageError:
        pass
