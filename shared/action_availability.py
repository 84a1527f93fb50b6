"""Whether a requested call action can work on this call at all, decided before it is accepted (pure).

A request that can only fail later (at ACS, after a 202) is refused up front with a 422 that says why, so the
caller of the control API learns it at once and the call's timeline holds no doomed action.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.call_actions import (
    CONFIGURED_TARGET,
    HANDOFF,
    MUTE,
    PAUSE_RECORDING,
    RESUME_RECORDING,
    START_RECORDING,
    START_TRANSCRIPTION,
    STOP_RECORDING,
    STOP_TRANSCRIPTION,
    TRANSFER,
)
from shared.call_recording import ACTIVE, PAUSED

COMMUNICATION_USER = "communicationUser"


@dataclass(frozen=True)
class CallFacts:
    """What the control API knows of a call and the deployment when an action is requested."""

    caller_kind: str  # the IncomingCall's `from` kind
    transcription_available: bool  # the call was answered with transcription options
    transfer_target_configured: bool  # CALL_TRANSFER_TARGET is set
    recording_configured: bool = False  # CALL_RECORDING is not off
    recording: str | None = None  # the call's recording state (custom status `recording`), None: never started


@dataclass(frozen=True)
class Unavailable:
    error: str  # the API's error code
    message: str
    path: str = "action"


def unavailable_reason(kind: str, target: str | None, facts: CallFacts) -> Unavailable | None:
    """None when the action `kind` (with its `target`, for a transfer) can be performed on this call."""
    if kind in (TRANSFER, HANDOFF) and target == CONFIGURED_TARGET and not facts.transfer_target_configured:
        return Unavailable("not_configured", "no transfer target is configured (CALL_TRANSFER_TARGET): set it, "
                           "or give a target", "target")
    caller_kind = facts.caller_kind
    if kind == MUTE and caller_kind != COMMUNICATION_USER:
        # MuteParticipantsRequest.targetParticipants: ACS users only (REST spec, CallAutomation stable
        # 2026-03-12); a phone caller cannot be muted by Call Automation.
        return Unavailable("unsupported_action",
                           f"mute works only when the caller is an ACS user; this call's caller is {caller_kind}")
    if kind in (START_TRANSCRIPTION, STOP_TRANSCRIPTION) and not facts.transcription_available:
        return Unavailable("not_configured",
                           "transcription needs ACS_COGNITIVE_SERVICES_ENDPOINT (an Azure AI services resource "
                           "connected to ACS); this call was answered without transcription options")
    return _recording_unavailable(kind, facts)


# Which recording states each recording action needs (shared/call_recording.py).
_RECORDING_NEEDS: dict[str, tuple[str | None, ...]] = {
    START_RECORDING: (None, "stopped"),
    PAUSE_RECORDING: (ACTIVE,),
    RESUME_RECORDING: (PAUSED,),
    STOP_RECORDING: (ACTIVE, PAUSED),
}


def _recording_unavailable(kind: str, facts: CallFacts) -> Unavailable | None:
    needs = _RECORDING_NEEDS.get(kind)
    if needs is None:
        return None
    if kind == START_RECORDING and not facts.recording_configured:
        return Unavailable("not_configured", "recording is off (CALL_RECORDING): set it to audio or audio_unmixed")
    if facts.recording not in needs:
        shown = facts.recording or "not started"
        return Unavailable("recording_state", f"{kind} needs a recording that is "
                           f"{' or '.join(state or 'not started' for state in needs)}; this call's is {shown}")
    return None
