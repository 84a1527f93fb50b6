"""The orchestration input of one call (`CallStart`) and its timeouts: small, with phone numbers masked.

Kept apart from shared/call_lifecycle.py, which re-exports both names for its callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


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
    # The raw caller id sealed with a key, never in clear: only the action activity can open it.
    caller_ref: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "instanceId": self.instance_id,
            "caller": self.caller,
            "callee": self.callee,
            "correlationId": self.correlation_id,
            "serverCallId": self.server_call_id,
            "ringingAt": self.ringing_at,
            "timeouts": {
                "connectSeconds": self.timeouts.connect_seconds,
                "maxDurationSeconds": self.timeouts.max_duration_seconds,
                "reorderGraceSeconds": self.timeouts.reorder_grace_seconds,
                "hangUpWaitSeconds": self.timeouts.hang_up_wait_seconds,
                "mediaReportWaitSeconds": self.timeouts.media_report_wait_seconds,
            },
            **({"callerRef": self.caller_ref} if self.caller_ref is not None else {}),
        }

    @staticmethod
    def from_dict(data: Mapping[str, object]) -> CallStart:
        raw_timeouts = data.get("timeouts")
        timeouts = raw_timeouts if isinstance(raw_timeouts, Mapping) else {}
        defaults = CallTimeouts()
        return CallStart(
            instance_id=str(data["instanceId"]),
            caller=str(data.get("caller", "")),
            callee=str(data.get("callee", "")),
            correlation_id=str(data.get("correlationId", "")),
            server_call_id=str(data.get("serverCallId", "")),
            ringing_at=str(data["ringingAt"]),
            timeouts=CallTimeouts(
                connect_seconds=int(timeouts.get("connectSeconds", defaults.connect_seconds)),
                max_duration_seconds=int(timeouts.get("maxDurationSeconds", defaults.max_duration_seconds)),
                reorder_grace_seconds=int(timeouts.get("reorderGraceSeconds", defaults.reorder_grace_seconds)),
                hang_up_wait_seconds=int(timeouts.get("hangUpWaitSeconds", defaults.hang_up_wait_seconds)),
                media_report_wait_seconds=int(
                    timeouts.get("mediaReportWaitSeconds", defaults.media_report_wait_seconds)),
            ),
            caller_ref=caller_ref if isinstance(caller_ref := data.get("callerRef"), str) else None,
        )
