"""A locally generated ACS key set served on loopback, and forged-token helpers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tools.acs_simulator.jwt_signer import AcsTokenIssuer


@pytest.fixture
def issuer() -> Iterator[AcsTokenIssuer]:
    with AcsTokenIssuer(str(uuid.uuid4())) as running:
        yield running


def forged_tokens(issuer: AcsTokenIssuer) -> dict[str, str | None]:
    """Authorization header values that must all be refused, by what is wrong with them."""
    from tools.acs_simulator.jwt_signer import SigningKey

    impostor = SigningKey(kid=issuer.current.kid)  # same kid, another private key: a wrong signature
    return {
        "no token": None,
        "not bearer": "Basic dXNlcjpwYXNz",
        "garbage": "Bearer not.a.jwt",
        "wrong signature": f"Bearer {issuer.token(key=impostor)}",
        "unknown key": f"Bearer {issuer.token(key=SigningKey())}",
        "wrong audience": f"Bearer {issuer.token(audience=str(uuid.uuid4()))}",
        "wrong issuer": f"Bearer {issuer.token(issuer='https://evil.example.com')}",
        "expired": f"Bearer {issuer.token(lifetime_s=300, issued_at=0)}",
    }
