"""Verify ACS HMAC-SHA256 request signatures (sans-I/O).

The string to sign is the one the SDK's HMACCredentialsPolicy builds:
``METHOD \\n path?query \\n x-ms-date;host;x-ms-content-sha256``, keyed with the base64-decoded access key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

MAX_CLOCK_SKEW = timedelta(minutes=15)
SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


@dataclass(frozen=True)
class AuthVerdict:
    ok: bool
    reason: str = ""


def content_sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def sign(access_key_b64: str, method: str, path_and_query: str, date: str, host: str, content_hash: str) -> str:
    """Compute the signature a client would send; used by verification and by tests that forge requests."""
    string_to_sign = f"{method.upper()}\n{path_and_query}\n{date};{host};{content_hash}"
    digest = hmac.new(base64.b64decode(access_key_b64), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _parse_authorization(value: str) -> tuple[str, str] | None:
    scheme, _, params = value.partition(" ")
    if scheme != "HMAC-SHA256":
        return None
    fields = dict(part.split("=", 1) for part in params.split("&") if "=" in part)
    signed = fields.get("SignedHeaders")
    signature = fields.get("Signature")
    if not signed or not signature:
        return None
    return signed, signature


def verify(
    *,
    access_key_b64: str,
    method: str,
    path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> AuthVerdict:
    """Check one request; `headers` must be case-insensitive (lower-case keys)."""
    authorization = headers.get("authorization")
    if not authorization:
        return AuthVerdict(False, "Authorization header is missing.")
    parsed = _parse_authorization(authorization)
    if parsed is None:
        return AuthVerdict(False, "Authorization header is not HMAC-SHA256 with SignedHeaders and Signature.")
    signed_headers, signature = parsed
    if signed_headers.lower() != SIGNED_HEADERS:
        return AuthVerdict(False, f"SignedHeaders must be {SIGNED_HEADERS}.")
    date = headers.get("x-ms-date", "")
    host = headers.get("host", "")
    claimed_hash = headers.get("x-ms-content-sha256", "")
    if not date or not host or not claimed_hash:
        return AuthVerdict(False, "x-ms-date, host and x-ms-content-sha256 are required.")
    if claimed_hash != content_sha256(body):
        return AuthVerdict(False, "Request 'x-ms-content-sha256' differs from generated content hash.")
    try:
        sent_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return AuthVerdict(False, "x-ms-date is not an RFC 1123 date.")
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    if abs((now or datetime.now(UTC)) - sent_at) > MAX_CLOCK_SKEW:
        return AuthVerdict(False, "x-ms-date is outside the allowed clock skew.")
    try:
        # The SDK signs the encoded path by default (decode_url=False) but may sign it decoded: accept both.
        candidates = {path_and_query, unquote(path_and_query)}
        expected = [sign(access_key_b64, method, p, date, host, claimed_hash) for p in candidates]
    except (binascii.Error, ValueError):
        return AuthVerdict(False, "The configured access key is not base64.")
    if not any(hmac.compare_digest(signature, e) for e in expected):
        return AuthVerdict(False, "Signature mismatch.")
    return AuthVerdict(True)
