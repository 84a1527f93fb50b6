"""A TokenCredential for tests: tokens from the local EntraTokenIssuer, only for ACS's scope."""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions
from azure.core.exceptions import ClientAuthenticationError

from tools.acs_simulator.entra_tokens import ACS_SCOPE, EntraTokenIssuer


class TestTokenCredential:
    """Implements azure-core's TokenCredential and SupportsTokenInfo protocols."""

    __test__ = False  # not a pytest test class

    def __init__(self, issuer: EntraTokenIssuer) -> None:
        self._issuer = issuer
        self.scopes_requested: list[tuple[str, ...]] = []

    def _mint(self, scopes: tuple[str, ...]) -> tuple[str, int]:
        self.scopes_requested.append(scopes)
        # The ACS SDKs ask for exactly this one scope; anything else is a misconfigured client.
        if scopes != (ACS_SCOPE,):
            raise ClientAuthenticationError(f"TestTokenCredential issues only {ACS_SCOPE}, not {scopes}")
        return self._issuer.token(scopes[0])

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        token, expires_on = self._mint(scopes)
        return AccessToken(token, expires_on)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        token, expires_on = self._mint(scopes)
        return AccessTokenInfo(token, expires_on)

    def close(self) -> None:
        return None

    def __enter__(self) -> TestTokenCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
