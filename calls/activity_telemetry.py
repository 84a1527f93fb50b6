"""Spans and metrics for the orchestration's activities (never the orchestrator itself, which replays).

`traced_activity` wraps an activity function: its span continues the call's trace from the `traceparent` the
orchestrator put in the activity input, and the call metrics that only an activity can know are recorded here:
the call's end (calls.missed, calls.dropped) when its summary is prepared, and the email's delivery
(email.sent, email.failed). Activities run at least once, so each count is made exactly once per call: the
call's end behind a marker blob created only if absent (a summary written again counts nothing), the email
behind its receipt, a failed email on its last attempt.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from opentelemetry.trace import Span, StatusCode

from calls import app_context, telemetry
from shared import blob_names
from shared.call_activity_names import PREPARE_SUMMARY, RETRIES, SEND_EMAIL
from shared.kpis import call_end

log = logging.getLogger(__name__)

Activity = TypeVar("Activity", bound=Callable[..., Any])


def _fields(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = kwargs.get("payload", args[0] if args else None)
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return {}
    return payload if isinstance(payload, Mapping) else {}


def call_end_marker_blob(instance_id: str) -> str:
    return f"{blob_names.call_prefix(instance_id)}call-end-counted.txt"


def _first_count(instance_id: str) -> bool:
    """True for the first summary of the call only: creates the marker blob unless it exists (atomic in
    Blob storage: a create with If-None-Match *)."""
    container = app_context.transcripts_container()
    try:
        container.create_container()
    except ResourceExistsError:
        pass
    try:
        container.upload_blob(call_end_marker_blob(instance_id), b"counted", overwrite=False)
    except ResourceExistsError:
        return False
    return True


def _record_call_end(fields: Mapping[str, Any], span: Span) -> None:
    end = call_end(fields)
    span.set_attribute("call.outcome", str(fields.get("outcome") or "unknown")[:40])
    instance_id = str(fields.get("instance_id") or "")
    if not (end.missed or end.dropped) or not _first_count(instance_id):
        return
    if end.missed:
        telemetry.calls_missed.add(1)
    if end.dropped:
        reason = {"disconnect.code": end.disconnect_code or 0, "disconnect.sub_code": end.disconnect_sub_code or 0}
        telemetry.calls_dropped.add(1, reason)
        span.set_attributes(reason)


def email_attempts_blob(instance_id: str) -> str:
    return f"{blob_names.call_prefix(instance_id)}email-failed-attempts.txt"


def _failed_attempt_number(instance_id: str) -> int:
    """Counts this call's failed email attempts in a small blob (the activity has no attempt number)."""
    container = app_context.transcripts_container()
    name = email_attempts_blob(instance_id)
    try:
        previous = int(container.download_blob(name).readall().decode() or "0")
    except (ResourceNotFoundError, ValueError):
        previous = 0
    try:
        container.create_container()
    except ResourceExistsError:
        pass
    container.upload_blob(name, str(previous + 1).encode(), overwrite=True)
    return previous + 1


def _record_email_failure(instance_id: str, max_attempts: int, error: Exception) -> None:
    try:
        attempt = _failed_attempt_number(instance_id)
    except Exception:  # noqa: BLE001 - storage trouble must not hide the email's own error
        log.warning("could not count the failed email attempt for %s", instance_id)
        return
    if attempt >= max_attempts:
        telemetry.email_failed.add(1, {"error.type": type(error).__name__})


def traced_activity(name: str) -> Callable[[Activity], Activity]:
    """Run the activity inside a span of the call's trace and record the metrics it alone can know."""
    def wrap(function: Activity) -> Activity:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            fields = _fields(args, kwargs)
            instance_id = str(fields.get("instance_id") or fields.get("instanceId") or "")
            action = fields.get("action")
            with telemetry.call_span(f"activity {name}", traceparent=fields.get("traceparent"), attributes={
                    "call.instance_id": instance_id or None, "durable.activity": name,
                    "call.connection_id": fields.get("callConnectionId"),
                    "call.action": action[:40] if isinstance(action, str) else None}) as span:
                try:
                    result = function(*args, **kwargs)
                except Exception as error:
                    span.set_status(StatusCode.ERROR, type(error).__name__)
                    if name == SEND_EMAIL and instance_id:
                        _record_email_failure(instance_id, RETRIES[SEND_EMAIL].max_attempts, error)
                    raise
                if isinstance(result, Mapping) and isinstance(result.get("status"), str):
                    span.set_attribute("activity.status", result["status"][:40])
                if name == PREPARE_SUMMARY:
                    _record_call_end(fields, span)
                elif name == SEND_EMAIL and isinstance(result, Mapping) and not result.get("repeated"):
                    telemetry.email_sent.add(1)
                    span.set_attribute("email.operation_id", str(result.get("operationId", ""))[:64])
                return result
        return run  # type: ignore[return-value]
    return wrap
