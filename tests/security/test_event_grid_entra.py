"""Entra-authenticated Event Grid delivery (optional): with EVENTGRID_AAD_APP_ID set, /api/events needs Event
Grid's bearer token for that app from the configured tenant, on top of the function key. A locally generated
key set stands in for Entra's, served on loopback."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.calls.test_events_http import NOTIFICATION, offered_delivery
from tests.conftest import TEST_ACS_ACCESS_KEY, FunctionApp, durable_client_binding
from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.jwt_signer import AcsTokenIssuer
from tools.dev_host import DevHost

APP_ID = str(uuid.uuid4())
TENANT = str(uuid.uuid4())
ENTRA_V1 = f"https://sts.windows.net/{TENANT}/"
ENTRA_V2 = f"https://login.microsoftonline.com/{TENANT}/v2.0"
VALIDATION = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "events" /
                         "subscription_validation_eventgrid.json").read_text())


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(TEST_ACS_ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


@pytest.fixture
def durable(app_env: pytest.MonkeyPatch, function_app: FunctionApp, simulator: AcsSimulatorServer,
            issuer: AcsTokenIssuer) -> Iterator:
    import function_app as module
    from calls import app_context

    app_env.setenv("ACS_ENDPOINT", simulator.endpoint)
    app_env.setenv("EVENTGRID_AAD_APP_ID", APP_ID)
    app_env.setenv("EVENTGRID_AAD_TENANT_ID", TENANT)
    app_env.setenv("EVENTGRID_OPENID_CONFIG_URL", issuer.openid_config_url)
    app_context.reset()
    with DevHost(module.app, time_scale=0.05).run_in_thread() as host:
        yield host


def deliver(function_app: FunctionApp, durable, body: object, authorization: str | None,
            headers: dict[str, str] | None = None):
    sent = {**(headers or NOTIFICATION)}
    if authorization is not None:
        sent["authorization"] = authorization
    return function_app.http("events", body=body, headers=sent, client=durable_client_binding(durable.base_url))


@pytest.mark.parametrize("issuer_claim", [ENTRA_V1, ENTRA_V2])
def test_a_delivery_with_event_grids_token_is_taken(issuer_claim: str, function_app: FunctionApp, durable,
                                                    simulator, issuer: AcsTokenIssuer) -> None:
    token = issuer.token(audience=APP_ID, issuer=issuer_claim, lifetime_s=3600)
    response = deliver(function_app, durable, offered_delivery(simulator), f"Bearer {token}")
    assert response.status_code == 200, response.get_body()
    assert json.loads(response.get_body())["calls"][0]["status"] == "answered"


@pytest.mark.parametrize("case", ["no token", "wrong audience", "another tenant", "expired"])
def test_unauthenticated_deliveries_are_refused_and_not_answered(case: str, function_app: FunctionApp, durable,
                                                                 simulator, issuer: AcsTokenIssuer) -> None:
    tokens = {
        "no token": None,
        "wrong audience": issuer.token(audience=str(uuid.uuid4()), issuer=ENTRA_V2),
        "another tenant": issuer.token(audience=APP_ID, issuer=f"https://sts.windows.net/{uuid.uuid4()}/"),
        "expired": issuer.token(audience=APP_ID, issuer=ENTRA_V2, issued_at=0),
    }
    token = tokens[case]
    response = deliver(function_app, durable, offered_delivery(simulator),
                       f"Bearer {token}" if token is not None else None)
    assert response.status_code == 401  # Event Grid does not retry 401
    assert simulator.requests_for("answer") == []


def test_the_validation_handshake_also_needs_the_token(function_app: FunctionApp, durable,
                                                       issuer: AcsTokenIssuer) -> None:
    headers = {"content-type": "application/json", "aeg-event-type": "SubscriptionValidation"}
    assert deliver(function_app, durable, VALIDATION, None, headers).status_code == 401
    token = issuer.token(audience=f"api://{APP_ID}", issuer=ENTRA_V2)
    response = deliver(function_app, durable, VALIDATION, f"Bearer {token}", headers)
    assert response.status_code == 200
    assert json.loads(response.get_body())["validationResponse"] == VALIDATION[0]["data"]["validationCode"]


def test_the_recording_events_route_needs_event_grids_token_too(function_app: FunctionApp, durable,
                                                                issuer: AcsTokenIssuer) -> None:
    def post(authorization: str | None):
        headers = {**NOTIFICATION, **({"authorization": authorization} if authorization else {})}
        return function_app.http("recording_events", body=VALIDATION, headers={
            **headers, "aeg-event-type": "SubscriptionValidation"}, client=durable_client_binding(durable.base_url))

    assert post(None).status_code == 401
    token = issuer.token(audience=APP_ID, issuer=ENTRA_V2, lifetime_s=3600)
    answered = post(f"Bearer {token}")
    assert answered.status_code == 200
    assert json.loads(answered.get_body())["validationResponse"] == VALIDATION[0]["data"]["validationCode"]
