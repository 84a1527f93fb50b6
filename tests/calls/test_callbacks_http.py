"""`POST /api/callbacks/{instanceId}` against real Durable endpoints (the dev host): events are raised on the
call's orchestration by name, unknown calls get 404, finished calls are acknowledged and ignored, and a
bad request changes nothing that is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.call_token import call_token
from tests.calls.test_events_http import offered_delivery, post_events, raised_events, wait_until
from tests.conftest import TEST_CALL_TOKEN_SECRET, FunctionApp, durable_client_binding
from tests.otel_memory import memory_telemetry
from tools.acs_simulator import AcsSimulatorServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"


def ringing_call(function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> str:
    response = post_events(function_app, durable, offered_delivery(simulator))
    (call,) = json.loads(response.get_body())["calls"]
    assert call["status"] == "answered"
    return call["instanceId"]


def callback(function_app: FunctionApp, durable, instance_id: str, body: object, token: str | None = None):
    return function_app.http(
        "callbacks", body=body, route_params={"instanceId": instance_id},
        params={"token": token if token is not None else call_token(TEST_CALL_TOKEN_SECRET, instance_id)},
        client=durable_client_binding(durable.base_url))


def events_for(instance_id: str, *names: str) -> list[dict]:
    template = json.loads((FIXTURES / "callbacks_connected.json").read_text())[0]
    events = []
    for number, name in enumerate(names):
        event = json.loads(json.dumps(template))
        event["id"] = f"{name}-{number}"
        event["type"] = f"Microsoft.Communication.{name}"
        event["data"]["operationContext"] = instance_id
        events.append(event)
    return events


def test_callbacks_are_raised_on_the_call_by_name(function_app: FunctionApp, durable,
                                                  simulator: AcsSimulatorServer) -> None:
    instance_id = ringing_call(function_app, durable, simulator)
    response = callback(function_app, durable, instance_id,
                        events_for(instance_id, "CallConnected", "ParticipantsUpdated"))
    assert response.status_code == 200
    assert json.loads(response.get_body())["events"] == ["raised", "raised"]
    status = wait_until(lambda: durable.instance_status(instance_id),
                        lambda s: "ParticipantsUpdated" in raised_events(s))
    assert raised_events(status)[:3] == ["CallAnswered", "CallConnected", "ParticipantsUpdated"]
    assert status["customStatus"]["stage"] == "connected"


def test_unknown_callback_type_is_acknowledged_and_recorded(function_app: FunctionApp, durable,
                                                            simulator: AcsSimulatorServer) -> None:
    instance_id = ringing_call(function_app, durable, simulator)
    response = callback(function_app, durable, instance_id, events_for(instance_id, "SomethingNewFromAcs"))
    assert response.status_code == 200
    # Raised under one name the orchestration waits for, so the type reaches the call's timeline.
    status = wait_until(lambda: durable.instance_status(instance_id),
                        lambda s: "UnknownCallback" in raised_events(s))
    assert "SomethingNewFromAcs" in json.dumps(status["historyEvents"])


def test_callback_for_a_call_that_does_not_exist_is_404(function_app: FunctionApp, durable) -> None:
    instance_id = "call-ffffffffffffffffffffffffffffffff"
    response = callback(function_app, durable, instance_id, events_for(instance_id, "CallConnected"))
    assert response.status_code == 404
    assert json.loads(response.get_body())["error"] == "not_found"


def test_callback_for_a_finished_call_is_acknowledged_and_ignored(function_app: FunctionApp, durable,
                                                                  simulator: AcsSimulatorServer) -> None:
    simulator.faults.fail_next("answer", status=400, times=1)
    response = post_events(function_app, durable, offered_delivery(simulator))
    (refused,) = json.loads(response.get_body())["calls"]
    instance_id = refused["instanceId"]
    assert refused["status"] == "answer_failed"
    finished = durable.wait_for_instance(instance_id, timeout=30)
    assert finished["runtimeStatus"] == "Completed"
    response = callback(function_app, durable, instance_id, events_for(instance_id, "CallDisconnected"))
    assert response.status_code == 200
    assert json.loads(response.get_body())["events"] == ["finished"]
    assert durable.instance_status(instance_id)["historyEvents"] == finished["historyEvents"]


@pytest.mark.parametrize("bad", [b"garbage", b"[]", b"[{}]", b"[" * 5000, json.dumps([{"type": 5}]).encode()])
def test_a_bad_callback_changes_nothing_stored(function_app: FunctionApp, durable, simulator: AcsSimulatorServer,
                                               bad: bytes) -> None:
    instance_id = ringing_call(function_app, durable, simulator)
    before = wait_until(lambda: durable.instance_status(instance_id),
                        lambda s: raised_events(s) == ["CallAnswered"])
    assert 400 <= callback(function_app, durable, instance_id, bad).status_code < 500
    forged = callback(function_app, durable, instance_id, events_for(instance_id, "CallDisconnected"),
                      token=call_token(TEST_CALL_TOKEN_SECRET, "call-another"))
    assert forged.status_code == 401
    after = durable.instance_status(instance_id)
    assert raised_events(after) == raised_events(before)
    assert after["customStatus"] == before["customStatus"]


def test_callbacks_and_the_media_report_have_spans_in_the_calls_trace(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    telemetry = memory_telemetry()
    instance_id = ringing_call(function_app, durable, simulator)
    (incoming,) = [s for s in telemetry.finished_spans()
                   if s.name == "IncomingCall" and s.attributes.get("call.instance_id") == instance_id]
    token = call_token(TEST_CALL_TOKEN_SECRET, instance_id)
    # The callback URL is the one ACS was given at answer: no trace context in it.
    assert callback(function_app, durable, instance_id, events_for(instance_id, "CallConnected")).status_code == 200
    report = function_app.http("media_stream_ended", body={"framesReceived": 1},
                               route_params={"instanceId": instance_id}, params={"token": token},
                               client=durable_client_binding(durable.base_url))
    assert report.status_code == 200
    spans = {s.name: s for s in telemetry.finished_spans() if s.attributes.get("call.instance_id") == instance_id}
    for name in ("Callback", "MediaStreamEnded"):
        assert spans[name].context.trace_id == incoming.context.trace_id, name
        assert spans[name].parent is not None and spans[name].parent.span_id == incoming.context.span_id, name
    assert spans["Callback"].attributes["acs.callback_types"] == "Microsoft.Communication.CallConnected"
