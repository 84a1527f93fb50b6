from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.callback_events import (
    CALLBACK_TYPE_PREFIX,
    KNOWN_CALLBACK_TYPES,
    MAX_DETAIL_CHARS,
    MAX_ID_CHARS,
    MAX_PARTICIPANTS,
    MAX_TONES,
    CallAutomationEvent,
    ResultInformation,
    parse_callback_delivery,
    truncate,
)
from shared.json_body import BadRequest, load_json_body

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
CALLBACK_FIXTURES = sorted(path.name for path in FIXTURES.glob("callbacks_*.json"))
CONNECTION_ID = "401f3500-62bd-46a9-8c09-9e1b06caca01"


def fixture(name: str) -> list[dict[str, object]]:
    body = load_json_body((FIXTURES / name).read_bytes(), "application/json")
    assert isinstance(body, list)
    return body


def event(event_type: str, data: dict[str, object] | None = None, **envelope: object) -> dict[str, object]:
    return {
        "id": "e-1",
        "source": f"calling/callConnections/{CONNECTION_ID}",
        "type": CALLBACK_TYPE_PREFIX + event_type,
        "specversion": "1.0",
        "time": "2026-11-25T21:00:00Z",
        "data": {"callConnectionId": CONNECTION_ID, **(data or {})},
        **envelope,
    }


def parse_one(event_type: str, data: dict[str, object] | None = None) -> CallAutomationEvent:
    [parsed] = parse_callback_delivery([event(event_type, data)])
    return parsed


def test_connected_batch() -> None:
    connected, participants, streaming = parse_callback_delivery(fixture("callbacks_connected.json"))
    assert connected.type == "Microsoft.Communication.CallConnected"
    assert connected.name == "CallConnected" and connected.known
    assert connected.call_connection_id == CONNECTION_ID
    assert connected.server_call_id is not None and connected.correlation_id == "5f1b4d6e-2a3c-4b8d-9e0f-1a2b3c4d5e6f"
    assert connected.operation_context == "call-0123456789abcdef0123456789abcdef"
    assert connected.result_information == ResultInformation(code=200, sub_code=0, message="Call connected.")
    assert connected.details == {}
    assert participants.details == {
        "sequenceNumber": 1,
        "participantCount": 2,
        "participants": [
            {"id": "4:+1 555 *** **67", "isMuted": False, "isOnHold": False},
            {"id": "8:acs:98e4...61f3", "isMuted": False, "isOnHold": False},
        ],
    }
    assert streaming.details == {
        "contentType": "Audio",
        "status": "mediaStreamingStarted",
        "statusDetails": "subscriptionStarted",
    }


def test_to_payload_is_compact_json() -> None:
    [disconnect_stream, disconnected] = parse_callback_delivery(fixture("callbacks_disconnected.json"))
    payload = disconnected.to_payload()
    assert payload == {
        "type": "CallDisconnected",
        "id": "d3b2c6e8-2f30-4c74-9c99-3e2b7f604c02",
        "time": "2026-11-25T21:02:07.0000000+00:00",
        "callConnectionId": CONNECTION_ID,
        "correlationId": "5f1b4d6e-2a3c-4b8d-9e0f-1a2b3c4d5e6f",
        "operationContext": "call-0123456789abcdef0123456789abcdef",
        "result": {"code": 200, "subCode": 7000, "message": "The conversation has ended."},
        "details": {
            "sipDetails": {"code": 200, "message": "OK"},
            "q850Details": {"code": 16, "message": "Normal call clearing"},
        },
    }
    assert json.loads(json.dumps(payload)) == payload
    assert disconnect_stream.to_payload()["details"] == {
        "contentType": "Audio",
        "status": "mediaStreamingStopped",
        "statusDetails": "subscriptionStopped",
    }


def test_answer_failed_and_recognize_fixtures() -> None:
    [failed] = parse_callback_delivery(fixture("callbacks_answer_failed.json"))
    assert failed.name == "AnswerFailed" and failed.result_information is not None
    assert failed.result_information.code == 400 and failed.result_information.sub_code == 8523
    [recognized] = parse_callback_delivery(fixture("callbacks_recognize_completed.json"))
    assert recognized.details == {"recognitionType": "dtmf", "dtmfTones": "12#"}


