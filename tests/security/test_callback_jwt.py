"""Forged ACS callbacks are refused with 401 before the body is read, through the real function app and real
Durable endpoints (the dev host): ACS's JWT must be valid for our resource AND the per-call token must be this
call's. The JWT names no call, so a genuine JWT with another call's token is refused by the token."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shared.call_token import call_token
from tests.calls.test_callbacks_http import events_for, ringing_call
from tests.calls.test_events_http import raised_events
from tests.conftest import TEST_CALL_TOKEN_SECRET, FunctionApp, durable_client_binding
from tests.security.conftest import forged_tokens
from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.jwt_signer import AcsTokenIssuer
from tools.dev_host import DevHost


@pytest.fixture
def simulator(tmp_path) -> Iterator[AcsSimulatorServer]:
    from tests.conftest import TEST_ACS_ACCESS_KEY

    with AcsSimulatorServer(TEST_ACS_ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


@pytest.fixture
def durable(app_env: pytest.MonkeyPatch, function_app: FunctionApp, simulator: AcsSimulatorServer,
            issuer: AcsTokenIssuer) -> Iterator:
    import function_app as module
    from calls import app_context

    app_env.setenv("ACS_ENDPOINT", simulator.endpoint)
    app_env.setenv("ACS_RESOURCE_ID", issuer.resource_id)
    app_env.setenv("ACS_OPENID_CONFIG_URL", issuer.openid_config_url)
    app_context.reset()
    with DevHost(module.app, time_scale=0.05).run_in_thread() as host:
        yield host


def post_callback(function_app: FunctionApp, durable, instance_id: str, authorization: str | None,
                  token: str | None = None, body: object | None = None):
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["authorization"] = authorization
    return function_app.http(
        "callbacks", body=body if body is not None else events_for(instance_id, "CallConnected"),
        route_params={"instanceId": instance_id}, headers=headers,
        params={"token": token if token is not None else call_token(TEST_CALL_TOKEN_SECRET, instance_id)},
        client=durable_client_binding(durable.base_url))


def test_a_genuine_callback_is_raised(function_app: FunctionApp, durable, simulator, issuer) -> None:
    instance_id = ringing_call(function_app, durable, simulator)
    response = post_callback(function_app, durable, instance_id, issuer.signer("https://x")["Authorization"])
    assert response.status_code == 200, response.get_body()
    assert json.loads(response.get_body())["events"] == ["raised"]


@pytest.mark.parametrize("case", ["no token", "not bearer", "garbage", "wrong signature", "unknown key",
                                  "wrong audience", "wrong issuer", "expired"])
def test_forged_callbacks_are_refused_and_change_nothing(case: str, function_app: FunctionApp, durable, simulator,
                                                         issuer: AcsTokenIssuer) -> None:
    instance_id = ringing_call(function_app, durable, simulator)
    response = post_callback(function_app, durable, instance_id, forged_tokens(issuer)[case])
    assert response.status_code == 401
    assert response.headers.get("WWW-Authenticate") == "Bearer"
    assert json.loads(response.get_body())["error"] == "unauthorized"
    assert "CallConnected" not in raised_events(durable.instance_status(instance_id))


def test_a_valid_jwt_with_another_calls_token_is_refused(function_app: FunctionApp, durable, simulator,
                                                         issuer: AcsTokenIssuer) -> None:
    mine = ringing_call(function_app, durable, simulator)
    theirs = ringing_call(function_app, durable, simulator)
    genuine = issuer.signer("https://x")["Authorization"]
    response = post_callback(function_app, durable, theirs, genuine, token=call_token(TEST_CALL_TOKEN_SECRET, mine),
                             body=events_for(theirs, "CallConnected"))
    assert response.status_code == 401
    assert json.loads(response.get_body())["path"] == "token"
    assert "CallConnected" not in raised_events(durable.instance_status(theirs))


def test_the_body_is_not_read_before_the_token_is_checked(function_app: FunctionApp, durable, simulator,
                                                          issuer: AcsTokenIssuer) -> None:
    instance_id = ringing_call(function_app, durable, simulator)
    response = post_callback(function_app, durable, instance_id, None, body="{not json")
    assert response.status_code == 401  # a body error would have been 400


def test_a_rotated_key_is_accepted_after_one_refetch(function_app: FunctionApp, durable, simulator,
                                                     issuer: AcsTokenIssuer) -> None:
    from calls import app_context

    instance_id = ringing_call(function_app, durable, simulator)
    assert post_callback(function_app, durable, instance_id, issuer.signer("https://x")["Authorization"]
                         ).status_code == 200
    verifier = app_context.acs_jwt_verifier()
    assert verifier is not None
    verifier.keys.jwk_client().cooldown_duration = 0  # the 30 s cooldown: tests/shared/test_jwks_keys.py
    fetched = issuer.fetches["/calling/keys"]
    issuer.rotate()
    response = post_callback(function_app, durable, instance_id, issuer.signer("https://x")["Authorization"],
                             body=events_for(instance_id, "ParticipantsUpdated"))
    assert response.status_code == 200
    assert issuer.fetches["/calling/keys"] == fetched + 1
