"""Parsing of Event Grid deliveries to POST /api/events: IncomingCall and the validation handshake.

Accepts the Event Grid schema (always an array) and CloudEvents 1.0 (one object or a batch array). The
parser is strict about the fields we act on and tolerant of extra fields; event types we do not handle are
kept with `data=None` so that the HTTP layer can acknowledge them instead of making Event Grid retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.json_body import (
    BadRequest,
    child_path,
    optional_object,
    optional_str,
    require_object,
    require_str,
)

INCOMING_CALL = "Microsoft.Communication.IncomingCall"
SUBSCRIPTION_VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent"
CLOUDEVENTS_SPEC_VERSION = "1.0"

# The identifier shapes of the Communication identifier model, by the member that carries the details.
_IDENTIFIER_KINDS = (
    "phoneNumber",
    "communicationUser",
    "microsoftTeamsUser",
    "microsoftTeamsApp",
    "teamsExtensionUser",
)


@dataclass(frozen=True)
class CommunicationIdentifier:
    kind: str  # "phoneNumber", "communicationUser", "microsoftTeamsUser", "unknown", ...
    raw_id: str
    phone_number: str | None  # phoneNumber.value
    communication_user_id: str | None


@dataclass(frozen=True)
class IncomingCall:
    to: CommunicationIdentifier
    from_: CommunicationIdentifier
    server_call_id: str
    caller_display_name: str | None
    incoming_call_context: str
    correlation_id: str
    custom_context: dict[str, dict[str, str]] | None  # {"sipHeaders": {...}, "voipHeaders": {...}}


@dataclass(frozen=True)
class SubscriptionValidation:
    validation_code: str
    validation_url: str | None


@dataclass(frozen=True)
class EventGridEvent:
    id: str
    event_type: str
    subject: str | None
    event_time: str | None
    schema: Literal["eventgrid", "cloudevents"]
    data: IncomingCall | SubscriptionValidation | None  # None for event types we do not know


def parse_communication_identifier(value: object, path: str) -> CommunicationIdentifier:
    """A CommunicationIdentifierModel: {kind?, rawId, phoneNumber?:{value}, communicationUser?:{id}, ...}."""
    identifier = require_object(value, path)
    raw_id = require_str(identifier, "rawId", path)
    kind = optional_str(identifier, "kind", path)
    phone = optional_object(identifier, "phoneNumber", path)
    user = optional_object(identifier, "communicationUser", path)
    phone_number = require_str(phone, "value", child_path(path, "phoneNumber")) if phone is not None else None
    user_id = require_str(user, "id", child_path(path, "communicationUser")) if user is not None else None
    if kind is None:
        # Older payloads carry no "kind"; the member holding the details says which kind it is.
        kind = next((name for name in _IDENTIFIER_KINDS if identifier.get(name) is not None), "unknown")
    return CommunicationIdentifier(kind=kind, raw_id=raw_id, phone_number=phone_number, communication_user_id=user_id)


def _parse_headers(value: object, path: str) -> dict[str, str]:
    headers = require_object(value, path)
    for name, header_value in headers.items():
        if not isinstance(header_value, str):
            raise BadRequest("expected a string header value", path=child_path(path, name))
    return dict(headers)  # type: ignore[arg-type]  # every value was checked to be a string above


def _parse_custom_context(data: dict[str, object], path: str) -> dict[str, dict[str, str]] | None:
    context = optional_object(data, "customContext", path)
    if context is None:
        return None
    context_path = child_path(path, "customContext")
    return {
        name: _parse_headers(context[name], child_path(context_path, name)) if context.get(name) is not None else {}
        for name in ("sipHeaders", "voipHeaders")
    }


def parse_incoming_call(value: object, path: str) -> IncomingCall:
    data = require_object(value, path)
    if "to" not in data:
        raise BadRequest("missing required object 'to'", path=child_path(path, "to"))
    if "from" not in data:
        raise BadRequest("missing required object 'from'", path=child_path(path, "from"))
    return IncomingCall(
        to=parse_communication_identifier(data["to"], child_path(path, "to")),
        from_=parse_communication_identifier(data["from"], child_path(path, "from")),
        server_call_id=require_str(data, "serverCallId", path),
        caller_display_name=optional_str(data, "callerDisplayName", path),
        incoming_call_context=require_str(data, "incomingCallContext", path),
        correlation_id=require_str(data, "correlationId", path),
        custom_context=_parse_custom_context(data, path),
    )


def parse_subscription_validation(value: object, path: str) -> SubscriptionValidation:
    data = require_object(value, path)
    return SubscriptionValidation(
        validation_code=require_str(data, "validationCode", path),
        validation_url=optional_str(data, "validationUrl", path),
    )


def _parse_data(event_type: str, event: dict[str, object], path: str) -> IncomingCall | SubscriptionValidation | None:
    data_path = child_path(path, "data")
    if event_type == INCOMING_CALL:
        return parse_incoming_call(event.get("data"), data_path)
    if event_type == SUBSCRIPTION_VALIDATION:
        return parse_subscription_validation(event.get("data"), data_path)
    return None


def _parse_eventgrid_event(event: dict[str, object], path: str) -> EventGridEvent:
    event_type = require_str(event, "eventType", path)
    optional_str(event, "dataVersion", path)  # type-checked only: we do not branch on it
    return EventGridEvent(
        id=require_str(event, "id", path),
        event_type=event_type,
        subject=optional_str(event, "subject", path),
        event_time=optional_str(event, "eventTime", path),
        schema="eventgrid",
        data=_parse_data(event_type, event, path),
    )


def _parse_cloud_event(event: dict[str, object], path: str) -> EventGridEvent:
    spec_version = require_str(event, "specversion", path)
    if spec_version != CLOUDEVENTS_SPEC_VERSION:
        raise BadRequest(
            f"unsupported CloudEvents specversion {spec_version[:20]!r}", path=child_path(path, "specversion")
        )
    event_type = require_str(event, "type", path)
    require_str(event, "source", path)
    return EventGridEvent(
        id=require_str(event, "id", path),
        event_type=event_type,
        subject=optional_str(event, "subject", path),
        event_time=optional_str(event, "time", path),
        schema="cloudevents",
        data=_parse_data(event_type, event, path),
    )


def _parse_event(value: object, path: str) -> EventGridEvent:
    event = require_object(value, path)
    if "specversion" in event:
        return _parse_cloud_event(event, path)
    return _parse_eventgrid_event(event, path)


def parse_event_grid_delivery(body: object) -> list[EventGridEvent]:
    """The events of one delivery, in order; BadRequest (with a JSON path) for anything malformed."""
    if isinstance(body, dict):
        if "specversion" not in body:
            raise BadRequest("expected an array of events or a single CloudEvent", path="specversion")
        return [_parse_cloud_event(body, "")]
    if not isinstance(body, list):
        raise BadRequest("expected an array of events or a single CloudEvent")
    if not body:
        raise BadRequest("the event array is empty")
    return [_parse_event(element, f"[{index}]") for index, element in enumerate(body)]
