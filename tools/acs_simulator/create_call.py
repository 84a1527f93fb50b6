"""`POST /calling/callConnections` (createCall): an outbound call the application places. No I/O.

Shapes from the REST spec, `specification/communication/data-plane/CallAutomation/stable/2026-03-12`:
the body is `CreateCallRequest` (`targets` and `callbackUri` required; `sourceCallerIdNumber`,
`sourceDisplayName`, `source`, `operationContext`, `callIntelligenceOptions`, `mediaStreamingOptions`,
`transcriptionOptions`, `teamsAppSource`), checked field by field by `request_schema.py`; the answer is 201
`CallConnectionProperties` (examples/CreateCall.json). Beyond the shape, stricter than the service where
unsure:
- exactly one target, a phone number or an ACS user (this simulator rings one party; the service takes
  more, and Teams users, which nothing here places);
- a phone-number target needs `sourceCallerIdNumber` ("For CreateCall, Transfer, AddParticipant, and
  Redirect to phone numbers, you need to set the SourceCallerId": communication-services troubleshooting
  codes, "Troubleshooting tips"), in E.164 form;
- callback and transport URLs as for answer (`request_rules.check_urls`).
The call starts `connecting`; the call engine (outbound_engine.py) rings the target and then sends
CallConnected, or CreateCallFailed, as its scenario says.
"""

from __future__ import annotations

import re
from typing import Any

from tools.acs_simulator import identifiers
from tools.acs_simulator.acs_errors import AcsError, bad_request
from tools.acs_simulator.call_registry import CallConnection, CallRegistry, OfferedCall

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _target_address(target: Any) -> str | AcsError:
    if not isinstance(target, dict):
        return bad_request("targets[0]: expected an identifier.")
    phone, user = target.get("phoneNumber"), target.get("communicationUser")
    if isinstance(phone, dict) and isinstance(phone.get("value"), str) and _E164.fullmatch(phone["value"]):
        return str(phone["value"])
    if isinstance(user, dict) and isinstance(user.get("id"), str) and user["id"].startswith("8:acs:"):
        return str(user["id"])
    return bad_request("targets[0]: must be a phone number in E.164 form or an ACS user.")


def _source(body: dict[str, Any], target: str, app_identity: str) -> str | AcsError:
    caller_id = body.get("sourceCallerIdNumber")
    number = caller_id.get("value") if isinstance(caller_id, dict) else None
    if caller_id is not None and (not isinstance(number, str) or _E164.fullmatch(number) is None):
        return bad_request("sourceCallerIdNumber: must be a phone number in E.164 form.")
    if number is None and not target.startswith("8:"):
        return bad_request("sourceCallerIdNumber is required to call a phone number.")
    source = body.get("source")
    user = source.get("id") if isinstance(source, dict) else None
    return number or (user if isinstance(user, str) and user else app_identity)


def create_call(registry: CallRegistry, body: dict[str, Any]) -> CallConnection | AcsError:
    """Register the created call (ringing at its target until the engine connects or fails it)."""
    targets = body.get("targets")
    if not isinstance(targets, list) or len(targets) != 1:
        return bad_request("targets: this simulator places calls to exactly one target.")
    target = _target_address(targets[0])
    if isinstance(target, AcsError):
        return target
    source = _source(body, target, registry.app_identity)
    if isinstance(source, AcsError):
        return source
    server_call_id = identifiers.new_server_call_id()
    # The other party is the one dialed: `caller` of the engine's call is whoever speaks on the far end.
    dialed = OfferedCall(caller=target, callee=source, caller_display_name="", server_call_id=server_call_id,
                         correlation_id=identifiers.new_correlation_id(),
                         incoming_call_context=identifiers.new_incoming_call_context(server_call_id), managed=True)
    media, transcription = body.get("mediaStreamingOptions"), body.get("transcriptionOptions")
    intelligence = body.get("callIntelligenceOptions")
    endpoint = intelligence.get("cognitiveServicesEndpoint") if isinstance(intelligence, dict) else None
    connection = CallConnection(
        call_connection_id=identifiers.new_call_connection_id(), offered=dialed, callback_uri=str(body["callbackUri"]),
        operation_context=body.get("operationContext"),
        media_streaming=media if isinstance(media, dict) else None,
        transcription=transcription if isinstance(transcription, dict) else None,
        app_identity=registry.app_identity,
        cognitive_services_endpoint=endpoint if isinstance(endpoint, str) and endpoint else None,
        state="connecting",
    )
    registry.connections[connection.call_connection_id] = connection
    return connection
