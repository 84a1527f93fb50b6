"""Signing keys from an OpenID configuration's JWKS, through PyJWT's `PyJWKClient` (the one adapter here).

Both processes need it and the media host's image ships only `shared/` and `media_host/`, so it lives in
`shared/` next to the pure checks it feeds (`shared/acs_jwt.py`). The key set is cached; a token with an
unknown `kid` refetches it, at most once per `cooldown_seconds` (PyJWT's rule, which also stops a flood of
forged kids from hammering the issuer), so a rotated key is accepted within that cooldown.

Fetching is blocking (urllib): async callers use `cached_key` first and run `key_for_kid` in a thread only
when the key is not cached.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError

from shared.acs_jwt import JwtRejected, bearer_token, jwks_uri_of, token_kid, verify_token
from shared.security_settings import JwtSource

FETCH_TIMEOUT_SECONDS = 5.0
KEY_SET_LIFESPAN_SECONDS = 3600.0
UNKNOWN_KID_COOLDOWN_SECONDS = 30.0


class KeysUnavailable(Exception):
    """The issuer's key set could not be fetched: the request may be genuine, so answer 503, not 401."""


class JwksKeys:
    def __init__(self, openid_config_url: str, *, timeout: float = FETCH_TIMEOUT_SECONDS,
                 lifespan: float = KEY_SET_LIFESPAN_SECONDS,
                 cooldown_seconds: float = UNKNOWN_KID_COOLDOWN_SECONDS) -> None:
        self.openid_config_url = openid_config_url
        self._timeout = timeout
        self._lifespan = lifespan
        self._cooldown = cooldown_seconds
        self._client: PyJWKClient | None = None
        self._lock = threading.Lock()

    def jwk_client(self) -> PyJWKClient:
        with self._lock:
            if self._client is None:
                try:
                    with urllib.request.urlopen(self.openid_config_url, timeout=self._timeout) as response:  # noqa: S310 - URL validated as https/loopback by the settings
                        uri = jwks_uri_of(json.load(response))
                except (OSError, ValueError) as error:
                    raise KeysUnavailable(f"OpenID configuration unavailable: {type(error).__name__}") from error
                self._client = PyJWKClient(uri, cache_jwk_set=True, lifespan=self._lifespan,
                                           timeout=self._timeout, cooldown_duration=self._cooldown)
            return self._client

    def cached_key(self, kid: str) -> Any | None:
        """The key for `kid` if the cached key set has it; never fetches."""
        client = self._client
        cache = client.jwk_set_cache if client is not None else None
        key_set = cache.get() if cache is not None else None
        if key_set is None:
            return None
        for key in key_set.keys:
            if key.key_id == kid and key.public_key_use in ("sig", None):
                return key.key
        return None

    def key_for_kid(self, kid: str) -> Any:
        """The key for `kid`, fetching the key set when needed. Raises `JwtRejected` for an unknown kid."""
        client = self.jwk_client()
        try:
            return client.get_signing_key(kid).key
        except PyJWKClientConnectionError as error:
            raise KeysUnavailable("signing keys unavailable") from error
        except (PyJWKClientError, jwt.PyJWTError) as error:
            raise JwtRejected("unknown signing key") from error

    def warm(self) -> None:
        """Fetch the key set now (at start-up), so the first call does not wait for it."""
        self.jwk_client().get_signing_keys()


class BearerVerifier:
    """Verifies `Authorization` header values against one issuer's keys and one policy."""

    def __init__(self, source: JwtSource, *, clock: Callable[[], float] = time.time,
                 keys: JwksKeys | None = None) -> None:
        self.source = source
        self.keys = keys or JwksKeys(source.openid_config_url)
        self._clock = clock

    def verify(self, authorization: str | None) -> Mapping[str, Any]:
        """The verified claims; raises `JwtRejected` (401) or `KeysUnavailable` (503). May block to fetch."""
        return verify_token(bearer_token(authorization), self.keys.key_for_kid, self.source.policy, self._clock())

    def needs_fetch(self, authorization: str | None) -> bool:
        """True when verifying would fetch keys (so an async caller should use a thread)."""
        try:
            return self.keys.cached_key(token_kid(bearer_token(authorization))) is None
        except JwtRejected:
            return False