def test_a_single_cloud_event_object_is_accepted() -> None:
    single = fixture("callbacks_answer_failed.json")[0]
    assert parse_callback_delivery(single) == parse_callback_delivery([single])


def test_every_documented_type_is_known() -> None:
    documented = {
        "CallConnected", "CallDisconnected", "ParticipantsUpdated", "AddParticipantSucceeded", "AddParticipantFailed",
        "RemoveParticipantSucceeded", "RemoveParticipantFailed", "CancelAddParticipantSucceeded",
        "CancelAddParticipantFailed", "CallTransferAccepted", "CallTransferFailed", "PlayStarted", "PlayCompleted",
        "PlayFailed", "PlayCanceled", "RecognizeCompleted", "RecognizeFailed", "RecognizeCanceled",
        "ContinuousDtmfRecognitionToneReceived", "ContinuousDtmfRecognitionToneFailed",
        "ContinuousDtmfRecognitionStopped", "SendDtmfTonesCompleted", "SendDtmfTonesFailed", "MediaStreamingStarted",
        "MediaStreamingStopped", "MediaStreamingFailed", "TranscriptionStarted", "TranscriptionStopped",
        "TranscriptionUpdated", "TranscriptionFailed", "HoldFailed", "AnswerFailed", "CreateCallFailed",
        "ConnectFailed", "RecordingStateChanged", "StartRecordingFailed", "MoveParticipantSucceeded",
        "MoveParticipantFailed",
    }  # fmt: skip
    assert documented <= KNOWN_CALLBACK_TYPES
    for name in sorted(KNOWN_CALLBACK_TYPES):
        parsed = parse_one(name)
        assert parsed.known and parsed.name == name
        assert parsed.to_payload()["type"] == name


def test_unknown_types_are_kept() -> None:
    [future, foreign] = parse_callback_delivery(
        [event("SomethingNew", {"whatever": [1, 2]}), {**event("x"), "type": "Contoso.Thing"}]
    )
    assert (future.known, future.name, future.details) == (False, "SomethingNew", {})
    assert (foreign.known, foreign.name) == (False, "Contoso.Thing")


def test_participant_and_transfer_details_are_masked() -> None:
    phone = {"kind": "phoneNumber", "rawId": "4:+447911123456", "phoneNumber": {"value": "+447911123456"}}
    added = parse_one("AddParticipantFailed", {"participant": phone})
    assert added.details == {"participant": "4:+44 791 *** **56"}
    no_raw_id = parse_one("RemoveParticipantSucceeded", {"participant": {"phoneNumber": {"value": "+15551234567"}}})
    assert no_raw_id.details == {"participant": "4:+1 555 *** **67"}
    transfer = parse_one("CallTransferAccepted", {"transferee": phone, "transferTarget": {"rawId": "4:+15551234567"}})
    assert transfer.details == {"transferee": "4:+44 791 *** **56", "transferTarget": "4:+1 555 *** **67"}
    assert "7911123456" not in json.dumps(transfer.to_payload())
    moved = parse_one("MoveParticipantSucceeded", {"participant": phone, "fromCall": "call-abc"})
    assert moved.details == {"participant": "4:+44 791 *** **56", "fromCall": "call-abc"}
    cancel = parse_one("CancelAddParticipantSucceeded", {"invitationId": "inv-1"})
    assert cancel.details == {"invitationId": "inv-1"}


def test_participants_are_bounded_but_counted() -> None:
    participants = [{"identifier": {"rawId": f"4:+1555000{index:04d}"}, "isMuted": True} for index in range(50)]
    parsed = parse_one("ParticipantsUpdated", {"sequenceNumber": 9, "participants": participants})
    assert parsed.details["participantCount"] == 50
    shown = parsed.details["participants"]
    assert isinstance(shown, list) and len(shown) == MAX_PARTICIPANTS
    assert shown[0] == {"id": "4:+1 555 *** **00", "isMuted": True}
    assert not re.search(r"\d{7}", json.dumps(parsed.to_payload()))


