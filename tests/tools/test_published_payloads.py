"""Every payload Microsoft published that we could cite (tests/fixtures/published/README.md names each
source) goes through the product's parsers, and the simulator's encoders produce the same shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.callback_events import parse_callback_delivery
from shared.media_codec import decode_media_message
from tools.acs_simulator import cloud_events as ce
from tools.acs_simulator import media_messages as mm
from tools.acs_simulator import request_schema

PUBLISHED = Path(__file__).resolve().parents[1] / "fixtures" / "published"


def load(name: str) -> Any:
    return json.loads((PUBLISHED / name).read_text())


def keys(value: Any) -> set[str]:
    return set(value) if isinstance(value, dict) else set()


@pytest.mark.parametrize("name, event_type, result", [
    ("java_call_connected.json", "CallConnected", None),
    ("java_recognize_completed_dtmf.json", "RecognizeCompleted", (200, 8533)),
    ("java_play_failed.json", "PlayFailed", (400, 8536)),
    ("java_recognize_failed.json", "RecognizeFailed", (400, 8510)),
])
def test_sdk_parser_fixtures_parse_in_the_product(name: str, event_type: str, result: tuple[int, int] | None) -> None:
    payload = load(name)
    [event] = parse_callback_delivery(payload if isinstance(payload, list) else [payload])
    assert event.name == event_type
    if result is None:
        assert event.result_information is None
    else:
        assert event.result_information is not None
        assert (event.result_information.code, event.result_information.sub_code) == result


def test_simulator_callbacks_match_the_published_codes_and_shape() -> None:
    ids = ce.CallIds("c1", "s1", "r1")
    connected = ce.cloud_event("CallConnected", ids, None, None)
    published = load("java_call_connected.json")
    assert "resultInformation" not in connected["data"] and "resultInformation" not in published["data"]
    assert keys(published) - {"datacontenttype"} <= keys(connected)
    for name, ours in (("java_play_failed.json", ce.PLAY_DOWNLOAD_FAILED),
                       ("java_recognize_failed.json", ce.INITIAL_SILENCE),
                       ("java_recognize_completed_dtmf.json", ce.DTMF_MATCHED)):
        info = load(name)[0]["data"]["resultInformation"]
        assert (info["code"], info["subCode"], info["message"]) == (ours.code, ours.sub_code, ours.message)
    [parsed] = parse_callback_delivery([ce.cloud_event("PlayFailed", ids, "ctx", ce.PLAY_DOWNLOAD_FAILED)])
    assert parsed.result_information is not None and parsed.result_information.sub_code == 8536


def test_docs_transcription_messages_decode_and_match_the_simulator() -> None:
    metadata = load("docs_transcription_metadata.json")
    data = load("docs_transcription_data.json")
    decoded_metadata = decode_media_message(json.dumps(metadata))
    assert type(decoded_metadata).__name__ == "TranscriptionMetadata"
    decoded = decode_media_message(json.dumps(data))
    assert type(decoded).__name__ == "TranscriptionData"
    assert decoded.text == "Testing transcription."  # type: ignore[union-attr]
    ours_metadata = json.loads(mm.transcription_metadata("s", "en-US", "c", "r"))
    assert keys(ours_metadata["transcriptionMetadata"]) == keys(metadata["transcriptionMetadata"])
    ours = json.loads(mm.transcription_data("Testing transcription.", 0.5, 1.0, "4:+14255550100"))
    assert keys(data["transcriptionData"]) <= keys(ours["transcriptionData"])


def test_spec_answer_example_passes_the_request_models_and_shows_source_as_our_identity() -> None:
    example = load("spec_answer_call.json")
    assert request_schema.validate("answer", example["request"]) == []
    response = example["response"]
    assert response["source"]["kind"] == "communicationUser" and "answeredFor" in response
