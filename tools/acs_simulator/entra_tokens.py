"""A local stand-in for Microsoft Entra ID: bearer tokens for ACS's data plane, checked by the simulator.

Clients built with a TokenCredential ask for the scope `https://communication.azure.com//.default`
(azure-communication-callautomation and -email `_shared/auth_policy_utils.py`); the token's audience is that
scope's resource, `https://communication.azure.com/`. Tokens are RS256 JWTs signed with a per-run key.

Two ways to get one:
- `TestTokenCredential` (token_credential.py), for code a test constructs;
- the App Service managed-identity endpoint served here (`identity_env()`: IDENTITY_ENDPOINT and
  IDENTITY_HEADER, the variables azure-identity's ManagedIdentityCredential reads in App Service and Azure
  Functions), so the product's own `DefaultAzureCredential` runs unchanged. The protocol is azure-identity's
  `app_service.py`: GET ?api-version=2019-08-01&resource=<resource> with `X-IDENTITY-HEADER`, answered
  with `{"access_token", "expires_on", "resource", "token_type"}`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ACS_SCOPE = "https://communication.azure.com//.default"
ACS_AUDIENCE = "https://communication.azure.com/"
TOKEN_SECONDS = 3600
IDENTITY_PATH = "/msi/token"


def resource_for(scope: str) -> str:
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope


class EntraTokenIssuer:
    """Mints and verifies tokens; serves the managed-identity endpoint on 127.0.0.1 between start() and stop()."""

    def __init__(self) -> None:
        self.issuer = f"https://sts.windows.net/{uuid.uuid4()}/"
        self.object_id = str(uuid.uuid4())  # the managed identity's principal
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._identity_header = secrets.token_urlsafe(16)
        self.requests: list[str] = []  # resources asked for at the managed-identity endpoint
        self._server: ThreadingHTTPServer | None = None

    def token(self, scope: str = ACS_SCOPE, *, lifetime_s: int = TOKEN_SECONDS, audience: str | None = None) -> tuple[
            str, int]:
        now = int(time.time())
        expires_on = now + lifetime_s
        claims = {"iss": self.issuer, "aud": audience or resource_for(scope), "oid": self.object_id,
                  "sub": self.object_id, "iat": now, "nbf": now, "exp": expires_on}
        return jwt.encode(claims, self._key, algorithm="RS256"), expires_on

    def verify(self, token: str) -> str | None:
        """None when valid for ACS's data plane, else the reason."""
        try:
            jwt.decode(token, self._key.public_key(), algorithms=["RS256"], audience=ACS_AUDIENCE,
                       issuer=self.issuer, options={"require": ["exp", "aud", "iss"]})
        except jwt.PyJWTError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    # --- App Service managed-identity endpoint --------------------------------------------------------

    def identity_env(self) -> dict[str, str]:
        assert self._server is not None, "start the issuer first"
        return {"IDENTITY_ENDPOINT": f"http://127.0.0.1:{self._server.server_address[1]}{IDENTITY_PATH}",
                "IDENTITY_HEADER": self._identity_header}

    def _answer(self, path: str, header: str | None) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path != IDENTITY_PATH:
            return 404, {"error": "not found"}
        if header != self._identity_header:
            return 401, {"error": "X-IDENTITY-HEADER is missing or wrong"}
        resource = query.get("resource", "")
        if query.get("api-version") != "2019-08-01" or not resource:
            return 400, {"error": "api-version=2019-08-01 and resource are required"}
        self.requests.append(resource)
        token, expires_on = self.token(resource)
        return 200, {"access_token": token, "expires_on": str(expires_on), "resource": resource,
                     "token_type": "Bearer"}

    def start(self) -> EntraTokenIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, document = issuer._answer(self.path, self.headers.get("X-IDENTITY-HEADER"))
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="entra-msi", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> EntraTokenIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
