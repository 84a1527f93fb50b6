"""shared.acs_jwt: bearer parsing and claim checks against an injected clock (no sockets, no sleeps).

Every limit is probed at its exact edge (accepted) and one step beyond it (refused), and every refusal is
checked by its exact reason: the reason is the `message` of the 401 body (calls/acs_auth.py).
"""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest

from shared.acs_jwt import (
    ACS_ISSUER,
    DEFAULT_ACS_OPENID_CONFIG_URL,
    DEFAULT_LEEWAY_SECONDS,
    MAX_LEEWAY_SECONDS,
    MAX_LIFETIME_SECONDS,
    MAX_TOKEN_CHARS,
    JwtPolicy,
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
# Claims are compared as floats (exp/nbf/iat may carry fractions): one millisecond is a step past an edge.
STEP = 0.001


def claims(**overrides: object) -> dict[str, object]:
    return {"iss": ACS_ISSUER, "aud": AUDIENCE, "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 290, **overrides}


def signed(key: SigningKey = KEY, alg: str = "RS256", **overrides: object) -> str:
    return jwt.encode(claims(**overrides), key.private_key, algorithm=alg, headers={"kid": key.kid})


def resolve(kid: str) -> object:
    if kid != KEY.kid:
        raise JwtRejected("unknown signing key")
    return KEY.private_key.public_key()


def rejection(call: Callable[..., object], *args: object) -> str:
    """The reason of the JwtRejected that `call(*args)` raises."""
    with pytest.raises(JwtRejected) as caught:
        call(*args)
    assert caught.value.args == (caught.value.reason,)
    return caught.value.reason


def test_limits_and_the_acs_policy_are_pinned() -> None:
    # ACS callback tokens live 5 minutes, media-socket tokens 24 hours: 24 h + 5 min is the longest accepted.
    assert (MAX_LIFETIME_SECONDS, DEFAULT_LEEWAY_SECONDS, MAX_LEEWAY_SECONDS, MAX_TOKEN_CHARS) == (
        86_700, 60, 300, 8192)
    assert ACS_ISSUER == "https://acscallautomation.communication.azure.com"
    assert DEFAULT_ACS_OPENID_CONFIG_URL == (
        "https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration")
    assert POLICY == JwtPolicy(audiences=(AUDIENCE,), issuers=(ACS_ISSUER,), leeway_seconds=60,
                               max_lifetime_seconds=86_700)
    assert acs_policy(AUDIENCE, leeway_seconds=7) == JwtPolicy((AUDIENCE,), (ACS_ISSUER,), 7, 86_700)


@pytest.mark.parametrize(("header", "reason"), [
    (None, "missing bearer token"),
    ("", "missing bearer token"),
    ("Bearer", "malformed bearer token"),
    ("Basic abc", "malformed bearer token"),
    ("Bearer a.b", "malformed bearer token"),
    ("Bearer a b.c.d", "malformed bearer token"),
    ("Bearer a.b.c junk", "malformed bearer token"),
    ("Bearer a.b.c.d", "malformed bearer token"),
    ("Bearer a.b=.c", "malformed bearer token"),
    ("xBearer a.b.c", "malformed bearer token"),
    ("Bearer " + "a" * 9000 + ".b.c", "bearer token too long"),
])
def test_malformed_authorization_is_refused(header: str | None, reason: str) -> None:
    assert rejection(bearer_token, header) == reason


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer x.y.z", "x.y.z"),
    ("bearer x.y.z", "x.y.z"),  # the scheme is case-insensitive (RFC 7235)
    ("BEARER   a-_9.B_-0.", "a-_9.B_-0."),  # base64url alphabet; an empty signature part is still the shape
    ("Bearer x.y.z \t", "x.y.z"),
])
def test_the_token_is_taken_from_the_header(header: str, token: str) -> None:
    assert bearer_token(header) == token


