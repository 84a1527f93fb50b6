"""ACS communication identifiers and the opaque ids the simulator mints."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from typing import Any


def phone_identifier(number: str) -> dict[str, Any]:
    """`{kind, rawId, phoneNumber:{value}}` as in IncomingCall events and CallConnectionProperties."""
    return {"kind": "phoneNumber", "rawId": f"4:{number}", "phoneNumber": {"value": number}}


def acs_user_identifier(user_id: str) -> dict[str, Any]:
    return {"kind": "communicationUser", "rawId": user_id, "communicationUser": {"id": user_id}}


def identifier_for(address: str) -> dict[str, Any]:
    """A phone number ("+1...") or an ACS user id ("8:acs:...")."""
    return acs_user_identifier(address) if address.startswith("8:") else phone_identifier(address)


def raw_id(address: str) -> str:
    return str(identifier_for(address)["rawId"])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_incoming_call_context(server_call_id: str) -> str:
    """A JWT-shaped opaque string (header.payload.signature); callers must echo it back unchanged."""
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"cc": server_call_id, "n": secrets.token_hex(8)}).encode())
    return f"{header}.{payload}.{_b64url(secrets.token_bytes(32))}"


def new_server_call_id() -> str:
    # Real serverCallIds are base64 of a long URL; the shape matters less than being opaque and unique.
    return _b64url(f"aHR0cHM6Ly9hcGk.simulated/conv/{uuid.uuid4()}".encode())


def new_app_identity() -> str:
    """An ACS user id, `8:acs:<resource id>_<user id>`, as the spec examples show the application's own."""
    return f"8:acs:{uuid.uuid4()}_{uuid.uuid4()}"


def new_call_connection_id() -> str:
    return f"{uuid.uuid4().hex[:8]}-{uuid.uuid4()}"


def new_correlation_id() -> str:
    return str(uuid.uuid4())