def test_recognize_results() -> None:
    speech = parse_one(
        "RecognizeCompleted",
        {"recognitionType": "speech", "speechResult": {"speech": "call me on +1 555 123 4567", "confidence": 0.9}},
    )
    assert speech.details == {"recognitionType": "speech", "speech": "call me on +1 555 *** **67", "confidence": 0.9}
    choice = parse_one(
        "RecognizeCompleted",
        {
            "recognitionType": "choices",
            "choiceResult": {"label": "Sales", "recognizedPhrase": "sales", "confidence": 1},
        },
    )
    assert choice.details == {
        "recognitionType": "choices",
        "choiceLabel": "Sales",
        "recognizedPhrase": "sales",
        "confidence": 1.0,
    }
    keyed_number = [
        "five", "five", "five", "one", "two", "three", "four", "five", "six", "seven",
    ]  # fmt: skip
    dtmf = parse_one("RecognizeCompleted", {"recognitionType": "dtmf", "dtmfResult": {"tones": keyed_number}})
    assert dtmf.details == {"recognitionType": "dtmf", "dtmfTones": "*** **67"}
    failed = parse_one("RecognizeFailed", {"failedPlaySourceIndex": 0, "resultInformation": {"code": 408}})
    assert failed.details == {"failedPlaySourceIndex": 0}
    assert failed.result_information == ResultInformation(code=408, sub_code=None, message=None)


def test_tone_transcription_and_recording_details() -> None:
    tone = parse_one("ContinuousDtmfRecognitionToneReceived", {"tone": "Asterisk", "sequenceId": 3})
    assert tone.details == {"tone": "*", "sequenceId": 3}
    transcription = parse_one(
        "TranscriptionUpdated",
        {"transcriptionUpdate": {"transcriptionStatus": "transcriptionResumed", "transcriptionStatusDetails": "x"}},
    )
    assert transcription.details == {"status": "transcriptionResumed", "statusDetails": "x"}
    recording = parse_one("RecordingStateChanged", {"recordingId": "r1", "state": "active", "recordingKind": "Azure"})
    assert recording.details == {"recordingId": "r1", "state": "active", "recordingKind": "Azure"}


def test_long_strings_are_truncated_and_masked() -> None:
    parsed = parse_one(
        "PlayFailed",
        {
            "operationContext": "x" * 5000,
            "resultInformation": {"code": 500, "message": "+15551234567 " + "m" * 5000},
        },
    )
    assert parsed.operation_context is not None and len(parsed.operation_context) == MAX_DETAIL_CHARS
    assert parsed.result_information is not None and parsed.result_information.message is not None
    assert len(parsed.result_information.message) <= MAX_DETAIL_CHARS + 20
    assert "15551234567" not in parsed.result_information.message
    assert len(json.dumps(parsed.to_payload())) < 2000


def test_integral_floats_are_accepted_as_integers() -> None:
    parsed = parse_one("CallConnected", {"resultInformation": {"code": 200.0, "subCode": 0}})
    assert parsed.result_information == ResultInformation(code=200, sub_code=0, message=None)


