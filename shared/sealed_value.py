"""Sealed values: a raw identifier (the caller's number, a transfer target) carried through Durable without
ever being readable there.

Durable's history, status and the call story are read by ops; a phone number in clear there is PII kept for
the retention period. So the shell seals the raw value (AES-256-GCM, `cryptography`'s AEAD) with a key
derived from CALL_TOKEN_SECRET, and only the activity that needs the raw value opens it. The purpose string
is bound as associated data, so a value sealed as a caller cannot be opened as a transfer target, and the
instance id too, so a value cannot be moved to another call. Pure: the nonce comes from the caller.

Form: "v1." + unpadded urlsafe base64 of nonce (12 bytes) || ciphertext+tag.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
PREFIX = "v1."
MAX_PLAINTEXT_CHARS = 512
CALLER = "caller"
TRANSFER_TARGET = "transfer-target"


class SealError(ValueError):
    """The sealed value is malformed, forged, or sealed for another purpose or call."""


def _key(secret: str) -> bytes:
    # A key of its own, derived from the token secret, so the per-call token's HMAC key is never an AES key.
    return hmac.new(secret.encode("utf-8"), b"sealed-value/v1", hashlib.sha256).digest()


def _associated(purpose: str, instance_id: str) -> bytes:
    return f"{purpose}\n{instance_id}".encode()


def seal(secret: str, nonce: bytes, purpose: str, instance_id: str, plaintext: str) -> str:
    """Seal `plaintext` for one purpose on one call. `nonce` must be 12 fresh random bytes."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    if not plaintext or len(plaintext) > MAX_PLAINTEXT_CHARS:
        raise ValueError(f"plaintext must be 1 to {MAX_PLAINTEXT_CHARS} characters")
    body = AESGCM(_key(secret)).encrypt(nonce, plaintext.encode("utf-8"), _associated(purpose, instance_id))
    return PREFIX + base64.urlsafe_b64encode(nonce + body).rstrip(b"=").decode("ascii")


def unseal(secret: str, purpose: str, instance_id: str, sealed: str) -> str:
    """The plaintext of a value sealed by `seal` with the same secret, purpose and instance id."""
    if not sealed.startswith(PREFIX):
        raise SealError("not a sealed value")
    text = sealed[len(PREFIX):]
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as error:
        raise SealError("not a sealed value") from error
    if len(raw) <= NONCE_BYTES + 16:
        raise SealError("sealed value too short")
    try:
        plain = AESGCM(_key(secret)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(purpose, instance_id))
    except InvalidTag as error:
        raise SealError("sealed value does not verify") from error
    return plain.decode("utf-8")
