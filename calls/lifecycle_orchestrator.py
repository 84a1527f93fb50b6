"""Orchestration `call_lifecycle`: one instance per call, from ring to the email summary.

A thin, deterministic loop over `shared.call_lifecycle`: no I/O, no clock, no randomness here. Time is
`context.current_utc_datetime`; all I/O (hang-up, Blob, Email) happens in activities.

Why the loop keeps one waiter per event name for the whole orchestration instead of fresh waiters per wait:
the Python SDK (1.7) hands a raised event to the LAST waiter created for that name, even one whose
`task_any` finished long ago, and an event that finds no waiter is buffered and then completes EVERY later
waiter of that name. Fresh waiters per wait therefore lose events that arrive between waits (a
CallDisconnected during the hang-up activity went to a stale waiter), and a buffered one would replay itself
into each new wait. With one live waiter per name, replaced only after its event is consumed and before the
next event can be processed, every event reaches the state machine exactly once, in history order. The
hang-up activity races in the same `task_any` for the same reason. Once summarising starts, later events are
deliberately left unread.

Call control (shared/call_control.py) adds every callback type, the control API's and the media host's
action requests and silence reports to the same inbox, so the list of names is fixed before the first yield.
The flow settings and each action's request also run as activities racing in the same `task_any`: nothing is
ever awaited alone before summarising, so no event is buffered into a later waiter.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Generator, Mapping
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from shared import call_control as control
from shared import call_lifecycle as lifecycle

# Events raised after summarising starts find no waiter (deliberately: see above); the SDK warns about each of
# them on every replay, which would flood the logs.
warnings.filterwarnings("ignore", message="Potential duplicate Task completion", category=UserWarning)

bp = df.Blueprint()

ORCHESTRATOR_NAME = "call_lifecycle"
HANG_UP_ACTIVITY = "hang_up_call"
SUMMARY_ACTIVITY = "prepare_call_summary"
EMAIL_ACTIVITY = "send_summary_email"
FLOW_ACTIVITY = "load_call_flow"
ACTION_ACTIVITY = "run_call_action"
# Activities run at least once; these bounds keep a retried summary inside a few minutes.
HANG_UP_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
SUMMARY_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2000, max_number_of_attempts=5)
EMAIL_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=6)
FLOW_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
# The action activity reports ACS's refusals as results and the SDK client retries throttling itself; an
# orchestration-level retry could play a prompt twice.
MAX_ERROR_CHARS = 300


def _decode_payload(value: object) -> Mapping[str, object]:
    # Event payloads sent through the Python durable client come back as JSON text (durable-python #295).
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


def _activity_outcome(task: Any) -> Mapping[str, object]:
    # Inside task_any a failed activity does not raise: the finished task carries the exception as its result.
    if isinstance(task.result, Exception):
        return {"status": "failed", "error": str(task.result)[:MAX_ERROR_CHARS]}
    return _decode_payload(task.result)


def _trace_fields(raw_input: object) -> dict[str, str]:
    # The call's trace context (calls/telemetry.py) rides in every activity input: one call, one trace.
    traceparent = _decode_payload(raw_input).get("traceparent")
    return {"traceparent": traceparent} if isinstance(traceparent, str) else {}


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR_NAME)
def call_lifecycle(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, object]]:
    start = lifecycle.CallStart.from_dict(_decode_payload(context.get_input()))
    record = lifecycle.begin(start, context.current_utc_datetime)
    trace = _trace_fields(context.get_input())
    calls = control.begin()
    inbox = {name: context.wait_for_external_event(name) for name in control.EVENT_NAMES}
    hang_up: Any = None
    timer: Any = None
    timer_deadline: datetime | None = None
    flow_settings: Any = context.call_activity_with_retry(FLOW_ACTIVITY, FLOW_RETRY,
                                                          {"instanceId": start.instance_id, **trace})
    action: Any = None
    action_id = ""
    # A second timer, only while a flow prompt's result is awaited: a lost callback must not stall the flow.
    result_timer: Any = None
    result_due: datetime | None = None

    def new_id() -> str:
        return str(context.new_guid())

    while True:
        context.set_custom_status({**lifecycle.custom_status(record), **control.status_fields(calls)})
        step = lifecycle.next_step(record)
        if isinstance(step, lifecycle.Summarize):
            break
        if isinstance(step, lifecycle.HangUp):
            # Not awaited alone: events keep arriving while it runs (CallDisconnected, typically).
            hang_up = context.call_activity_with_retry(
                HANG_UP_ACTIVITY, HANG_UP_RETRY, {"callConnectionId": step.call_connection_id, **trace}
            )
            record = lifecycle.on_hang_up_started(record, context.current_utc_datetime)
            continue
        if action is None and record.call_connection_id:
            calls, queued = control.next_dispatch(record, calls)
            if queued is not None:
                action_id = queued.action_id
                action = context.call_activity(ACTION_ACTIVITY, {"callConnectionId": record.call_connection_id,
                                                                 "instanceId": start.instance_id,
                                                                 "callerRef": start.caller_ref,
                                                                 **queued.to_payload(), **trace})
                continue
        if timer is None or timer.is_completed or step.deadline != timer_deadline:
            if timer is not None and not timer.is_completed:
                timer.cancel()
            timer, timer_deadline = context.create_timer(step.deadline), step.deadline
        due = control.result_deadline(calls)
        if due != result_due:
            if result_timer is not None and not result_timer.is_completed:
                result_timer.cancel()
            result_timer, result_due = (None, None) if due is None else (context.create_timer(due), due)
        racers = [*inbox.values(), timer,
                  *(task for task in (hang_up, flow_settings, action, result_timer) if task is not None)]
        winner = yield context.task_any(racers)
        now = context.current_utc_datetime
        if winner is timer:
            record = lifecycle.on_timeout(record, now)
        elif winner is result_timer:
            result_timer, result_due = None, None
            record, calls = control.on_result_deadline(record, calls, now, new_id)
        elif winner is hang_up:
            hang_up = None
            record = lifecycle.on_hang_up_result(record, _activity_outcome(winner), now)
        elif winner is flow_settings:
            flow_settings = None
            record, calls = control.on_flow_loaded(record, calls, _activity_outcome(winner), now, new_id)
        elif winner is action:
            action = None
            record, calls = control.on_request_result(record, calls, action_id, _activity_outcome(winner), now,
                                                      new_id)
        else:
            name = next(event_name for event_name, task in inbox.items() if task is winner)
            inbox[name] = context.wait_for_external_event(name)
            record, calls = control.on_event(record, calls, name, _decode_payload(winner.result), now, new_id)

    for pending in (timer, result_timer):
        if pending is not None and not pending.is_completed:
            pending.cancel()
    # Payloads stay small: the activities pass blob names, never the transcript itself.
    try:
        summary = _decode_payload((yield context.call_activity_with_retry(
            SUMMARY_ACTIVITY, SUMMARY_RETRY, {**lifecycle.summary_fields(record), **trace})))
    except Exception as error:  # noqa: BLE001 - an activity failure arrives as a bare Exception
        # No summary to send; the call's record stays in this orchestration's output instead of a failure.
        summary = {"status": "failed", "error": str(error)[:MAX_ERROR_CHARS]}
    email: Mapping[str, object] = {"status": "skipped", "reason": "no summary"}
    if summary.get("summaryBlob"):
        try:
            email = _decode_payload((yield context.call_activity_with_retry(
                EMAIL_ACTIVITY, EMAIL_RETRY,
                {"instanceId": start.instance_id, "summaryBlob": summary["summaryBlob"], **trace})))
        except Exception as error:  # noqa: BLE001 - an activity failure arrives as a bare Exception
            # The rendered summary stays in its blob and the output names it: kept, not dropped.
            email = {"status": "failed", "error": str(error)[:MAX_ERROR_CHARS]}
    record = lifecycle.mark_summarized(record, context.current_utc_datetime, email)
    context.set_custom_status({**lifecycle.custom_status(record), **control.status_fields(calls)})
    return {
        "outcome": record.outcome,
        "connectedAt": record.connected_at,
        "endedAt": record.ended_at,
        "endReason": record.end_reason,
        "partial": lifecycle.is_partial(record),
        "summaryBlob": summary.get("summaryBlob"),
        "summary": {key: summary[key] for key in ("status", "error") if key in summary} or {"status": "ok"},
        "email": dict(email),
        "timeline": [entry.to_dict() for entry in record.timeline],
    }
