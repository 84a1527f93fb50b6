"""Recording actions: refused up front by state, settled by their request, the id kept from the start's result."""

from __future__ import annotations

import pytest

from shared import call_progress as control
from shared.action_availability import CallFacts, unavailable_reason
from shared.call_actions import (
    PAUSE_RECORDING,
    RESUME_RECORDING,
    START_RECORDING,
    STOP_RECORDING,
    CallAction,
    Prompt,
    action_from_payload,
    parse_action_request,
)
from shared.call_flow_settings import CallFlowSettings, flow_from_dict, load_call_flow_settings
from shared.call_recording import Recording, activity_fields
from shared.recording_settings import RecordingSettings, load_recording_settings
from shared.settings import SettingsError
from tests.shared.test_call_progress import T0, connected, events

FACTS = CallFacts(caller_kind="phoneNumber", transcription_available=False, transfer_target_configured=False,
                  recording_configured=True)


def test_recording_actions_parse_and_round_trip() -> None:
    for kind in (START_RECORDING, PAUSE_RECORDING, RESUME_RECORDING, STOP_RECORDING):
        action = parse_action_request({"action": kind}, "a1", "api")
        assert action_from_payload(action.to_payload()) == action


def test_recording_actions_need_the_right_state() -> None:
    def refusal(kind: str, state: str | None, configured: bool = True) -> str | None:
        found = unavailable_reason(kind, None, CallFacts(**{**FACTS.__dict__, "recording": state,
                                                            "recording_configured": configured}))
        return None if found is None else found.error

    assert refusal(START_RECORDING, None) is None
    assert refusal(START_RECORDING, None, configured=False) == "not_configured"
    assert refusal(START_RECORDING, "active") == "recording_state"
    assert refusal(START_RECORDING, "stopped") is None
    assert [refusal(PAUSE_RECORDING, s) for s in (None, "active", "paused")] == ["recording_state", None,
                                                                                  "recording_state"]
    assert [refusal(RESUME_RECORDING, s) for s in (None, "active", "paused")] == ["recording_state",
                                                                                   "recording_state", None]
    assert [refusal(STOP_RECORDING, s) for s in (None, "active", "paused", "stopped")] == [
        "recording_state", None, None, "recording_state"]


def _request(record, state, ids, kind: str, action_id: str, result: dict[str, object]):  # type: ignore[no-untyped-def]
    payload = CallAction(action_id, kind, "api").to_payload()
    record, state = control.on_event(record, state, "CallActionRequested", payload, T0, ids)
    state, queued = control.next_dispatch(record, state)
    assert queued is not None and queued.action_id == action_id
    fields = activity_fields(state.recording, queued, "server-call-1", "call-1")
    record, state = control.on_request_result(record, state, action_id, result, T0, ids)
    return record, state, fields


def test_the_recording_id_comes_back_into_the_state_and_names_the_later_requests() -> None:
    record, state, ids = connected()
    record, state, fields = _request(record, state, ids, START_RECORDING, "r1",
                                     {"status": "accepted", "recordingId": "rec-1"})
    assert fields == {"serverCallId": "server-call-1", "instanceId": "call-1"}
    assert state.recording == Recording("rec-1", "active")
    assert control.status_fields(state)["recording"] == "active"
    record, state, fields = _request(record, state, ids, PAUSE_RECORDING, "r2", {"status": "accepted"})
    assert fields == {"recordingId": "rec-1"} and state.recording.state == "paused"
    record, state, _ = _request(record, state, ids, RESUME_RECORDING, "r3", {"status": "rejected", "code": 400})
    assert state.recording.state == "paused"  # ACS refused: nothing changed
    assert control.status_fields(state)["pendingActions"] == 0  # settled by the request, no callback awaited
    record, state = control.on_event(record, state, "RecordingStateChanged",
                                     {"id": "rs1", "recordingId": "rec-1", "state": "inactive"}, T0, ids)
    assert "RecordingStateChanged" in events(record)
    assert "action_failed" in events(record)


def test_settings() -> None:
    assert load_recording_settings({}) == RecordingSettings("off", "wav")
    assert load_recording_settings({"CALL_RECORDING": "audio", "CALL_RECORDING_FORMAT": "mp3"}).channel == "mixed"
    assert load_recording_settings({"CALL_RECORDING": "audio_unmixed"}).channel == "unmixed"
    for bad in ({"CALL_RECORDING": "video"}, {"CALL_RECORDING_FORMAT": "mp4"},
                {"CALL_RECORDING": "audio_unmixed", "CALL_RECORDING_FORMAT": "mp3"}):
        with pytest.raises(SettingsError, match="CALL_RECORDING"):
            load_recording_settings(bad)


CONSENT = "This call is recorded for quality."


def _flow_at_connect(consent: str | None):  # type: ignore[no-untyped-def]

    settings = CallFlowSettings(greeting=Prompt(text="Welcome."), record_at_connect=True,
                                recording_consent=None if consent is None else Prompt(text=consent))
    return connected(settings)


def _kinds(state: control.ControlState) -> list[tuple[str, str | None]]:
    return [(entry.action.kind, entry.action.purpose) for entry in state.ledger]


def test_consent_is_played_before_the_recording_starts_then_the_greeting() -> None:
    record, state, ids = _flow_at_connect(CONSENT)
    assert _kinds(state) == [("play", "recording_consent")]
    state, consent = control.next_dispatch(record, state)
    assert consent is not None and consent.prompt is not None and consent.prompt.text == CONSENT
    record, state = control.on_request_result(record, state, consent.action_id, {"status": "accepted"}, T0, ids)
    state, queued = control.next_dispatch(record, state)
    assert queued is None  # nothing else until the caller heard the notice
    record, state = control.on_event(record, state, "PlayCompleted",
                                     {"id": "p1", "operationContext": consent.action_id}, T0, ids)
    assert _kinds(state)[1:] == [("start_recording", "recording"), ("play", "greeting")]


def test_no_recording_when_the_consent_notice_failed() -> None:
    record, state, ids = _flow_at_connect(CONSENT)
    state, consent = control.next_dispatch(record, state)
    assert consent is not None
    record, state = control.on_request_result(record, state, consent.action_id, {"status": "accepted"}, T0, ids)
    record, state = control.on_event(record, state, "PlayFailed",
                                     {"id": "p1", "operationContext": consent.action_id}, T0, ids)
    assert _kinds(state)[1:] == [("play", "greeting")]
    assert "recording_skipped" in events(record)


def test_recording_at_connect_without_consent_starts_first() -> None:
    _, state, _ = _flow_at_connect(None)
    assert _kinds(state) == [("start_recording", "recording"), ("play", "greeting")]


def test_recording_start_settings() -> None:
    settings = load_call_flow_settings({"CALL_RECORDING": "audio", "CALL_RECORDING_START": "connect",
                                        "CALL_RECORDING_CONSENT_TEXT": CONSENT})
    assert settings.record_at_connect and settings.recording_consent is not None
    assert flow_from_dict(settings.to_dict()) == settings
    assert not load_call_flow_settings({"CALL_RECORDING": "audio"}).record_at_connect
    for bad in ({"CALL_RECORDING_START": "connect"}, {"CALL_RECORDING": "audio", "CALL_RECORDING_START": "ring"},
                {"CALL_RECORDING": "audio", "CALL_RECORDING_CONSENT_TEXT": CONSENT},
                {"CALL_RECORDING": "audio", "CALL_RECORDING_START": "connect",
                 "CALL_RECORDING_CONSENT_AUDIO_URL": "http://cdn.example/consent.wav"}):
        with pytest.raises(SettingsError):
            load_call_flow_settings(bad)
