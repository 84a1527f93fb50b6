"""Per-call identity: the Durable instance id derived from a call, and the per-call token.

The token is the unpadded urlsafe base64 of HMAC-SHA256(CALL_TOKEN_SECRET, instance id). It is put into
the callback URL and the media WebSocket URL at answer time, so that only the party ACS was told about
can speak for the call. Tools and infra rely on these exact forms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

INSTANCE_ID_PREFIX = "call-"
MAX_INSTANCE_ID_LENGTH = 256
# Durable's rules for instance ids, plus no whitespace: 1-256 characters, not starting with "@", none of
# / \ # ?, no control characters. An id outside these rules changes the URL the Durable SDK calls.
_FORBIDDEN_INSTANCE_ID = re.compile(r"[/\\#?\s\x00-\x1f\x7f]")
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def instance_id_for_call(server_call_id: str) -> str:
    """The orchestration instance id for a call.

    Derived from `serverCallId` so that every Event Grid delivery of the same call, whatever its event id,
    maps to the same instance. Hashed because `serverCallId` is opaque base64 that may contain "/".
    """
    digest = hashlib.sha256(server_call_id.encode()).hexdigest()  # str.encode() is UTF-8
    return f"{INSTANCE_ID_PREFIX}{digest[:32]}"


def is_valid_instance_id(instance_id: str) -> bool:
    """True when `instance_id` is safe to hand to the Durable SDK (which puts it into URL paths)."""
    return (
        0 < len(instance_id) <= MAX_INSTANCE_ID_LENGTH
        and not instance_id.startswith("@")
        and _FORBIDDEN_INSTANCE_ID.search(instance_id) is None
    )


def call_token(secret: str, instance_id: str) -> str:
    """The per-call token: unpadded urlsafe base64 of HMAC-SHA256(secret, instance_id)."""
    mac = hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:43]  # 32 bytes are 43 characters and one "=" of padding


def verify_call_token(secret: str, instance_id: str, token: str | None) -> bool:
    """Constant-time check of a presented token against the one for `instance_id`."""
    if not token or _TOKEN_SHAPE.match(token) is None:
        return False
    return hmac.compare_digest(call_token(secret, instance_id), token)
