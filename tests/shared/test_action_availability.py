from __future__ import annotations

from shared.action_availability import Unavailable, unavailable_reason
from shared.call_actions import HANG_UP, MUTE, PLAY, START_TRANSCRIPTION, STOP_TRANSCRIPTION


def test_mute_needs_an_acs_user_caller() -> None:
    assert unavailable_reason(MUTE, "communicationUser", True) is None
    for kind in ("phoneNumber", "unknown", "microsoftTeamsUser"):
        assert unavailable_reason(MUTE, kind, True) == Unavailable(
            "unsupported_action", f"mute works only when the caller is an ACS user; this call's caller is {kind}")


def test_transcription_actions_need_transcription() -> None:
    for kind in (START_TRANSCRIPTION, STOP_TRANSCRIPTION):
        assert unavailable_reason(kind, "phoneNumber", True) is None
        refused = unavailable_reason(kind, "phoneNumber", False)
        assert refused is not None and refused.error == "not_configured"
        assert "ACS_COGNITIVE_SERVICES_ENDPOINT" in refused.message


def test_other_actions_are_always_available() -> None:
    for kind in (PLAY, HANG_UP):
        assert unavailable_reason(kind, "phoneNumber", False) is None
