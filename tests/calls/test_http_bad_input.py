"""Bad input on both endpoints: a 4xx with a JSON error body, never a 5xx or an escaping exception.

The durable client here points at a closed port: any request that wrongly reached Durable would fail the
test with an exception rather than pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.call_token import call_token
from tests.conftest import TEST_CALL_TOKEN_SECRET, FunctionApp, durable_client_binding

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"
CLOSED_DURABLE = durable_client_binding("http://127.0.0.1:9")
INSTANCE = "call-0123456789abcdef0123456789abcdef"


def _events(app: FunctionApp, body: object, headers: dict[str, str] | None = None, method: str = "POST"):
    return app.http("events", method=method, body=body, headers=headers or {"content-type": "application/json",
                    "aeg-event-type": "Notification"}, client=CLOSED_DURABLE)


def _callback(app: FunctionApp, body: object, token: str | None = None, instance: str = INSTANCE,
              content_type: str = "application/json"):
    token = call_token(TEST_CALL_TOKEN_SECRET, instance) if token is None else token
    return app.http("callbacks", body=body, route_params={"instanceId": instance}, params={"token": token},
                    headers={"content-type": content_type}, client=CLOSED_DURABLE)


def _assert_error(response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.get_body()
    body = json.loads(response.get_body())
    assert body["error"] and body["message"]
    return body


DEEP = "[" * 50_000 + "]" * 50_000
BAD_BODIES = [
    (b"not json", 400),
    (b"", 400),
    (b"[]", 400),
    (b"{}", 400),
    (b"\xff\xfe", 400),
    (b"[1, 2]", 400),
    (DEEP.encode(), 400),
    (b"[" + b" " * (1024 * 1024 + 1) + b"]", 413),
    (json.dumps([{"id": "1", "eventType": "Microsoft.Communication.IncomingCall", "subject": "s",
                  "eventTime": "2026-01-01T00:00:00Z", "dataVersion": "1", "data": {"to": 5}}]).encode(), 400),
    (json.dumps([{"id": 7, "eventType": "x", "data": {}}]).encode(), 400),
]


@pytest.mark.parametrize(("body", "status"), BAD_BODIES)
def test_events_bad_bodies_get_4xx_json(app_env: pytest.MonkeyPatch, function_app: FunctionApp, body: bytes,
                                        status: int) -> None:
    _assert_error(_events(function_app, body), status)


def test_events_wrong_content_type_is_415(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    body = (FIXTURES / "incoming_call_eventgrid.json").read_bytes()
    _assert_error(_events(function_app, body, headers={"content-type": "text/plain"}), 415)


def test_events_missing_incoming_call_field_names_it(app_env: pytest.MonkeyPatch,
                                                     function_app: FunctionApp) -> None:
    delivery = json.loads((FIXTURES / "incoming_call_eventgrid.json").read_text())
    del delivery[0]["data"]["incomingCallContext"]
    body = _assert_error(_events(function_app, delivery), 400)
    assert "incomingCallContext" in body["path"] + body["message"]


def test_subscription_validation_handshake(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    delivery = json.loads((FIXTURES / "subscription_validation_eventgrid.json").read_text())
    response = _events(function_app, delivery, headers={"content-type": "application/json",
                                                        "aeg-event-type": "SubscriptionValidation"})
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"validationResponse": delivery[0]["data"]["validationCode"]}


def test_validation_header_without_validation_event_is_400(app_env: pytest.MonkeyPatch,
                                                           function_app: FunctionApp) -> None:
    unknown = [{"id": "1", "eventType": "Contoso.Other", "subject": "s", "eventTime": "2026-01-01T00:00:00Z",
                "dataVersion": "1", "data": {}}]
    _assert_error(_events(function_app, unknown, headers={"content-type": "application/json",
                                                           "aeg-event-type": "SubscriptionValidation"}), 400)


def test_cloud_events_options_handshake(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    response = _events(function_app, b"", method="OPTIONS",
                       headers={"webhook-request-origin": "eventgrid.azure.net"})
    assert response.status_code == 200
    assert response.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    _assert_error(_events(function_app, b"", method="OPTIONS", headers={}), 400)


def test_unknown_event_type_is_acknowledged(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    unknown = [{"id": "1", "eventType": "Microsoft.Communication.RecordingFileStatusUpdated", "subject": "s",
                "eventTime": "2026-01-01T00:00:00Z", "dataVersion": "1", "data": {"anything": 1}}]
    response = _events(function_app, unknown)
    assert response.status_code == 200
    assert json.loads(response.get_body())["ignored"] == 1


def test_callback_with_a_wrong_token_is_401(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    other_call_token = call_token(TEST_CALL_TOKEN_SECRET, "call-someone-else")
    for token in ("", "x" * 43, other_call_token):
        _assert_error(_callback(function_app, b"[]", token=token), 401)


def test_callback_with_an_invalid_instance_id_is_400(app_env: pytest.MonkeyPatch,
                                                     function_app: FunctionApp) -> None:
    for instance in ("?showHistory=true", "a/b", "@entity", "x" * 300):
        _assert_error(_callback(function_app, b"[]", token="x" * 43, instance=instance), 400)


@pytest.mark.parametrize(("body", "status"), BAD_BODIES)
def test_callback_bad_bodies_get_4xx_json(app_env: pytest.MonkeyPatch, function_app: FunctionApp, body: bytes,
                                          status: int) -> None:
    _assert_error(_callback(function_app, body), status)


def test_callback_missing_connection_id_is_400(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    event = {"id": "e1", "source": "calling/callConnections/x", "type": "Microsoft.Communication.CallConnected",
             "specversion": "1.0", "time": "2026-01-01T00:00:00Z", "data": {"serverCallId": "s"}}
    body = _assert_error(_callback(function_app, [event]), 400)
    assert "callConnectionId" in body["path"] + body["message"]


def test_callback_wrong_content_type_is_415(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    _assert_error(_callback(function_app, b"[]", content_type="application/x-www-form-urlencoded"), 415)


def test_media_report_with_a_wrong_token_is_401(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    response = function_app.http("media_stream_ended", body={"framesReceived": 1},
                                 route_params={"instanceId": INSTANCE}, params={"token": "nope"},
                                 client=CLOSED_DURABLE)
    _assert_error(response, 401)


def test_media_report_must_be_an_object(app_env: pytest.MonkeyPatch, function_app: FunctionApp) -> None:
    response = function_app.http("media_stream_ended", body=[1, 2], route_params={"instanceId": INSTANCE},
                                 params={"token": call_token(TEST_CALL_TOKEN_SECRET, INSTANCE)},
                                 client=CLOSED_DURABLE)
    _assert_error(response, 400)