def _set(body: object, path: list[str | int], value: object) -> object:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    if value is _DELETE:
        del target[path[-1]]  # type: ignore[attr-defined]
    else:
        target[path[-1]] = value  # type: ignore[index]
    return changed


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected_path"),
    [
        ([0, "data", "callConnectionId"], _DELETE, "[0].data.callConnectionId"),
        ([0, "data", "callConnectionId"], 5, "[0].data.callConnectionId"),
        ([0, "data", "callConnectionId"], "", "[0].data.callConnectionId"),
        ([0, "data", "callConnectionId"], "c" * 2000, "[0].data.callConnectionId"),
        ([0, "data"], _DELETE, "[0].data"),
        ([0, "data"], "text", "[0].data"),
        ([0, "id"], _DELETE, "[0].id"),
        ([0, "type"], _DELETE, "[0].type"),
        ([0, "type"], "Microsoft.Communication.Call/../../x?y=1", "[0].type"),
        ([0, "type"], "", "[0].type"),
        ([0, "type"], "Microsoft.Communication.", "[0].type"),
        ([0, "type"], "Microsoft.Communication..", "[0].type"),
        ([0, "type"], "..", "[0].type"),
        ([0, "type"], "Microsoft.Communication.Call Connected", "[0].type"),
        ([0, "type"], "Microsoft.Communication.CallConnected\n", "[0].type"),
        ([0, "time"], 5, "[0].time"),
        ([0, "data", "serverCallId"], [], "[0].data.serverCallId"),
        ([0, "data", "correlationId"], {}, "[0].data.correlationId"),
        ([0, "data", "operationContext"], 1, "[0].data.operationContext"),
        ([0, "data", "resultInformation"], "ok", "[0].data.resultInformation"),
        ([0, "data", "resultInformation", "code"], "200", "[0].data.resultInformation.code"),
        ([0, "data", "resultInformation", "subCode"], 1.5, "[0].data.resultInformation.subCode"),
        ([0, "data", "resultInformation", "code"], True, "[0].data.resultInformation.code"),
        ([1, "data", "participants"], {}, "[1].data.participants"),
        ([1, "data", "participants", 0], "x", "[1].data.participants[0]"),
        ([1, "data", "participants", 0, "isMuted"], "no", "[1].data.participants[0].isMuted"),
        ([1, "data", "participants", 1, "identifier", "rawId"], 7, "[1].data.participants[1].identifier.rawId"),
        ([2, "data", "mediaStreamingUpdate"], [], "[2].data.mediaStreamingUpdate"),
    ],
)
def test_malformed_callbacks_name_the_path(path: list[str | int], value: object, expected_path: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_callback_delivery(_set(fixture("callbacks_connected.json"), path, value))
    assert caught.value.path == expected_path
    assert caught.value.status == 400


@pytest.mark.parametrize(("body", "expected_path"), [([], ""), (None, ""), ("[]", ""), (7, ""), ([[]], "[0]")])
def test_bad_delivery_shapes(body: object, expected_path: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_callback_delivery(body)
    assert caught.value.path == expected_path


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "type", "data", "callConnectionId", "resultInformation", "participants", "code"])
            | st.text(max_size=5),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_arbitrary_json_raises_only_bad_request(body: object) -> None:
    try:
        events = parse_callback_delivery(body)
    except BadRequest:
        return
    assert events and all(parsed.call_connection_id for parsed in events)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", parsed.name) for parsed in events)


