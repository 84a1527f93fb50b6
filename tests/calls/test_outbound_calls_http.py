"""`POST /api/calls` against real Durable endpoints (the dev host), Azurite and the ACS simulator: bad input
400, not configured 409, Idempotency-Key (same body 202 again, other body 422, one createCall), the
per-minute limit 429 with Retry-After, and the limit's counter holding under concurrent instances."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from calls import app_context, outbound_rate_limit
from shared.settings import StorageSettings
from tests.calls.test_events_http import wait_until
from tests.conftest import FunctionApp, durable_client_binding
from tools.acs_simulator import AcsSimulatorServer

CALLER_ID = "+18005550199"
NUMBER = "+14255550100"


def place(function_app: FunctionApp, durable: Any, body: object, key: str | None = None,
          content_type: str = "application/json") -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"content-type": content_type, **({"Idempotency-Key": key} if key is not None else {})}
    response = function_app.http("place_call", body=body, headers=headers,
                                 client=durable_client_binding(durable.base_url))
    return response.status_code, json.loads(response.get_body()), dict(response.headers)


def _clear_rate_rows(connection_string: str) -> None:
    table = TableServiceClient.from_connection_string(connection_string).get_table_client(
        outbound_rate_limit.TABLE_NAME)
    try:
        for row in list(table.list_entities()):
            table.delete_entity(row["PartitionKey"], row["RowKey"])
    except Exception:  # noqa: BLE001 - no table yet: nothing counted
        pass


@pytest.fixture
def outbound_app(app_env: pytest.MonkeyPatch, durable: Any, azurite_connection_string: str) -> Any:
    app_env.setenv("ACS_CALLER_ID", CALLER_ID)
    app_env.setenv("OUTBOUND_CALLS_PER_MINUTE", "3000")
    app_context.reset()
    _clear_rate_rows(azurite_connection_string)
    return durable


@pytest.mark.parametrize(("body", "path"), [
    ({"to": "0425 555 0100"}, "to"), ({"to": "8:teams:x"}, "to"), ({}, "to"), ({"to": NUMBER, "flow": "x"}, "flow"),
    ({"to": NUMBER, "greetingText": "y" * 401}, "greetingText"), ({"to": NUMBER, "callerId": "+1"}, "callerId"),
])
def test_bad_input_is_a_400_naming_the_field(function_app: FunctionApp, outbound_app: Any,
                                             simulator: AcsSimulatorServer, body: object, path: str) -> None:
    status, answer, _ = place(function_app, outbound_app, body)
    assert status == 400 and answer["error"] == "bad_request" and answer["path"] == path
    assert NUMBER not in json.dumps(answer) and simulator.requests_for("create_call") == []


def test_malformed_json_and_keys_are_400(function_app: FunctionApp, outbound_app: Any) -> None:
    assert place(function_app, outbound_app, b"{not json")[0] == 400
    assert place(function_app, outbound_app, {"to": NUMBER}, content_type="text/plain")[0] in (400, 415)
    status, answer, _ = place(function_app, outbound_app, {"to": NUMBER}, key="bad key with spaces")
    assert status == 400 and answer["path"] == "Idempotency-Key"


def test_without_a_caller_id_outbound_calls_are_not_configured(function_app: FunctionApp, outbound_app: Any,
                                                                app_env: pytest.MonkeyPatch) -> None:
    app_env.delenv("ACS_CALLER_ID")
    app_context.reset()
    status, answer, _ = place(function_app, outbound_app, {"to": NUMBER})
    assert status == 409 and answer["error"] == "not_configured" and "ACS_CALLER_ID" in answer["message"]
    app_env.setenv("ACS_CALLER_ID", "8:acs:app_identity")
    app_context.reset()
    status, answer, _ = place(function_app, outbound_app, {"to": NUMBER})
    assert status == 409 and answer["path"] == "to"  # an ACS user cannot show a caller id to a phone


def test_an_idempotency_key_gives_one_call_however_often_it_is_sent(
        function_app: FunctionApp, outbound_app: Any, simulator: AcsSimulatorServer) -> None:
    body = {"to": NUMBER, "greetingText": "Hello from Contoso."}
    status, first, _ = place(function_app, outbound_app, body, key="ticket-4711")
    assert status == 202 and first["instanceId"].startswith("out-")
    assert first["statusUrl"].endswith(f"/api/calls/{first['instanceId']}")
    assert place(function_app, outbound_app, body, key="ticket-4711")[:2] == (202, first)
    status, conflict, _ = place(function_app, outbound_app, {**body, "to": "+14255550101"}, key="ticket-4711")
    assert status == 422 and conflict["error"] == "idempotency_conflict"
    wait_until(lambda: simulator.requests_for("create_call"), bool)
    time.sleep(0.5)
    (create,) = simulator.requests_for("create_call")
    assert create.status == 201 and create.json["targets"][0]["rawId"] == f"4:{NUMBER}"
    assert create.json["sourceCallerIdNumber"] == {"value": CALLER_ID}
    status_doc = outbound_app.instance_status(first["instanceId"])
    assert NUMBER not in json.dumps(status_doc)


def test_the_per_minute_limit_answers_429_with_retry_after(
        function_app: FunctionApp, outbound_app: Any, app_env: pytest.MonkeyPatch,
        azurite_connection_string: str) -> None:
    app_env.setenv("OUTBOUND_CALLS_PER_MINUTE", "1")
    app_context.reset()
    for _ in range(3):  # a minute boundary between the two requests resets the count: try again
        _clear_rate_rows(azurite_connection_string)
        minute = datetime.now(UTC).strftime("%H%M")
        first = place(function_app, outbound_app, {"to": NUMBER})
        second = place(function_app, outbound_app, {"to": NUMBER})
        if datetime.now(UTC).strftime("%H%M") == minute:
            break
    assert first[0] == 202
    status, answer, headers = second
    assert status == 429 and answer["error"] == "rate_limited"
    assert 1 <= int(headers["Retry-After"]) <= 60


def test_the_limit_holds_across_concurrent_instances(azurite_connection_string: str) -> None:
    # Each thread stands for one function instance counting the same minute.
    _clear_rate_rows(azurite_connection_string)
    storage = StorageSettings(azurite_connection_string, None, "transcripts")
    now = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    results: list[bool] = []
    lock = threading.Lock()

    def admit() -> None:
        allowed = outbound_rate_limit.admit(storage, 7, now).allowed
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=admit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) <= 7 and len(results) == 16
    table = TableServiceClient.from_connection_string(azurite_connection_string).get_table_client(
        outbound_rate_limit.TABLE_NAME)
    assert table.get_entity("20260301", "1200")["count"] == results.count(True)  # every admission counted once
    assert outbound_rate_limit.admit(storage, 7, now).allowed is (results.count(True) < 7)


def test_an_acs_user_caller_id_is_the_create_calls_source(function_app: FunctionApp, outbound_app: Any,
                                                          app_env: pytest.MonkeyPatch,
                                                          simulator: AcsSimulatorServer) -> None:
    app_env.setenv("ACS_CALLER_ID", "8:acs:contoso_app")
    app_context.reset()
    status, _, _ = place(function_app, outbound_app, {"to": "8:acs:agent_7", "flow": "none"})
    assert status == 202
    (create,) = wait_until(lambda: simulator.requests_for("create_call"), bool)
    assert create.status == 201 and create.json["source"] == {"id": "8:acs:contoso_app"}
    assert "sourceCallerIdNumber" not in create.json
    assert create.json["targets"][0]["communicationUser"] == {"id": "8:acs:agent_7"}


def test_no_call_is_dialed_that_the_media_host_cannot_stream(function_app: FunctionApp, outbound_app: Any,
                                                             app_env: pytest.MonkeyPatch,
                                                             simulator: AcsSimulatorServer) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: the health check is refused at once
    app_env.setenv("MEDIA_HOST_HEALTH_URL", f"http://127.0.0.1:{closed.getsockname()[1]}/healthz")
    app_context.reset()
    try:
        status, answer, headers = place(function_app, outbound_app, {"to": NUMBER})
    finally:
        closed.close()
    assert status == 503 and answer["error"] == "no_capacity" and "media_host_unavailable" in answer["message"]
    assert int(headers["Retry-After"]) > 0 and simulator.requests_for("create_call") == []
