"""The answer policy's shell: ask the media host for room, decide (shared/answer_policy.py), and carry out a
refusal (reject or redirect) while the call still rings.

The media host is asked with one GET bounded by `HEALTH_TIMEOUT_SECONDS` in total: the caller hears ringing
meanwhile, and a host that does not answer in time could not stream the call either, so it counts as full.
Calls that ring together share one GET and count each other (calls/media_capacity_gauge.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from datetime import UTC, datetime

from azure.core.exceptions import AzureError, HttpResponseError

from calls import app_context, telemetry
from calls.call_action_runner import identifier
from calls.media_capacity_gauge import MediaCapacityGauge
from shared import after_hours_flow
from shared.answer_policy import Answer, Decision, MediaCapacity, PlayMessage, Redirect, Reject, decide
from shared.event_grid import IncomingCall
from shared.pii import mask_raw_id

log = logging.getLogger(__name__)
HEALTH_TIMEOUT_SECONDS = 0.3
MAX_HEALTH_BYTES = 4096


def _read_health(url: str) -> MediaCapacity | None:
    with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only
        body = json.loads(response.read(MAX_HEALTH_BYTES))
    calls, limit = body.get("calls"), body.get("limit")
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 0:
        return None
    return MediaCapacity(calls, limit if isinstance(limit, int) and not isinstance(limit, bool) else None)


async def media_capacity(url: str) -> MediaCapacity | None:
    """The media host's room, or None when it did not answer well within the timeout (then it counts as full)."""
    try:
        # wait_for bounds the whole exchange; urlopen's own timeout bounds each socket operation of the thread.
        return await asyncio.wait_for(asyncio.to_thread(_read_health, url), HEALTH_TIMEOUT_SECONDS)
    except (TimeoutError, OSError, ValueError, AttributeError) as error:
        log.warning("Media host health check failed (%s): counted as full", type(error).__name__)
        return None


# One read shared by the calls that ring together (calls/media_capacity_gauge.py); media_capacity is each read.
media_room = MediaCapacityGauge(media_capacity)


async def decision_for(call: IncomingCall) -> Decision:
    settings = app_context.config().answer_policy
    url = settings.media_host_health_url
    capacity = await media_room.room_for_one_more(url) if url is not None else None
    return decide(call, settings, datetime.now(UTC), capacity)


def policy_input(decision: Decision) -> dict[str, str] | None:
    """The decision as the orchestration's input records it (shared/call_start.py), the target masked; None
    for an answer."""
    if isinstance(decision, Answer):
        return None
    if isinstance(decision, PlayMessage):
        return after_hours_flow.policy_input(decision.prompt, decision.reason)
    if isinstance(decision, Redirect):
        return {"action": "redirect", "reason": decision.reason, "target": mask_raw_id(decision.target)}
    return {"action": "reject", "reason": decision.reason, "rejectReason": decision.reject_reason}


def streams_media(decision: Decision) -> bool:
    """False for a call answered only for the after-hours message: it takes no room on the media host."""
    return not isinstance(decision, PlayMessage)


def _refuse(call: IncomingCall, decision: Reject | Redirect) -> None:
    client = app_context.call_automation_client()
    if isinstance(decision, Redirect):
        client.redirect_call(call.incoming_call_context, identifier(decision.target))
    else:
        client.reject_call(call.incoming_call_context, call_reject_reason=decision.reject_reason)


async def refuse(call: IncomingCall, instance_id: str, decision: Decision) -> dict[str, str] | None:
    """Reject or redirect the ringing call (None for an answer: nothing to do here); the orchestration already
    records the decision as the outcome."""
    if isinstance(decision, PlayMessage):
        # Answered (events_http), unstreamed: the orchestration plays the message once connected, then hangs up.
        telemetry.calls_after_hours_message.add(1, {"policy.reason": decision.reason})
        log.info("Call %s answered for the after-hours message: %s", instance_id, decision.reason)
        return None
    if isinstance(decision, Answer):
        return None
    action = "redirected" if isinstance(decision, Redirect) else "rejected"
    counter = telemetry.calls_redirected if isinstance(decision, Redirect) else telemetry.calls_rejected
    try:
        await asyncio.to_thread(_refuse, call, decision)
    except AzureError as error:
        # The call may have stopped ringing meanwhile (ACS answers 4xx); it was never answered either way.
        status = error.status_code if isinstance(error, HttpResponseError) else None
        log.warning("%s request failed for %s (status %s): %s", action, instance_id, status, type(error).__name__)
        return {"instanceId": instance_id, "status": f"{action}_failed", "reason": decision.reason}
    counter.add(1, {"policy.reason": decision.reason})
    log.info("Call %s %s by the answer policy: %s", instance_id, action, decision.reason)
    return {"instanceId": instance_id, "status": action, "reason": decision.reason}

