from __future__ import annotations

from shared.action_availability import CallFacts, Unavailable, unavailable_reason
from shared.call_actions import (
    CONFIGURED_TARGET,
    HANG_UP,
    MUTE,
    PLAY,
    START_TRANSCRIPTION,
    STOP_TRANSCRIPTION,
    TRANSFER,
)

EVERYTHING = CallFacts(caller_kind="communicationUser", transcription_available=True, transfer_target_configured=True)


def facts(**changes: object) -> CallFacts:
    return CallFacts(**{**EVERYTHING.__dict__, **changes})  # type: ignore[arg-type]


def test_mute_needs_an_acs_user_caller() -> None:
    assert unavailable_reason(MUTE, None, EVERYTHING) is None
    for kind in ("phoneNumber", "unknown", "microsoftTeamsUser"):
        assert unavailable_reason(MUTE, None, facts(caller_kind=kind)) == Unavailable(
            "unsupported_action", f"mute works only when the caller is an ACS user; this call's caller is {kind}",
            "action")


def test_transcription_actions_need_transcription() -> None:
    for kind in (START_TRANSCRIPTION, STOP_TRANSCRIPTION):
        assert unavailable_reason(kind, None, facts(caller_kind="phoneNumber")) is None
        refused = unavailable_reason(kind, None, facts(transcription_available=False))
        assert refused is not None and (refused.error, refused.path) == ("not_configured", "action")
        assert "ACS_COGNITIVE_SERVICES_ENDPOINT" in refused.message


def test_a_transfer_to_the_configured_line_needs_one() -> None:
    assert unavailable_reason(TRANSFER, CONFIGURED_TARGET, EVERYTHING) is None
    assert unavailable_reason(TRANSFER, "+14255550123", facts(transfer_target_configured=False)) is None
    assert unavailable_reason(TRANSFER, CONFIGURED_TARGET, facts(transfer_target_configured=False)) == Unavailable(
        "not_configured", "no transfer target is configured (CALL_TRANSFER_TARGET): set it, or give a target", "target")


def test_other_actions_are_always_available() -> None:
    nothing = CallFacts(caller_kind="phoneNumber", transcription_available=False, transfer_target_configured=False)
    for kind in (PLAY, HANG_UP):
        assert unavailable_reason(kind, None, nothing) is None