def _node_paths(value: object, prefix: list[str | int]) -> list[list[str | int]]:
    paths: list[list[str | int]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _node_paths(child, [*prefix, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _node_paths(child, [*prefix, index])
    return paths


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_real_callbacks_raise_only_bad_request(data: st.DataObject) -> None:
    body = fixture(data.draw(st.sampled_from(CALLBACK_FIXTURES)))
    path = data.draw(st.sampled_from(_node_paths(body, [])))
    replacement = data.draw(json_values | st.just(_DELETE))
    try:
        events = parse_callback_delivery(_set(body, path, replacement))
    except BadRequest:
        return
    for parsed in events:
        json.dumps(parsed.to_payload())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(KNOWN_CALLBACK_TYPES)), st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_known_types_with_arbitrary_data_raise_only_bad_request(name: str, extra: dict[str, object]) -> None:
    try:
        parsed = parse_one(name, extra)
    except BadRequest:
        return
    assert json.loads(json.dumps(parsed.to_payload()))["type"] == name


def test_limits_are_pinned_at_their_edges() -> None:
    assert (MAX_DETAIL_CHARS, MAX_ID_CHARS, MAX_PARTICIPANTS, MAX_TONES) == (512, 1024, 20, 64)
    assert truncate("x" * 512) == "x" * 512
    assert truncate("x" * 513) == "x" * 509 + "..."
    longest = parse_one("CallConnected", {"callConnectionId": "c" * 1024, "serverCallId": "s" * 1024})
    assert (longest.call_connection_id, longest.server_call_id) == ("c" * 1024, "s" * 1024)
    assert parse_callback_delivery([event("CallConnected", time="t" * 64)])[0].time == "t" * 64
    assert parse_callback_delivery([event("CallConnected", time="t" * 65)])[0].time == "t" * 61 + "..."
    tones = parse_one("RecognizeCompleted", {"dtmfResult": {"tones": ["one"] * 64 + ["two"]}})
    assert tones.details["dtmfTones"] == "1" * 64


def test_status_updates_recordings_and_unknown_tones() -> None:
    streaming = parse_one("MediaStreamingFailed", {"mediaStreamingUpdate": {
        "contentType": "Audio", "mediaStreamingStatus": "mediaStreamingFailed",
        "mediaStreamingStatusDetails": "streamConnectionUnsuccessful"}})
    assert streaming.details == {"contentType": "Audio", "status": "mediaStreamingFailed",
                                 "statusDetails": "streamConnectionUnsuccessful"}
    assert parse_one("TranscriptionStarted").details == {}
    transcription = parse_one("TranscriptionFailed", {"transcriptionUpdate": {
        "transcriptionStatus": "transcriptionFailed", "transcriptionStatusDetails": "speechServicesConnectionError"}})
    assert transcription.details == {"status": "transcriptionFailed", "statusDetails": "speechServicesConnectionError"}
    recording = parse_one("StartRecordingFailed", {"recordingId": "r", "startDateTime": "2026-11-25T21:00:00Z"})
    assert recording.details == {"recordingId": "r", "startDateTime": "2026-11-25T21:00:00Z"}
    assert parse_one("ContinuousDtmfRecognitionToneReceived", {"tone": "eleven"}).details == {"tone": "?"}
    assert parse_one("RecognizeCompleted", {"dtmfResult": {"tones": ["Pound", "bogus", "A"]}}).details == {
        "dtmfTones": "#?A"}
    assert parse_one("PlayFailed", {"failedPlaySourceIndex": 2}).details == {"failedPlaySourceIndex": 2}
    participants = parse_one("ParticipantsUpdated", {"participants": [{"isOnHold": True}]})
    assert participants.details == {"participantCount": 1, "participants": [{"isOnHold": True}]}


def _data_error(event_type: str, data: dict[str, object]) -> tuple[str, str]:
    with pytest.raises(BadRequest) as caught:
        parse_callback_delivery([event(event_type, data)])
    return caught.value.path, caught.value.message


@pytest.mark.parametrize(("event_type", "data", "path", "message"), [
    ("AddParticipantFailed", {"participant": 1}, "[0].data.participant", "expected an object, got number"),
    ("AddParticipantFailed", {"participant": {"rawId": 1}}, "[0].data.participant.rawId",
     "expected a string, got number"),
    ("AddParticipantFailed", {"participant": {"phoneNumber": 1}}, "[0].data.participant.phoneNumber",
     "expected an object, got number"),
    ("AddParticipantFailed", {"participant": {"phoneNumber": {}}}, "[0].data.participant.phoneNumber.value",
     "missing required string 'value'"),
    ("MoveParticipantSucceeded", {"fromCall": 1}, "[0].data.fromCall", "expected a string, got number"),
    ("CancelAddParticipantFailed", {"invitationId": 1}, "[0].data.invitationId", "expected a string, got number"),
    ("CallTransferAccepted", {"transferee": []}, "[0].data.transferee", "expected an object, got array"),
    ("CallTransferAccepted", {"transferTarget": "x"}, "[0].data.transferTarget", "expected an object, got string"),
    ("ParticipantsUpdated", {"sequenceNumber": "1"}, "[0].data.sequenceNumber", "expected an integer, got string"),
    ("ParticipantsUpdated", {"participants": [{"isOnHold": 1}]}, "[0].data.participants[0].isOnHold",
     "expected a boolean"),
    ("PlayFailed", {"failedPlaySourceIndex": "0"}, "[0].data.failedPlaySourceIndex", "expected an integer, got string"),
    ("RecognizeCompleted", {"recognitionType": 1}, "[0].data.recognitionType", "expected a string, got number"),
    ("RecognizeCompleted", {"dtmfResult": 1}, "[0].data.dtmfResult", "expected an object, got number"),
    ("RecognizeCompleted", {"dtmfResult": {"tones": "12"}}, "[0].data.dtmfResult.tones",
     "expected an array, got string"),
    ("RecognizeCompleted", {"dtmfResult": {"tones": ["one", 2]}}, "[0].data.dtmfResult.tones[1]",
     "expected a string tone"),
    ("RecognizeCompleted", {"choiceResult": []}, "[0].data.choiceResult", "expected an object, got array"),
    ("RecognizeCompleted", {"choiceResult": {"label": 1}}, "[0].data.choiceResult.label",
     "expected a string, got number"),
    ("RecognizeCompleted", {"choiceResult": {"recognizedPhrase": 1}}, "[0].data.choiceResult.recognizedPhrase",
     "expected a string, got number"),
    ("RecognizeCompleted", {"choiceResult": {"confidence": "high"}}, "[0].data.choiceResult.confidence",
     "expected a number"),
    ("RecognizeCompleted", {"choiceResult": {"confidence": True}}, "[0].data.choiceResult.confidence",
     "expected a number"),
    ("RecognizeCompleted", {"speechResult": 1}, "[0].data.speechResult", "expected an object, got number"),
    ("RecognizeCompleted", {"speechResult": {"speech": 1}}, "[0].data.speechResult.speech",
     "expected a string, got number"),
    ("RecognizeCompleted", {"speechResult": {"confidence": "x"}}, "[0].data.speechResult.confidence",
     "expected a number"),
    ("ContinuousDtmfRecognitionToneReceived", {"tone": 1}, "[0].data.tone", "expected a string, got number"),
    ("ContinuousDtmfRecognitionToneReceived", {"sequenceId": "1"}, "[0].data.sequenceId",
     "expected an integer, got string"),
    ("MediaStreamingStarted", {"mediaStreamingUpdate": 1}, "[0].data.mediaStreamingUpdate",
     "expected an object, got number"),
    ("MediaStreamingStarted", {"mediaStreamingUpdate": {"contentType": 1}},
     "[0].data.mediaStreamingUpdate.contentType", "expected a string, got number"),
    ("MediaStreamingStarted", {"mediaStreamingUpdate": {"mediaStreamingStatus": 1}},
     "[0].data.mediaStreamingUpdate.mediaStreamingStatus", "expected a string, got number"),
    ("TranscriptionUpdated", {"transcriptionUpdate": {"transcriptionStatusDetails": 1}},
     "[0].data.transcriptionUpdate.transcriptionStatusDetails", "expected a string, got number"),
    ("RecordingStateChanged", {"recordingId": 1}, "[0].data.recordingId", "expected a string, got number"),
    ("RecordingStateChanged", {"state": 1}, "[0].data.state", "expected a string, got number"),
    ("RecordingStateChanged", {"recordingKind": 1}, "[0].data.recordingKind", "expected a string, got number"),
    ("RecordingStateChanged", {"startDateTime": 1}, "[0].data.startDateTime", "expected a string, got number"),
    ("CallDisconnected", {"resultInformation": {"message": 1}}, "[0].data.resultInformation.message",
     "expected a string, got number"),
    ("CallDisconnected", {"resultInformation": {"sipDetails": 1}}, "[0].data.resultInformation.sipDetails",
     "expected an object, got number"),
    ("CallDisconnected", {"resultInformation": {"q850Details": {"code": "16"}}},
     "[0].data.resultInformation.q850Details.code", "expected an integer, got string"),
    ("CallDisconnected", {"resultInformation": {"sipDetails": {"message": 1}}},
     "[0].data.resultInformation.sipDetails.message", "expected a string, got number"),
    ("CallConnected", {"serverCallId": "s" * 1025}, "[0].data.serverCallId", "longer than 1024 characters"),
])
def test_each_detail_field_names_itself_when_malformed(event_type: str, data: dict[str, object], path: str,
                                                       message: str) -> None:
    assert _data_error(event_type, data) == (path, message)


@pytest.mark.parametrize(("body", "path", "message"), [
    ([{**event("CallConnected"), "source": 1}], "[0].source", "expected a string, got number"),
    ([{**event("CallConnected"), "specversion": 1}], "[0].specversion", "expected a string, got number"),
    ([{**event("CallConnected"), "type": "Microsoft.Communication.a/b"}], "[0].type",
     "event type has unexpected characters or length"),
    ({**event("CallConnected"), "id": 1}, "id", "expected a string, got number"),
    ("x", "", "expected an array of CloudEvents"),
    ([], "", "the event array is empty"),
])
def test_bad_deliveries_get_a_400_body(body: object, path: str, message: str) -> None:
    # What the callback endpoint answers with status 400 (BadRequest.to_json()).
    with pytest.raises(BadRequest) as caught:
        parse_callback_delivery(body)
    assert caught.value.to_json() == {"error": "bad_request", "message": message, "path": path}
