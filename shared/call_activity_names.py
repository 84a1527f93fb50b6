"""The call orchestration's activities: one constant per name, and each one's retry policy.

Used by the state machine that starts them (shared/call_machine.py), the blueprint that registers them
(calls/call_orchestration/activities.py), their telemetry and the call story: a name is written once.
Retries are the orchestration's own timer steps (shared/call_retries.py), never the SDK's
`call_activity_with_retry`, whose retry timers the Durable extension's replay assigns differently.
"""

from __future__ import annotations

from dataclasses import dataclass

ORCHESTRATOR = "call_lifecycle"
HANG_UP = "hang_up_call"
LOAD_FLOW = "load_call_flow"
RUN_ACTION = "run_call_action"
PREPARE_SUMMARY = "prepare_call_summary"
SEND_EMAIL = "send_summary_email"
DOWNLOAD_RECORDING = "download_call_recording"
PLACE_CALL = "place_outbound_call"  # ACS createCall for an outbound call (shared/outbound_call.py)
RESTART_STREAM = "restart_media_stream"  # media recovery (shared/media_recovery.py)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts in all (1: no retry) and the constant wait between two attempts."""

    max_attempts: int
    interval_seconds: int


# Activities run at least once; these bounds keep a retried summary inside a few minutes. The action
# activity reports ACS's refusals as results and the SDK client retries throttling itself, so an
# orchestration-level retry could only play a prompt twice: it has none.
RETRIES: dict[str, RetryPolicy] = {
    HANG_UP: RetryPolicy(max_attempts=3, interval_seconds=1),
    LOAD_FLOW: RetryPolicy(max_attempts=3, interval_seconds=1),
    RUN_ACTION: RetryPolicy(max_attempts=1, interval_seconds=0),
    PREPARE_SUMMARY: RetryPolicy(max_attempts=5, interval_seconds=2),
    SEND_EMAIL: RetryPolicy(max_attempts=6, interval_seconds=5),
    DOWNLOAD_RECORDING: RetryPolicy(max_attempts=4, interval_seconds=5),  # its blob write is conditional
    # Safe to repeat: every attempt sends the same Repeatability-Request-ID, so ACS places the call once.
    PLACE_CALL: RetryPolicy(max_attempts=3, interval_seconds=1),
    # Media recovery counts and spaces its own attempts; a retry here would ask ACS to start twice.
    RESTART_STREAM: RetryPolicy(max_attempts=1, interval_seconds=0),
}
