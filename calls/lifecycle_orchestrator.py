"""Orchestration `call_lifecycle`: one instance per call, from ring to the email summary.

A thin, deterministic loop over `shared.call_lifecycle`: no I/O, no clock, no randomness here. Time is
`context.current_utc_datetime`; all I/O (hang-up, Blob, Email) happens in activities.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from typing import Any

import azure.durable_functions as df

from shared import call_lifecycle as lifecycle

bp = df.Blueprint()

ORCHESTRATOR_NAME = "call_lifecycle"
# Activities run at least once; these bounds keep a retried summary inside a few minutes.
HANG_UP_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
SUMMARY_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2000, max_number_of_attempts=5)
EMAIL_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=6)


def _decode_payload(value: object) -> Mapping[str, object]:
    # Event payloads sent through the Python durable client come back as JSON text (durable-python #295).
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR_NAME)
def call_lifecycle(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, object]]:
    start = lifecycle.CallStart.from_dict(_decode_payload(context.get_input()))
    record = lifecycle.begin(start, context.current_utc_datetime)

    while True:
        context.set_custom_status(lifecycle.custom_status(record))
        step = lifecycle.next_step(record)
        if isinstance(step, lifecycle.Summarize):
            break
        if isinstance(step, lifecycle.HangUp):
            result = yield context.call_activity_with_retry(
                "hang_up_call", HANG_UP_RETRY, {"callConnectionId": step.call_connection_id}
            )
            record = lifecycle.on_hang_up_result(record, _decode_payload(result), context.current_utc_datetime)
            continue
        waiters = {name: context.wait_for_external_event(name) for name in step.events}
        timer = context.create_timer(step.deadline)
        winner = yield context.task_any([*waiters.values(), timer])
        if winner is timer:
            record = lifecycle.on_timeout(record, context.current_utc_datetime)
            continue
        timer.cancel()
        name = next(event_name for event_name, task in waiters.items() if task is winner)
        record = lifecycle.on_event(record, name, _decode_payload(winner.result), context.current_utc_datetime)

    # Payloads stay small: the activities pass blob names, never the transcript itself.
    summary = yield context.call_activity_with_retry(
        "prepare_call_summary", SUMMARY_RETRY, lifecycle.summary_fields(record)
    )
    summary = _decode_payload(summary)
    try:
        email = yield context.call_activity_with_retry(
            "send_summary_email",
            EMAIL_RETRY,
            {"instanceId": start.instance_id, "summaryBlob": summary.get("summaryBlob")},
        )
    except Exception as error:  # noqa: BLE001 - an activity failure arrives as a bare Exception
        # The rendered summary stays in its blob and this history names it: it is kept, not dropped.
        email = {"status": "failed", "error": str(error)[:300]}
    record = lifecycle.mark_summarized(record, context.current_utc_datetime, _decode_payload(email))
    context.set_custom_status(lifecycle.custom_status(record))
    return {
        "outcome": record.outcome,
        "connectedAt": record.connected_at,
        "endedAt": record.ended_at,
        "endReason": record.end_reason,
        "partial": lifecycle.is_partial(record),
        "summaryBlob": summary.get("summaryBlob"),
        "email": _decode_payload(email),
        "timeline": [entry.to_dict() for entry in record.timeline],
    }
