"""The orchestration input of one call (`CallStart`) and its timeouts: small, with phone numbers masked.

Kept apart from shared/call_lifecycle.py, which re-exports both names for its callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The policy input's action of a call answered only for the after-hours message (shared/after_hours_flow.py).
POLICY_MESSAGE = "message"


@dataclass(frozen=True)
class CallTimeouts:
    connect_seconds: int = 45
    max_duration_seconds: int = 3600
    # A CallDisconnected may overtake its CallConnected; wait this long for the late one before calling
    # the call missed.
    reorder_grace_seconds: int = 5
    # After our hang-up request, how long to wait for ACS's CallDisconnected.
    hang_up_wait_seconds: int = 30
    # After the call ends, how long to wait for the media host's report before summarising as partial.
    media_report_wait_seconds: int = 20


@dataclass(frozen=True)
class CallStart:
    """The orchestration input: small, and with phone numbers already masked."""

    instance_id: str
    caller: str
    callee: str
    correlation_id: str
    server_call_id: str
    ringing_at: str
    timeouts: CallTimeouts = field(default_factory=CallTimeouts)
    # The raw caller id sealed for this call (shared/sealed_value.py): recognize targets the caller, and
    # history must never hold the number in clear. None when the IncomingCall had no usable caller.
    caller_ref: str | None = None
    # The caller's identifier kind from the IncomingCall ("phoneNumber", "communicationUser", ...): mute
    # exists for ACS users only.
    caller_kind: str = "unknown"
    # What the answer asked of ACS's real-time transcription (shared/transcription_settings.py).
    transcription: str = "requested"
    # The answer policy's refusal (shared/answer_policy.py), when the call was not answered:
    # {"action": "reject"|"redirect", "reason": ..., "rejectReason"?: ..., "target"?: masked}, or the
    # after-hours message it answers for: {"action": "message", "reason": ..., "text"|"url": ..., "voice": ...}.
    policy: Mapping[str, str] | None = None
    # An outbound call placed through `POST /api/calls` (shared/outbound_call.py): the masked and the sealed
    # target, greeting, flow choice and request fingerprint. None for a call that rang in.
    outbound: Mapping[str, str] | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "instanceId": self.instance_id,
            "caller": self.caller,
            "callee": self.callee,
            "correlationId": self.correlation_id,
            "serverCallId": self.server_call_id,
            "ringingAt": self.ringing_at,
            "callerRef": self.caller_ref,
            "callerKind": self.caller_kind,
            "transcription": self.transcription,
            **({"policy": dict(self.policy)} if self.policy is not None else {}),
            **({"direction": "outbound", "outbound": dict(self.outbound)} if self.outbound is not None else {}),
            "timeouts": {
                "connectSeconds": self.timeouts.connect_seconds,
                "maxDurationSeconds": self.timeouts.max_duration_seconds,
                "reorderGraceSeconds": self.timeouts.reorder_grace_seconds,
                "hangUpWaitSeconds": self.timeouts.hang_up_wait_seconds,
                "mediaReportWaitSeconds": self.timeouts.media_report_wait_seconds,
            },
        }

    @staticmethod
    def from_dict(data: Mapping[str, object]) -> CallStart:
        raw_timeouts = data.get("timeouts")
        timeouts = raw_timeouts if isinstance(raw_timeouts, Mapping) else {}
        defaults = CallTimeouts()
        caller_ref = data.get("callerRef")
        policy = data.get("policy")
        outbound = data.get("outbound")
        return CallStart(
            instance_id=str(data["instanceId"]),
            caller=str(data.get("caller", "")),
            callee=str(data.get("callee", "")),
            correlation_id=str(data.get("correlationId", "")),
            server_call_id=str(data.get("serverCallId", "")),
            ringing_at=str(data["ringingAt"]),
            caller_ref=caller_ref if isinstance(caller_ref, str) else None,
            caller_kind=str(data.get("callerKind", "unknown")),
            transcription=str(data.get("transcription", "requested")),
            policy={str(k): str(v) for k, v in policy.items()} if isinstance(policy, Mapping) else None,
            outbound={str(k): str(v) for k, v in outbound.items()} if isinstance(outbound, Mapping) else None,
            timeouts=CallTimeouts(
                connect_seconds=int(timeouts.get("connectSeconds", defaults.connect_seconds)),
                max_duration_seconds=int(timeouts.get("maxDurationSeconds", defaults.max_duration_seconds)),
                reorder_grace_seconds=int(timeouts.get("reorderGraceSeconds", defaults.reorder_grace_seconds)),
                hang_up_wait_seconds=int(timeouts.get("hangUpWaitSeconds", defaults.hang_up_wait_seconds)),
                media_report_wait_seconds=int(
                    timeouts.get("mediaReportWaitSeconds", defaults.media_report_wait_seconds)),
            ),
        )
