"""adapters.jwks_keys against a real loopback OpenID/JWKS endpoint: cached key set, refetch on an unknown kid
bounded by the cooldown, 503-class error when the issuer is down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from adapters.jwks_keys import BearerVerifier, JwksKeys, KeysUnavailable
from shared.acs_jwt import JwtRejected, acs_policy
from shared.security_settings import JwtSource
from tools.acs_simulator.jwt_signer import KEYS_PATH, OPENID_PATH, AcsTokenIssuer
from tools.azurite import free_port


@pytest.fixture
def issuer() -> Iterator[AcsTokenIssuer]:
    with AcsTokenIssuer(str(uuid.uuid4())) as running:
        yield running


def verifier_for(issuer: AcsTokenIssuer, cooldown: float = 30.0) -> BearerVerifier:
    source = JwtSource(issuer.openid_config_url, acs_policy(issuer.resource_id))
    return BearerVerifier(source, keys=JwksKeys(source.openid_config_url, cooldown_seconds=cooldown))


def test_the_key_set_is_fetched_once_and_cached(issuer: AcsTokenIssuer) -> None:
    verifier = verifier_for(issuer)
    for _ in range(20):
        verifier.verify(issuer.signer("https://x")["Authorization"])
    assert issuer.fetches == {OPENID_PATH: 1, KEYS_PATH: 1}


def test_an_unknown_kid_refetches_only_after_the_cooldown(issuer: AcsTokenIssuer) -> None:
    verifier = verifier_for(issuer, cooldown=30.0)
    verifier.verify(issuer.signer("https://x")["Authorization"])
    issuer.rotate()
    rotated = issuer.signer("https://x")["Authorization"]
    with pytest.raises(JwtRejected, match="unknown signing key"):
        verifier.verify(rotated)  # within 30 s of the last fetch: no refetch, so forged kids cannot hammer ACS
    assert issuer.fetches[KEYS_PATH] == 1
    verifier.keys.jwk_client().cooldown_duration = 0  # as if 30 s had passed
    verifier.verify(rotated)
    assert issuer.fetches[KEYS_PATH] == 2


def test_cached_key_never_fetches(issuer: AcsTokenIssuer) -> None:
    verifier = verifier_for(issuer)
    header = issuer.signer("https://x")["Authorization"]
    assert verifier.needs_fetch(header)
    assert issuer.fetches[KEYS_PATH] == 0
    verifier.verify(header)
    assert not verifier.needs_fetch(header)


def test_an_unreachable_issuer_is_unavailable_not_unauthorized(issuer: AcsTokenIssuer) -> None:
    source = JwtSource(f"http://127.0.0.1:{free_port()}/calling/.well-known/acsopenidconfiguration",
                       acs_policy(issuer.resource_id))
    verifier = BearerVerifier(source, keys=JwksKeys(source.openid_config_url, timeout=1))
    with pytest.raises(KeysUnavailable):
        verifier.verify(issuer.signer("https://x")["Authorization"])


def test_a_missing_header_is_refused_without_any_fetch(issuer: AcsTokenIssuer) -> None:
    with pytest.raises(JwtRejected, match="missing"):
        verifier_for(issuer).verify(None)
    assert issuer.fetches[OPENID_PATH] == 0
