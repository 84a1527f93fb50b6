"""Whether a requested call action can work on this call at all, decided before it is accepted (pure).

A request that can only fail later (at ACS, after a 202) is refused up front with a 4xx that says why, so the
caller of the control API learns it at once and the call's timeline holds no doomed action.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.call_actions import MUTE, START_TRANSCRIPTION, STOP_TRANSCRIPTION

COMMUNICATION_USER = "communicationUser"


@dataclass(frozen=True)
class Unavailable:
    error: str  # the API's error code
    message: str


def unavailable_reason(kind: str, caller_kind: str, transcription_available: bool) -> Unavailable | None:
    """None when `kind` can be performed on a call whose caller is of `caller_kind`."""
    if kind == MUTE and caller_kind != COMMUNICATION_USER:
        # MuteParticipantsRequest.targetParticipants: ACS users only (REST spec, CallAutomation stable
        # 2026-03-12); a phone caller cannot be muted by Call Automation.
        return Unavailable("unsupported_action",
                           f"mute works only when the caller is an ACS user; this call's caller is {caller_kind}")
    if kind in (START_TRANSCRIPTION, STOP_TRANSCRIPTION) and not transcription_available:
        return Unavailable("not_configured",
                           "transcription needs ACS_COGNITIVE_SERVICES_ENDPOINT (an Azure AI services resource "
                           "connected to ACS); this call was answered without transcription options")
    return None
