"""Event Grid deliveries to the events endpoint (Event Grid schema): validation and IncomingCall. No I/O."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from tools.acs_simulator import identifiers
from tools.acs_simulator.call_registry import OfferedCall

TOPIC = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/simulated/providers/"
         "Microsoft.Communication/communicationServices/acs-simulator")
VALIDATION_HEADERS = {"aeg-event-type": "SubscriptionValidation", "Content-Type": "application/json"}
NOTIFICATION_HEADERS = {"aeg-event-type": "Notification", "Content-Type": "application/json"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def subscription_validation(events_url: str) -> tuple[str, list[dict[str, Any]]]:
    """(validationCode, body) for the handshake Event Grid sends before any notification."""
    code = str(uuid.uuid4()).upper()
    return code, [{
        "id": str(uuid.uuid4()),
        "topic": TOPIC,
        "subject": "",
        "data": {"validationCode": code,
                 "validationUrl": f"https://rp-simulated.eventgrid.azure.net/validate?code={secrets.token_hex(8)}"},
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": _now(),
        "metadataVersion": "1",
        "dataVersion": "2",
    }]


def validation_succeeded(code: str, status: int, response_body: bytes) -> bool:
    if status != 200:
        return False
    try:
        answer = json.loads(response_body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("validationResponse") == code


def incoming_call(offered: OfferedCall, event_id: str | None = None) -> list[dict[str, Any]]:
    """One IncomingCall, shaped as the Event Grid schema sample in the ACS docs."""
    return [{
        "id": event_id or str(uuid.uuid4()),
        "topic": TOPIC,
        "subject": f"/caller/{identifiers.raw_id(offered.caller)}/recipient/{identifiers.raw_id(offered.callee)}",
        "data": {
            "to": identifiers.identifier_for(offered.callee),
            "from": identifiers.identifier_for(offered.caller),
            "serverCallId": offered.server_call_id,
            "callerDisplayName": offered.caller_display_name,
            "customContext": {"sipHeaders": {}, "voipHeaders": {}},
            "incomingCallContext": offered.incoming_call_context,
            "correlationId": offered.correlation_id,
        },
        "eventType": "Microsoft.Communication.IncomingCall",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": _now(),
    }]