def test_the_header_length_limit_is_exact() -> None:
    prefix = "Bearer a.b."
    longest = prefix + "c" * (MAX_TOKEN_CHARS - len(prefix))
    assert len(longest) == 8192 and bearer_token(longest) == longest.removeprefix("Bearer ")
    assert rejection(bearer_token, longest + "c") == "bearer token too long"


def test_a_genuine_token_verifies() -> None:
    assert verify_token(signed(), resolve, POLICY, NOW) == claims()


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"aud": "another-resource"}, "wrong audience"),
    ({"aud": ["x", "y"]}, "wrong audience"),
    ({"aud": [7, None]}, "wrong audience"),
    ({"aud": None}, "wrong audience"),
    ({"iss": "https://evil.example"}, "wrong issuer"),
    ({"iss": None}, "wrong issuer"),
    ({"exp": NOW - 61}, "token expired"),
    ({"exp": "tomorrow"}, "token has no numeric exp"),
    ({"exp": True}, "token has no numeric exp"),
    ({"exp": None}, "token has no numeric exp"),
    ({"nbf": NOW + 61}, "token not yet valid"),
    ({"nbf": "soon"}, "token has no numeric nbf"),
    ({"iat": NOW + 61}, "token issued in the future"),
    ({"iat": False}, "token has no numeric iat"),
    ({"iat": NOW - 90_000, "nbf": NOW - 90_000}, "token lifetime too long"),
])
def test_claims_are_checked(overrides: dict[str, object], reason: str) -> None:
    assert rejection(check_claims, claims(**overrides), POLICY, NOW) == reason


def test_audience_may_be_a_list() -> None:
    check_claims(claims(aud=["other", AUDIENCE]), POLICY, NOW)


def test_another_issuer_may_be_allowed() -> None:
    policy = JwtPolicy(audiences=("a", "b"), issuers=("https://sts.windows.net/t/", ACS_ISSUER))
    check_claims(claims(iss="https://sts.windows.net/t/", aud="b"), policy, NOW)


def test_expiry_edge_with_the_default_leeway_of_60_seconds() -> None:
    check_claims(claims(exp=NOW - 60), POLICY, NOW)
    assert rejection(check_claims, claims(exp=NOW - 60 - STEP), POLICY, NOW) == "token expired"


def test_not_before_edge() -> None:
    check_claims(claims(nbf=NOW + 60), POLICY, NOW)
    assert rejection(check_claims, claims(nbf=NOW + 60 + STEP), POLICY, NOW) == "token not yet valid"
    # nbf is optional
    check_claims({key: value for key, value in claims().items() if key != "nbf"}, POLICY, NOW)


def test_issued_at_edge() -> None:
    check_claims(claims(iat=NOW + 60, nbf=NOW), POLICY, NOW)
    assert rejection(check_claims, claims(iat=NOW + 60 + STEP, nbf=NOW), POLICY, NOW) == "token issued in the future"


def test_lifetime_edge() -> None:
    longest = claims(iat=NOW - 10, exp=NOW - 10 + 86_700)
    check_claims(longest, POLICY, NOW)
    too_long = {**longest, "exp": NOW - 10 + 86_700 + STEP}
    assert rejection(check_claims, too_long, POLICY, NOW) == "token lifetime too long"
    # Without iat there is nothing to measure a lifetime from: exp alone is checked.
    check_claims({key: value for key, value in too_long.items() if key != "iat"}, POLICY, NOW)


def test_the_policy_leeway_and_lifetime_are_the_ones_applied() -> None:
    strict = acs_policy(AUDIENCE, leeway_seconds=0)
    check_claims(claims(exp=NOW, nbf=NOW, iat=NOW), strict, NOW)
    assert rejection(check_claims, claims(exp=NOW - STEP), strict, NOW) == "token expired"
    assert rejection(check_claims, claims(nbf=NOW + STEP), strict, NOW) == "token not yet valid"
    assert rejection(check_claims, claims(iat=NOW + STEP, nbf=NOW), strict, NOW) == "token issued in the future"
    short = JwtPolicy((AUDIENCE,), (ACS_ISSUER,), max_lifetime_seconds=300)
    check_claims(claims(iat=NOW, exp=NOW + 300), short, NOW)
    assert rejection(check_claims, claims(iat=NOW, exp=NOW + 300 + STEP), short, NOW) == "token lifetime too long"


