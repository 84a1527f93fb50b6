"""Pure checks for the bearer JWTs that ACS (callbacks, media WebSocket) and Event Grid (Entra delivery) send.

The signature is verified by PyJWT with a key the caller resolves from the token's `kid` (the I/O lives in
`adapters/jwks_keys.py`); every claim check is done here against an injected clock, so lifetime, audience and
issuer rules are tested without sockets or sleeps. Nothing here reads the network, the clock or the
environment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

ACS_ISSUER = "https://acscallautomation.communication.azure.com"
DEFAULT_ACS_OPENID_CONFIG_URL = f"{ACS_ISSUER}/calling/.well-known/acsopenidconfiguration"
ALGORITHMS = ("RS256",)
# ACS's callback tokens live 5 minutes and its media-socket tokens 24 hours; a token claiming more was not
# minted by ACS. The leeway absorbs clock skew between ACS and this host, and no more.
MAX_LIFETIME_SECONDS = 24 * 3600 + 300
DEFAULT_LEEWAY_SECONDS = 60
MAX_LEEWAY_SECONDS = 300
MAX_TOKEN_CHARS = 8192
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)\s*$", re.IGNORECASE)


class JwtRejected(Exception):
    """The request's bearer token is missing or invalid. `reason` is safe to return to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class JwtPolicy:
    """Who may sign (issuers) and for whom (audiences); both non-empty."""

    audiences: tuple[str, ...]
    issuers: tuple[str, ...]
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    max_lifetime_seconds: int = MAX_LIFETIME_SECONDS


def acs_policy(resource_id: str, leeway_seconds: int = DEFAULT_LEEWAY_SECONDS) -> JwtPolicy:
    return JwtPolicy(audiences=(resource_id,), issuers=(ACS_ISSUER,), leeway_seconds=leeway_seconds)


def bearer_token(authorization: str | None) -> str:
    """The compact JWT of an `Authorization: Bearer <jwt>` header value."""
    if not authorization:
        raise JwtRejected("missing bearer token")
    if len(authorization) > MAX_TOKEN_CHARS:
        raise JwtRejected("bearer token too long")
    match = _BEARER.match(authorization)
    if match is None:
        raise JwtRejected("malformed bearer token")
    return match.group(1)


def token_kid(token: str) -> str:
    """The `kid` of the token's header (unverified: it only picks the key), for an RS256 token."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise JwtRejected("malformed token") from error
    if header.get("alg") not in ALGORITHMS:
        raise JwtRejected("unexpected signing algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise JwtRejected("token has no key id")
    return kid


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JwtRejected(f"token has no numeric {name}")
    return float(value)


def check_claims(claims: Mapping[str, Any], policy: JwtPolicy, now: float) -> None:
    """Issuer, audience and lifetime (`now` in Unix seconds). Raises `JwtRejected` naming the first failure."""
    if claims.get("iss") not in policy.issuers:
        raise JwtRejected("wrong issuer")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(isinstance(a, str) and a in policy.audiences for a in audiences):
        raise JwtRejected("wrong audience")
    expires = _number(claims, "exp")
    if now > expires + policy.leeway_seconds:
        raise JwtRejected("token expired")
    if "nbf" in claims and now + policy.leeway_seconds < _number(claims, "nbf"):
        raise JwtRejected("token not yet valid")
    if "iat" in claims:
        issued = _number(claims, "iat")
        if now + policy.leeway_seconds < issued:
            raise JwtRejected("token issued in the future")
        if expires - issued > policy.max_lifetime_seconds:
            raise JwtRejected("token lifetime too long")


def verify_token(token: str, key_for_kid: Callable[[str], Any], policy: JwtPolicy, now: float) -> dict[str, Any]:
    """Verify the RS256 signature with the key `key_for_kid` returns (it raises `JwtRejected` for an unknown
    key), then the claims. Returns the claims."""
    key = key_for_kid(token_kid(token))
    try:
        # Lifetime, audience and issuer are checked by check_claims against the injected clock.
        claims = jwt.decode(token, key, algorithms=list(ALGORITHMS),
                            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                     "verify_aud": False, "verify_iss": False, "require": ["exp"]})
    except jwt.InvalidSignatureError as error:
        raise JwtRejected("invalid signature") from error
    except jwt.PyJWTError as error:
        raise JwtRejected("invalid token") from error
    check_claims(claims, policy, now)
    return claims


def jwks_uri_of(openid_configuration: object) -> str:
    """The `jwks_uri` of an OpenID configuration document (http or https only)."""
    uri = openid_configuration.get("jwks_uri") if isinstance(openid_configuration, dict) else None
    if not isinstance(uri, str) or not uri.lower().startswith(("https://", "http://")):
        raise ValueError("the OpenID configuration has no http(s) jwks_uri")
    return uri
