"""The simulator's createCall with the real SDK client: the spec's request and 201 answer, the refusals it
holds the app to (a phone target without sourceCallerIdNumber, a non-https callback, two targets), a retried
request deduplicated by Repeatability-Request-ID, and outbound scenario parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.communication.callautomation import CommunicationUserIdentifier, PhoneNumberIdentifier
from azure.core.exceptions import HttpResponseError

from tests.tools.test_acs_simulator_rest import (
    CALLEE,
    CALLER,
    _raw_post,
    _signed_headers,
    call_client,
    simulator,
    streaming_options,
)
from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import ScenarioError, load_scenario, parse_scenario

__all__ = ["simulator"]  # the fixture, shared with the REST tests
CALLBACK = "https://app.example.test/api/callbacks/out-1?token=t"


def test_create_call_answers_201_with_the_call_connecting(simulator: AcsSimulatorServer) -> None:
    created = call_client(simulator).create_call(
        PhoneNumberIdentifier(CALLER), CALLBACK, source_caller_id_number=PhoneNumberIdentifier(CALLEE),
        operation_context="out-1", media_streaming=streaming_options())
    assert created.call_connection_id and created.call_connection_state == "connecting"
    assert created.targets == [PhoneNumberIdentifier(CALLER)]
    (request,) = simulator.requests_for("create_call")
    assert request.status == 201 and request.json["sourceCallerIdNumber"] == {"value": CALLEE}
    connection = simulator.call(created.call_connection_id)
    assert connection is not None and connection.callback_uri == CALLBACK and connection.offered.caller == CALLER


def test_an_acs_user_needs_no_caller_number(simulator: AcsSimulatorServer) -> None:
    created = call_client(simulator).create_call(CommunicationUserIdentifier("8:acs:agent_1"), CALLBACK)
    assert created.targets == [CommunicationUserIdentifier("8:acs:agent_1")]


@pytest.mark.parametrize(("target", "callback", "caller_id", "message"), [
    (PhoneNumberIdentifier(CALLER), CALLBACK, None, "sourceCallerIdNumber is required"),
    (PhoneNumberIdentifier(CALLER), "http://app.example.test/cb", PhoneNumberIdentifier(CALLEE), "https"),
    ([PhoneNumberIdentifier(CALLER), PhoneNumberIdentifier(CALLEE)], CALLBACK, PhoneNumberIdentifier(CALLEE),
     "exactly one target"),
])
def test_refusals(simulator: AcsSimulatorServer, target: Any, callback: str, caller_id: Any, message: str) -> None:
    with pytest.raises(HttpResponseError) as refused:
        call_client(simulator, retry_total=0).create_call(target, callback, source_caller_id_number=caller_id)
    assert refused.value.status_code == 400 and message in str(refused.value)
    assert simulator.call_connections() == []


def test_a_repeated_request_id_places_one_call(simulator: AcsSimulatorServer) -> None:
    headers = {"Repeatability-Request-ID": "7b7c2f7e-1111-4222-8333-944455556666",
               "Repeatability-First-Sent": "Sun, 01 Mar 2026 12:00:00 GMT"}
    client = call_client(simulator)
    first = client.create_call(CommunicationUserIdentifier("8:acs:agent_1"), CALLBACK, headers=dict(headers))
    again = client.create_call(CommunicationUserIdentifier("8:acs:agent_1"), CALLBACK, headers=dict(headers))
    assert again.call_connection_id == first.call_connection_id and len(simulator.call_connections()) == 1


def test_an_unknown_request_field_is_refused(simulator: AcsSimulatorServer) -> None:
    body = json.dumps({"targets": [{"rawId": "8:acs:x", "communicationUser": {"id": "8:acs:x"}}],
                       "callbackUri": CALLBACK, "ringTimeoutSeconds": 30}).encode()
    path = "/calling/callConnections?api-version=2026-03-12"
    status, answer = _raw_post(simulator, path, body, _signed_headers(simulator, path, body, datetime.now(UTC)))
    assert status == 400 and "ringTimeoutSeconds" in json.dumps(answer)


def test_outbound_scenarios_parse() -> None:
    assert load_scenario("outbound_answered").outbound.answer_after_s == 1.0  # type: ignore[union-attr]
    declined = load_scenario("outbound_declined").outbound
    assert declined is not None and (declined.fail_code, declined.fail_sub_code) == (603, 0)
    never = load_scenario("outbound_no_answer").outbound
    assert never is not None and never.answer_after_s is None and never.fail_code is None
    with pytest.raises(ScenarioError, match="outbound.fail"):
        parse_scenario({"caller": "+1", "callee": "+2", "outbound": {"fail": {"code": 603}}})
    with pytest.raises(ValueError, match="outbound"):
        import asyncio

        asyncio.run(run_scenario(load_scenario("outbound_answered"), events_url="http://127.0.0.1:9/",
                                 simulator=None))  # type: ignore[arg-type]
