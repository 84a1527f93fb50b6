"""tools.acs_simulator.jwt_signer: ACS-shaped tokens and the key set served on loopback."""

from __future__ import annotations

import json
import urllib.request
import uuid

import jwt

from shared.acs_jwt import ACS_ISSUER
from tools.acs_simulator.jwt_signer import KEYS_PATH, AcsTokenIssuer


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_tokens_verify_with_the_served_keys_and_last_as_acs_says() -> None:
    with AcsTokenIssuer(str(uuid.uuid4())) as issuer:
        config = get(issuer.openid_config_url)
        assert config["jwks_uri"] == issuer.base_url + KEYS_PATH
        keys = jwt.PyJWKClient(config["jwks_uri"])
        for url, lifetime in (("https://func/api/callbacks/x", 300), ("wss://media/ws/x/y", 24 * 3600)):
            token = issuer.signer(url)["Authorization"].removeprefix("Bearer ")
            claims = jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                                audience=issuer.resource_id, issuer=ACS_ISSUER)
            assert claims["exp"] - claims["iat"] == lifetime


def test_rotation_publishes_the_new_key_and_keeps_the_old() -> None:
    with AcsTokenIssuer(str(uuid.uuid4())) as issuer:
        old = issuer.current.kid
        new = issuer.rotate().kid
        kids = [key["kid"] for key in get(issuer.base_url + KEYS_PATH)["keys"]]
        assert kids == [old, new]
        assert jwt.get_unverified_header(issuer.token())["kid"] == new
