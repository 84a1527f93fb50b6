"""Hold, unhold, add participant, play to one participant, and the custom calling context of a transfer or an
added participant: what the simulator refuses and the participant state it keeps. No I/O.

Shapes are the SDK's generated request models (request_schema checks them first): HoldRequest /
UnholdRequest {targetParticipant, playSourceInfo, operationContext} (`POST .../callConnections/{id}:hold`,
`:unhold`, answer 200), AddParticipantRequest {participantToAdd, sourceCallerIdNumber,
invitationTimeoutInSeconds (0..180), operationContext, customCallingContext} (`.../participants:add`, answer
202 AddParticipantResponse {participant, operationContext, invitationId}), CancelAddParticipantRequest
{invitationId, operationContext} (`.../participants:cancelAddParticipant`, answer 202
CancelAddParticipantResponse {invitationId, operationContext}), RemoveParticipantRequest {participantToRemove,
operationContext} (`.../participants:remove`, answer 202 RemoveParticipantResponse {operationContext}) (the
SDK's generated operations accept 202 only for these three), PlayRequest.playTo,
TransferToParticipantRequest.customCallingContext {sipHeaders, voipHeaders}.

Refused, stricter than the service where it does not say:
- a participant that is not in the call (hold, unhold, playTo), an unhold of someone not on hold, an add of
  someone already in the call;
- a cancel naming an invitation this call never issued (one already answered, declined or withdrawn is
  taken, and its result is CancelAddParticipantFailed); a remove of anyone but a participant the application
  added and who joined (the service would also remove the caller, which no scenario here needs);
- a phone number added without `sourceCallerIdNumber` ("For CreateCall, Transfer, AddParticipant, and
  Redirect to phone numbers, you need to set the SourceCallerId": MicrosoftDocs/azure-docs
  concepts/troubleshooting-codes.md; Transfer is let through, as the service does for a transferee's call);
- custom context beyond the documented limits (how-tos/calling-sdk/includes/call-context/call-context-web.md
  "Technical parameters"): at most 5 SIP headers, keys starting `X-MS-Custom-` of at most 64 characters
  made of letters, digits and `. ! % * _ + ~ -`, values of at most 256 characters made of letters, digits
  and `= ; . ! % * _ + ~ -`; VoIP keys at most 64 and values at most 1024 characters.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tools.acs_simulator import identifiers
from tools.acs_simulator.acs_errors import COGNITIVE_NOT_SET_UP, AcsError, bad_request, not_set_up
from tools.acs_simulator.call_registry import CallConnection

OPERATIONS = frozenset({"hold", "unhold", "participants_add", "participants_cancelAddParticipant",
                        "participants_remove", "transfer", "play"})
# Changed here, answered 200/202 with the answer `apply` builds.
STATE_OPERATIONS = frozenset({"hold", "unhold", "participants_add", "participants_cancelAddParticipant",
                              "participants_remove"})
SIP_PREFIX = "X-MS-Custom-"
MAX_SIP_HEADERS = 5
MAX_KEY_CHARS = 64
MAX_SIP_VALUE_CHARS = 256
MAX_VOIP_VALUE_CHARS = 1024
_SIP_KEY = re.compile(r"[A-Za-z0-9.!%*_+~-]{1,64}")
_SIP_VALUE = re.compile(r"[A-Za-z0-9=;.!%*_+~-]{0,256}")


def raw_id(identifier: Any) -> str | None:
    return identifier.get("rawId") if isinstance(identifier, dict) and isinstance(identifier.get("rawId"), str) \
        else None


def in_call(call: CallConnection) -> set[str]:
    """The raw ids of the call's participants other than the application: the caller, and agents who joined."""
    return {identifiers.raw_id(call.offered.caller), *call.joined}


def _custom_context(body: dict[str, Any]) -> AcsError | None:
    context = body.get("customCallingContext")
    if not isinstance(context, dict):
        return None
    sip, voip = context.get("sipHeaders") or {}, context.get("voipHeaders") or {}
    if len(sip) > MAX_SIP_HEADERS:
        return bad_request(f"customCallingContext.sipHeaders: at most {MAX_SIP_HEADERS} headers.")
    for key, value in sip.items():
        if not key.startswith(SIP_PREFIX) or _SIP_KEY.fullmatch(key) is None:
            return bad_request(f"customCallingContext.sipHeaders: invalid header name {key[:80]!r}.")
        if _SIP_VALUE.fullmatch(value) is None:
            return bad_request(f"customCallingContext.sipHeaders.{key}: value too long or holds characters a SIP "
                               "header value may not.")
    for key, value in voip.items():
        if not key or len(key) > MAX_KEY_CHARS or len(value) > MAX_VOIP_VALUE_CHARS or "\n" in value or "\r" in value:
            return bad_request(f"customCallingContext.voipHeaders: invalid header {key[:80]!r}.")
    return None


