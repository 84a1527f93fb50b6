"""Forged media sockets are refused before the upgrade (HTTP 401, JSON body, nothing stored), against the real
media host on loopback and a locally served ACS key set. The JWT names no call: a genuine JWT with another
call's per-call token is refused by the token."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from adapters.jwks_keys import BearerVerifier
from media_host.config import load_media_host_config
from media_host.server import serve_media_host
from shared.acs_jwt import acs_policy
from shared.blob_names import media_report_blob
from shared.call_token import call_token
from shared.security_settings import JwtSource
from tests.conftest import TEST_CALL_TOKEN_SECRET
from tests.media_host.conftest import container_name, media_config, media_env, metadata_message, read_blob  # noqa: F401
from tests.media_host.test_server import INSTANCE, http_get, ws_url
from tests.security.conftest import forged_tokens
from tools.acs_simulator.jwt_signer import AcsTokenIssuer

OTHER = "call-fedcba9876543210fedcba9876543210"


def verifier(issuer: AcsTokenIssuer) -> BearerVerifier:
    return BearerVerifier(JwtSource(issuer.openid_config_url, acs_policy(issuer.resource_id)))


async def open_socket(port: int, authorization: str | None, url: str | None = None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with connect(url or ws_url(port), additional_headers=headers, compression=None) as ws:
        await ws.send(metadata_message(16000))
        await ws.close()


def test_a_genuine_socket_is_accepted(media_config, read_blob, issuer: AcsTokenIssuer) -> None:  # noqa: F811
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0, acs_jwt=verifier(issuer)) as host:
            await open_socket(host.port, issuer.signer("wss://x")["Authorization"])
            for _ in range(100):
                if not host.sessions:
                    break
                await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert json.loads(read_blob(media_report_blob(INSTANCE)))["closeCode"] == 1000


@pytest.mark.parametrize("case", ["no token", "not bearer", "garbage", "wrong signature", "unknown key",
                                  "wrong audience", "wrong issuer", "expired", "another call"])
def test_forged_sockets_are_refused_before_the_upgrade(case: str, media_config, read_blob,  # noqa: F811
                                                       issuer: AcsTokenIssuer) -> None:
    forged = {**forged_tokens(issuer), "another call": issuer.signer("wss://x")["Authorization"]}

    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0, acs_jwt=verifier(issuer)) as host:
            # "another call": a genuine JWT, on a path carrying another call's per-call token.
            url = ws_url(host.port, token=call_token(TEST_CALL_TOKEN_SECRET, OTHER)) if case == "another call" \
                else None
            with pytest.raises(InvalidStatus) as refused:
                await open_socket(host.port, forged[case], url)
            assert refused.value.response.status_code == 401
            assert json.loads(refused.value.response.body)["error"]
            assert not host.sessions
            # The probes stay open without a token, and the host still serves a genuine call afterwards.
            assert (await asyncio.to_thread(http_get, host.port, "/healthz"))[0] == 200
            await open_socket(host.port, issuer.signer("wss://x")["Authorization"],
                              ws_url(host.port, instance_id=OTHER, token=call_token(TEST_CALL_TOKEN_SECRET, OTHER)))

    asyncio.run(scenario())
    assert read_blob(media_report_blob(INSTANCE)) is None


def test_jwt_is_required_when_acs_resource_id_is_set(media_env, issuer: AcsTokenIssuer) -> None:  # noqa: F811
    config = load_media_host_config({**media_env, "ACS_RESOURCE_ID": issuer.resource_id,
                                     "ACS_OPENID_CONFIG_URL": issuer.openid_config_url})

    async def scenario() -> None:
        async with serve_media_host(config, host="127.0.0.1", port=0) as host:
            assert issuer.fetches["/calling/keys"] == 1  # prefetched at start-up
            with pytest.raises(InvalidStatus) as refused:
                await open_socket(host.port, None)
            assert refused.value.response.status_code == 401
            await open_socket(host.port, issuer.signer("wss://x")["Authorization"])

    asyncio.run(scenario())
