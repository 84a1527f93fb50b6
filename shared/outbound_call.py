"""Outbound calls, the pure part: the `POST /api/calls` request, its instance id, and the dialing phase.

An outbound call is one orchestration through the same machine as an inbound one (shared/call_machine.py).
Its `CallStart` carries an `outbound` section (the sealed target, the masked target, the greeting and flow
choice, and a keyed fingerprint of the request for the idempotency check). The machine then:
- starts `PLACE_CALL` beside the flow's load: the activity opens the sealed target and calls ACS createCall;
  its result (`on_placed`) gives the call connection, or ends the call when ACS refused to dial;
- ends the call `not_answered` on `CreateCallFailed` (`on_create_call_failed`), or when the dial timeout
  (the lifecycle's ring wait, `connect_seconds`) passes first; the lifecycle then hangs the dialing leg up;
- on `CallConnected` runs the same flow, media, story and email as an inbound call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from shared import call_lifecycle as lifecycle
from shared.call_actions import ACS_USER_ID, E164, MAX_TEXT_CHARS, validate_text
from shared.call_flow_settings import CallFlowSettings
from shared.call_start import CallStart
from shared.json_body import BadRequest, optional_str, require_object, require_str
from shared.pii import mask_raw_id

CREATE_CALL_FAILED = "CreateCallFailed"  # ACS's callback when a created call could not be established
# "configured": the deployment's call flow, as for inbound calls; "none": none of its prompts (only the
# request's greeting, if any), then listening.
FLOWS = ("configured", "none")
MAX_TARGET_CHARS = 300
INSTANCE_PREFIX = "out-"
_KEY_NAMESPACE = uuid.UUID("9d3f6a0e-2c4b-4e8f-b1a7-5e0c3d9f2a61")
_FIELDS = frozenset({"to", "greetingText", "flow"})


@dataclass(frozen=True)
class OutboundRequest:
    to: str  # raw: E.164 or 8:acs: id; sealed before it goes anywhere near Durable
    greeting_text: str | None = None
    flow: str = "configured"

    def canonical(self) -> str:
        return json.dumps({"to": self.to, "greetingText": self.greeting_text, "flow": self.flow}, sort_keys=True)


def parse_outbound_request(body: object) -> OutboundRequest:
    """The request body, checked field by field; BadRequest names the field (never echoes the number)."""
    fields = require_object(body, "")
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        raise BadRequest(f"unknown field; allowed: {', '.join(sorted(_FIELDS))}", path=unknown[0][:40])
    to = require_str(fields, "to", "")
    if len(to) > MAX_TARGET_CHARS or (E164.fullmatch(to) is None and ACS_USER_ID.fullmatch(to) is None):
        raise BadRequest("must be an E.164 number such as +14255550123 or an ACS user id (8:acs:...)", path="to")
    greeting = optional_str(fields, "greetingText", "")
    if greeting is not None:
        greeting = validate_text(greeting, "greetingText")
    flow = optional_str(fields, "flow", "") or "configured"
    if flow not in FLOWS:
        raise BadRequest(f"must be one of {', '.join(FLOWS)}", path="flow")
    return OutboundRequest(to=to, greeting_text=greeting, flow=flow)


def instance_id_for_key(idempotency_key: str) -> str:
    """The same instance id for every request with this key: a retry, even after a crash, finds its call."""
    return INSTANCE_PREFIX + str(uuid.uuid5(_KEY_NAMESPACE, idempotency_key))


def fresh_instance_id(random_uuid: uuid.UUID) -> str:
    return INSTANCE_PREFIX + str(random_uuid)


def request_fingerprint(secret: str, request: OutboundRequest) -> str:
    """Keyed (HMAC), so the fingerprint in Durable's input cannot be brute-forced back to the number."""
    key = hmac.new(secret.encode("utf-8"), b"outbound-request/v1", hashlib.sha256).digest()
    return hmac.new(key, request.canonical().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def outbound_section(request: OutboundRequest, target_ref: str, fingerprint: str) -> dict[str, str]:
    """`CallStart.outbound`: nothing in it shows the number (masked target, sealed reference)."""
    section = {"target": mask_raw_id(request.to), "targetRef": target_ref, "flow": request.flow,
               "requestHash": fingerprint}
    if request.greeting_text is not None:
        section["greetingText"] = request.greeting_text[:MAX_TEXT_CHARS]
    return section


def is_outbound(start: CallStart) -> bool:
    return start.outbound is not None


def begin(start: CallStart, now: datetime) -> lifecycle.CallRecord:
    """The record of a call being dialed: the ring stage, with a "dialing" entry instead of "ringing"."""
    record = lifecycle.CallRecord(start=start, stage="ringing", stage_since=now)
    return lifecycle.note(record, start.ringing_at, "dialing", f"to {start.callee} from {start.caller}")


def place_call_input(start: CallStart) -> dict[str, object]:
    outbound = start.outbound or {}
    # ringingAt fixes ACS's Repeatability-First-Sent, so a retried activity is the same createCall request.
    return {"instanceId": start.instance_id, "targetRef": outbound.get("targetRef"), "ringingAt": start.ringing_at}


def _ended(record: lifecycle.CallRecord, now: datetime, event: str, reason: str) -> lifecycle.CallRecord:
    at = lifecycle.iso(now)
    # ACS ended the dialing leg itself (or never made one): nothing for the lifecycle to hang up.
    record = replace(record, stage="ended", stage_since=now, outcome=lifecycle.NOT_ANSWERED, end_reason=reason,
                     ended_at=record.ended_at or at, hang_up="not_needed")
    return lifecycle.note(record, at, event, reason)


def on_placed(record: lifecycle.CallRecord, result: Mapping[str, object], now: datetime) -> lifecycle.CallRecord:
    """The createCall activity finished: the call is ringing at the target, or ACS refused to dial it."""
    connection_id = result.get("callConnectionId")
    if result.get("status") == "ok" and isinstance(connection_id, str) and connection_id:
        if record.call_connection_id is None:
            record = replace(record, call_connection_id=connection_id[:lifecycle.MAX_DETAIL_CHARS])
        server_call_id = result.get("serverCallId")
        if isinstance(server_call_id, str) and server_call_id and not record.start.server_call_id:
            # Known only once ACS created the call; a recording locates the call by it.
            record = replace(record, start=replace(record.start, server_call_id=server_call_id[:1024]))
        return lifecycle.note(replace(record, answered=True), lifecycle.iso(now), "call_placed")
    if record.stage != "ringing":
        return record
    detail = str(result.get("message") or result.get("error") or "createCall failed").strip().splitlines()[0]
    return _ended(record, now, "dial_failed", detail[:lifecycle.MAX_DETAIL_CHARS])


def on_create_call_failed(record: lifecycle.CallRecord, payload: Mapping[str, object], now: datetime
                          ) -> lifecycle.CallRecord:
    """ACS could not establish the call (declined, unreachable, ...): not answered, with ACS's result."""
    if record.stage != "ringing":
        return record
    result = payload.get("result")
    parts = [f"{key} {result[key]}" for key in ("code", "subCode")
             if isinstance(result, Mapping) and result.get(key) is not None]
    message = result.get("message") if isinstance(result, Mapping) else None
    if isinstance(message, str) and message:
        parts.append(message)
    return _ended(record, now, lifecycle.NOT_ANSWERED, ", ".join(str(p) for p in parts) or CREATE_CALL_FAILED)


def flow_result(start: CallStart, result: Mapping[str, object]) -> Mapping[str, object]:
    """The loaded flow settings as this outbound call runs them: its own greeting, its flow choice."""
    outbound = start.outbound
    if outbound is None:
        return result
    failed = result.get("status") == "failed"
    flow: dict[str, object] = CallFlowSettings().to_dict() if failed or outbound.get("flow") == "none" \
        else dict(result)
    if failed:
        flow["status"] = "failed"  # kept, so the timeline still says the flow settings failed
    greeting = outbound.get("greetingText")
    if greeting:
        goodbye = result.get("goodbye")
        voice = goodbye.get("voice") if isinstance(goodbye, Mapping) else None  # the deployment's TTS voice
        flow["greeting"] = {"text": greeting, "url": None, **({"voice": voice} if isinstance(voice, str) else {})}
    return flow


def direction(start: CallStart) -> str:
    return "outbound" if start.outbound is not None else "inbound"



OUTBOUND_TARGET = "outbound-target"  # sealed_value purpose of the number dialed (opened by PLACE_CALL only)


def raw_id_of(target: str) -> str:
    """ACS's raw id of a request's `to`: "4:+1..." for a number, the ACS user id as it is."""
    return target if target.startswith("8:") else f"4:{target}"


def identifier_kind(target: str) -> str:
    return "communicationUser" if target.startswith("8:") else "phoneNumber"


def rate_window(now: datetime) -> tuple[str, str, int]:
    """The per-minute limit's window: (day partition, minute row key, seconds until the next window)."""
    utc = now.astimezone(UTC)
    return utc.strftime("%Y%m%d"), utc.strftime("%H%M"), max(1, 60 - utc.second)