def _hold(operation: str, call: CallConnection, body: dict[str, Any]) -> AcsError | None:
    target = raw_id(body.get("targetParticipant"))
    if target not in in_call(call):
        return bad_request("targetParticipant is not a participant of this call.")
    if operation == "unhold" and target not in call.held:
        return bad_request("targetParticipant is not on hold.")
    music = body.get("playSourceInfo")
    if isinstance(music, dict) and music.get("kind") in ("text", "ssml") and not call.cognitive_services_endpoint:
        return not_set_up(COGNITIVE_NOT_SET_UP)  # as for play: TTS needs the AI resource (request_rules)
    return None


def _play_to(call: CallConnection, body: dict[str, Any]) -> AcsError | None:
    for index, target in enumerate(body.get("playTo") or []):
        if raw_id(target) not in in_call(call):
            return bad_request(f"playTo[{index}] is not a participant of this call.")
    return None


def _add(call: CallConnection, body: dict[str, Any]) -> AcsError | None:
    refused = _custom_context(body)
    if refused is not None:
        return refused
    added = body.get("participantToAdd") or {}
    if raw_id(added) in in_call(call) or raw_id(added) in call.invitations.values():
        return bad_request("participantToAdd is already in the call or invited.")
    is_phone = added.get("kind") == "phoneNumber" or "phoneNumber" in added
    if is_phone and not isinstance(body.get("sourceCallerIdNumber"), dict):
        return bad_request("sourceCallerIdNumber is required to add a phone number.")
    return None


def _cancel(call: CallConnection, body: dict[str, Any]) -> AcsError | None:
    invitation = body.get("invitationId")
    if invitation not in call.invitations and invitation not in call.past_invitations:
        return bad_request("invitationId is not an invitation of this call.")
    return None


def _remove(call: CallConnection, body: dict[str, Any]) -> AcsError | None:
    if raw_id(body.get("participantToRemove")) not in call.joined:
        return bad_request("participantToRemove is not a participant of this call.")
    return None


def check(operation: str, call: CallConnection, body: dict[str, Any]) -> AcsError | None:
    """Refusals for hold, unhold, add / cancel / remove participant, play to participants, transfer context."""
    if operation in ("hold", "unhold"):
        return _hold(operation, call, body)
    if operation == "play":
        return _play_to(call, body)
    if operation == "participants_add":
        return _add(call, body)
    if operation == "participants_cancelAddParticipant":
        return _cancel(call, body)
    if operation == "participants_remove":
        return _remove(call, body)
    return _custom_context(body) if operation == "transfer" else None


def apply(operation: str, call: CallConnection, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """Change the call's participant state; the status and JSON answer of the request."""
    target = raw_id(body.get("targetParticipant"))
    if operation == "hold" and target is not None:
        call.held.add(target)
        return 200, None
    if operation == "unhold" and target is not None:
        call.held.discard(target)
        return 200, None
    if operation == "participants_add":
        invitation_id = str(uuid.uuid4())
        added = body["participantToAdd"]
        call.invitations[invitation_id] = raw_id(added) or ""
        return 202, {"participant": {"identifier": added, "isMuted": False, "isOnHold": False},
                     "operationContext": body.get("operationContext"), "invitationId": invitation_id}
    if operation == "participants_cancelAddParticipant":
        invitation = body["invitationId"]
        if invitation in call.invitations:  # still ringing: withdrawn; the call engine sends the result
            call.past_invitations[invitation] = call.invitations.pop(invitation)
            call.canceled_invitations.add(invitation)
        return 202, {"invitationId": invitation, "operationContext": body.get("operationContext")}
    if operation == "participants_remove":
        removed = raw_id(body.get("participantToRemove")) or ""
        call.joined.discard(removed)
        call.held.discard(removed)
    return 202, {"operationContext": body.get("operationContext")}
