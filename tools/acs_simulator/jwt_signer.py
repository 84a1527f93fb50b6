"""ACS's bearer JWTs for the simulator: a locally generated RSA key set, served on loopback as ACS serves
its own (OpenID configuration + JWKS), and a signer for `run_scenario(signer=...)`.

    with AcsTokenIssuer(resource_id) as issuer:          # http://127.0.0.1:<port>/calling/...
        env["ACS_OPENID_CONFIG_URL"] = issuer.openid_config_url
        await run_scenario(..., signer=issuer.signer)     # callbacks: 5-minute tokens; sockets: 24 hours
        issuer.rotate()                                   # a new key, published at once

Tests forge tokens with `issuer.token(...)` overrides (audience, lifetime, another key) to check refusals.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.acs_jwt import ACS_ISSUER

CALLBACK_TOKEN_SECONDS = 300
SOCKET_TOKEN_SECONDS = 24 * 3600
OPENID_PATH = "/calling/.well-known/acsopenidconfiguration"
KEYS_PATH = "/calling/keys"


class SigningKey:
    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


class AcsTokenIssuer:
    """Mints ACS-shaped tokens and serves the key set on 127.0.0.1 (a free port)."""

    def __init__(self, resource_id: str) -> None:
        self.resource_id = resource_id
        self.keys: list[SigningKey] = [SigningKey()]
        self.fetches: dict[str, int] = {OPENID_PATH: 0, KEYS_PATH: 0}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- tokens ------------------------------------------------------------------------------------------

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def token(self, *, lifetime_s: int = CALLBACK_TOKEN_SECONDS, audience: str | None = None,
              issuer: str = ACS_ISSUER, key: SigningKey | None = None, issued_at: float | None = None,
              extra: Mapping[str, Any] | None = None) -> str:
        now = time.time() if issued_at is None else issued_at
        claims: dict[str, Any] = {"iss": issuer, "aud": audience or self.resource_id, "iat": int(now),
                                  "nbf": int(now), "exp": int(now) + lifetime_s, **(extra or {})}
        signing = key or self.current
        return jwt.encode(claims, signing.private_key, algorithm="RS256", headers={"kid": signing.kid})

    def signer(self, url: str) -> dict[str, str]:
        """The `RequestSigner` hook: a fresh token per request, 24 h for sockets and 5 min for callbacks."""
        lifetime = SOCKET_TOKEN_SECONDS if url.startswith(("ws://", "wss://")) else CALLBACK_TOKEN_SECONDS
        return {"Authorization": f"Bearer {self.token(lifetime_s=lifetime)}"}

    def rotate(self) -> SigningKey:
        """Publish a new key and sign with it from now on (old keys stay published)."""
        self.keys.append(SigningKey())
        return self.current

    # --- the loopback OpenID endpoint --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the issuer first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openid_config_url(self) -> str:
        return self.base_url + OPENID_PATH

    def _document(self, path: str) -> dict[str, Any] | None:
        if path == OPENID_PATH:
            return {"issuer": ACS_ISSUER, "jwks_uri": self.base_url + KEYS_PATH,
                    "id_token_signing_alg_values_supported": ["RS256"]}
        if path == KEYS_PATH:
            return {"keys": [key.jwk() for key in self.keys]}
        return None

    def start(self) -> AcsTokenIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                document = issuer._document(self.path)
                if document is not None:
                    issuer.fetches[self.path] += 1
                body = json.dumps(document or {"error": "not found"}).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="acs-openid", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AcsTokenIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
