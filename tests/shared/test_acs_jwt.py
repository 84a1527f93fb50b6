"""shared.acs_jwt: bearer parsing and claim checks against an injected clock (no sockets, no sleeps)."""

from __future__ import annotations

import jwt
import pytest

from shared.acs_jwt import (
    ACS_ISSUER,
    JwtRejected,
    acs_policy,
    bearer_token,
    check_claims,
    jwks_uri_of,
    token_kid,
    verify_token,
)
from tools.acs_simulator.jwt_signer import SigningKey

AUDIENCE = "2a7b3c4d-0000-4000-8000-000000000001"
NOW = 1_800_000_000.0
POLICY = acs_policy(AUDIENCE)
KEY = SigningKey(kid="k1")


def claims(**overrides: object) -> dict[str, object]:
    return {"iss": ACS_ISSUER, "aud": AUDIENCE, "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 290, **overrides}


def signed(key: SigningKey = KEY, alg: str = "RS256", **overrides: object) -> str:
    return jwt.encode(claims(**overrides), key.private_key, algorithm=alg, headers={"kid": key.kid})


def resolve(kid: str) -> object:
    if kid != KEY.kid:
        raise JwtRejected("unknown signing key")
    return KEY.private_key.public_key()


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer a.b", "Bearer a b.c.d",
                                    "Bearer " + "a" * 9000 + ".b.c"])
def test_malformed_authorization_is_refused(header: str | None) -> None:
    with pytest.raises(JwtRejected):
        bearer_token(header)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer x.y.z") == "x.y.z"


def test_a_genuine_token_verifies() -> None:
    assert verify_token(signed(), resolve, POLICY, NOW)["aud"] == AUDIENCE


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"aud": "another-resource"}, "wrong audience"),
    ({"aud": ["x", "y"]}, "wrong audience"),
    ({"iss": "https://evil.example"}, "wrong issuer"),
    ({"exp": NOW - 61}, "token expired"),
    ({"exp": "tomorrow"}, "token has no numeric exp"),
    ({"nbf": NOW + 61}, "token not yet valid"),
    ({"iat": NOW + 61}, "token issued in the future"),
    ({"iat": NOW - 90_000, "nbf": NOW - 90_000}, "token lifetime too long"),
])
def test_claims_are_checked(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(JwtRejected, match=reason):
        check_claims(claims(**overrides), POLICY, NOW)


def test_leeway_is_bounded() -> None:
    check_claims(claims(exp=NOW - 59), POLICY, NOW)  # skew within a minute is tolerated
    with pytest.raises(JwtRejected):
        check_claims(claims(exp=NOW - 61), POLICY, NOW)


def test_audience_may_be_a_list() -> None:
    check_claims(claims(aud=["other", AUDIENCE]), POLICY, NOW)


def test_wrong_signature_is_refused() -> None:
    impostor = SigningKey(kid=KEY.kid)
    with pytest.raises(JwtRejected, match="invalid signature"):
        verify_token(signed(impostor), resolve, POLICY, NOW)


def test_symmetric_and_unsigned_algorithms_are_refused() -> None:
    hs = jwt.encode(claims(), "secret-secret-secret-secret-secret!", algorithm="HS256", headers={"kid": "k1"})
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    for token in (hs, unsigned):
        with pytest.raises(JwtRejected, match="algorithm"):
            verify_token(token, resolve, POLICY, NOW)


def test_a_token_without_kid_is_refused() -> None:
    token = jwt.encode(claims(), KEY.private_key, algorithm="RS256")
    with pytest.raises(JwtRejected, match="key id"):
        token_kid(token)


def test_jwks_uri_must_be_http() -> None:
    assert jwks_uri_of({"jwks_uri": "https://x/keys"}) == "https://x/keys"
    for document in ({}, {"jwks_uri": "file:///etc/passwd"}, [], {"jwks_uri": 3}):
        with pytest.raises(ValueError):
            jwks_uri_of(document)