def test_wrong_signature_is_refused() -> None:
    impostor = SigningKey(kid=KEY.kid)
    assert rejection(verify_token, signed(impostor), resolve, POLICY, NOW) == "invalid signature"


def test_the_injected_clock_not_the_machine_clock_decides() -> None:
    # Expired (2001) or not yet valid (2100) by the machine's clock, valid at the injected times: PyJWT's own
    # time checks are off, so the claims are judged against `now` only.
    for moment in (1_000_000_000.0, 4_102_444_800.0):
        token = jwt.encode({**claims(), "iat": moment, "nbf": moment, "exp": moment + 300}, KEY.private_key,
                           algorithm="RS256", headers={"kid": KEY.kid})
        assert verify_token(token, resolve, POLICY, moment)["exp"] == moment + 300


def test_a_token_without_exp_is_refused() -> None:
    token = jwt.encode({key: value for key, value in claims().items() if key != "exp"}, KEY.private_key,
                       algorithm="RS256", headers={"kid": KEY.kid})
    assert rejection(verify_token, token, resolve, POLICY, NOW) == "invalid token"


def test_claims_are_checked_after_the_signature() -> None:
    assert rejection(verify_token, signed(aud="someone-else"), resolve, POLICY, NOW) == "wrong audience"
    assert rejection(verify_token, signed(iss="https://evil.example"), resolve, POLICY, NOW) == "wrong issuer"
    assert rejection(verify_token, signed(exp=NOW - 61), resolve, POLICY, NOW) == "token expired"


def test_symmetric_and_unsigned_algorithms_are_refused() -> None:
    hs = jwt.encode(claims(), "secret-secret-secret-secret-secret!", algorithm="HS256", headers={"kid": "k1"})
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    for token in (hs, unsigned):
        assert rejection(verify_token, token, resolve, POLICY, NOW) == "unexpected signing algorithm"


def test_an_unknown_key_is_refused_by_the_resolver() -> None:
    assert rejection(verify_token, signed(SigningKey(kid="k2")), resolve, POLICY, NOW) == "unknown signing key"


@pytest.mark.parametrize("kid", [None, "", "k" * 257])
def test_a_token_without_a_usable_kid_is_refused(kid: object) -> None:
    headers = {} if kid is None else {"kid": kid}
    token = jwt.encode(claims(), KEY.private_key, algorithm="RS256", headers=headers)
    assert rejection(token_kid, token) == "token has no key id"


def test_the_longest_kid_is_256_characters() -> None:
    token = jwt.encode(claims(), KEY.private_key, algorithm="RS256", headers={"kid": "k" * 256})
    assert token_kid(token) == "k" * 256


# eyJraWQiOjcsImFsZyI6IlJTMjU2In0 is {"kid":7,"alg":"RS256"}: PyJWT refuses a kid that is not a string.
@pytest.mark.parametrize("token", ["a.b.c", "not a token", "e30", "eyJraWQiOjcsImFsZyI6IlJTMjU2In0.e30.c2ln"])
def test_an_unreadable_header_is_refused(token: str) -> None:
    assert rejection(token_kid, token) == "malformed token"


def test_jwks_uri_must_be_http() -> None:
    assert jwks_uri_of({"jwks_uri": "https://x/keys"}) == "https://x/keys"
    assert jwks_uri_of({"jwks_uri": "HTTP://127.0.0.1:9/keys"}) == "HTTP://127.0.0.1:9/keys"
    for document in ({}, {"jwks_uri": "file:///etc/passwd"}, [], {"jwks_uri": 3}, {"jwks_uri": "httpx://a"}):
        with pytest.raises(ValueError) as caught:
            jwks_uri_of(document)
        assert str(caught.value) == "the OpenID configuration has no http(s) jwks_uri"
