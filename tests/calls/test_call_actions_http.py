"""The control API and the media host's action and silence routes, against real Durable endpoints (the dev
host) and the ACS simulator: validation, 202/400/401/404/409, and the action reaching ACS through the
orchestration with its id as operation context."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from calls import app_context
from shared.call_inbox import INBOX_EVENT, inbox_payload
from shared.call_token import call_token
from tests.calls.test_events_http import offered_delivery, post_events, raised_events, wait_until
from tests.conftest import TEST_CALL_TOKEN_SECRET, FunctionApp, durable_client_binding
from tools.acs_simulator import AcsSimulatorServer
from tools.dev_host.durable_api import client_binding_json

AGENT = "+14255550123"


def raise_directly(durable, instance_id: str, name: str, payload: dict[str, Any]) -> None:
    """As the callbacks function would, without going through it."""
    binding = json.loads(client_binding_json(durable.base_url, "CallLifecycle", durable.function_key))
    url = binding["managementUrls"]["sendEventPostUri"].replace("INSTANCEID", instance_id).replace(
        "{eventName}", INBOX_EVENT)
    request = urllib.request.Request(url, data=json.dumps(inbox_payload(name, payload)).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def answered_call(function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> tuple[str, str]:
    response = post_events(function_app, durable, offered_delivery(simulator))
    (call,) = json.loads(response.get_body())["calls"]
    assert call["status"] == "answered"
    status = wait_until(lambda: durable.instance_status(call["instanceId"]),
                        lambda s: bool((s or {}).get("customStatus", {}).get("callConnectionId")))
    return call["instanceId"], status["customStatus"]["callConnectionId"]


def connected_call(function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> tuple[str, str]:
    instance_id, connection_id = answered_call(function_app, durable, simulator)
    simulator.mark_connected(connection_id)
    raise_directly(durable, instance_id, "CallConnected", {"type": "CallConnected", "callConnectionId": connection_id})
    wait_until(lambda: durable.instance_status(instance_id),
               lambda s: (s or {}).get("customStatus", {}).get("flow") == "listening")
    return instance_id, connection_id


def control(function_app: FunctionApp, durable, instance_id: str, body: object, headers: dict[str, str] | None = None):
    return function_app.http("call_actions", body=body, route_params={"instanceId": instance_id},
                             headers={"content-type": "application/json", **(headers or {})},
                             client=durable_client_binding(durable.base_url))


def media(function_app: FunctionApp, durable, route: str, instance_id: str, body: object, token: str | None = None):
    return function_app.http(
        route, body=body, route_params={"instanceId": instance_id},
        params={"token": token if token is not None else call_token(TEST_CALL_TOKEN_SECRET, instance_id)},
        client=durable_client_binding(durable.base_url))


def body_of(response) -> dict[str, Any]:
    return json.loads(response.get_body())


def acs_requests(simulator: AcsSimulatorServer, operation: str, action_id: str) -> list[dict[str, Any]]:
    return [r.json for r in simulator.requests_for(operation)
            if isinstance(r.json, dict) and r.json.get("operationContext") == action_id]


def test_play_is_run_by_the_orchestration_with_its_id(function_app: FunctionApp, durable,
                                                      simulator: AcsSimulatorServer) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    response = control(function_app, durable, instance_id, {"action": "play", "text": "One moment please."})
    assert response.status_code == 202
    accepted = body_of(response)
    assert (accepted["instanceId"], accepted["action"], accepted["status"]) == (instance_id, "play", "accepted")
    action_id = accepted["actionId"]
    (play,) = wait_until(lambda: acs_requests(simulator, "play", action_id), bool)
    assert play["playSources"][0]["text"]["text"] == "One moment please."
    assert "CallActionRequested" in raised_events(durable.instance_status(instance_id))
    raise_directly(durable, instance_id, "PlayFailed", {
        "type": "PlayFailed", "operationContext": action_id, "id": "cb-1",
        "result": {"code": 400, "subCode": 8535, "message": "Action failed, file format is invalid."}})
    status = wait_until(lambda: durable.instance_status(instance_id),
                        lambda s: s["customStatus"]["pendingActions"] == 0)
    assert status["customStatus"]["pendingActions"] == 0


@pytest.mark.parametrize(("body", "path"), [
    ({"action": "transfer", "target": "4255550123"}, "target"),
    ({"action": "play", "text": "x" * 401}, "text"),
    ({"action": "play", "url": "http://cdn.example/a.wav"}, "url"),
    ({"action": "reboot"}, "action"),
    ({"action": "message", "text": "We are closed."}, "action"),  # answer-policy actions are no call actions
    ("not json", ""),
    # A transfer's context headers: too long, or holding line breaks (shared/transfer_context.py).
    ({"action": "transfer", "reason": "line one\r\nX-Injected: 1"}, "reason"),
    ({"action": "handoff", "reason": "x" * 121}, "reason"),
    ({"action": "transfer", "headers": {"Ticket": "4711\n"}}, "headers.Ticket"),
    ({"action": "handoff", "headers": {"Ticket": "é" * 100}}, "headers.Ticket"),
    ({"action": "transfer", "headers": {"Bad Name": "1"}}, "headers.Bad Name"),
    ({"action": "transfer", "headers": {"A": "1", "B": "2", "C": "3"}}, "headers"),
    ({"action": "play", "text": "hi", "reason": "why"}, "reason"),
])
def test_bad_requests_are_400_and_raise_nothing(function_app: FunctionApp, durable, simulator: AcsSimulatorServer,
                                                body: object, path: str) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    before = raised_events(durable.instance_status(instance_id))
    response = control(function_app, durable, instance_id, body if body != "not json" else b"{nope")
    assert response.status_code == 400 and body_of(response)["path"] == path
    assert raised_events(durable.instance_status(instance_id)) == before


def test_transfer_without_a_target_is_refused_when_none_is_configured(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    monkeypatch.delenv("CALL_TRANSFER_TARGET", raising=False)
    before = raised_events(durable.instance_status(instance_id))
    refused = control(function_app, durable, instance_id, {"action": "transfer"})
    assert refused.status_code == 422
    assert body_of(refused)["path"] == "target" and "CALL_TRANSFER_TARGET" in body_of(refused)["message"]
    assert raised_events(durable.instance_status(instance_id)) == before
    monkeypatch.setenv("CALL_TRANSFER_TARGET", "+14255550123")
    app_context.reset()  # settings are read once per process
    assert control(function_app, durable, instance_id, {"action": "transfer"}).status_code == 202


def test_unknown_ringing_and_finished_calls(function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    hang_up = {"action": "hang_up"}
    assert control(function_app, durable, "call-" + "f" * 32, hang_up).status_code == 404
    assert control(function_app, durable, "bad/id", hang_up).status_code == 400
    ringing, _ = answered_call(function_app, durable, simulator)
    refused = control(function_app, durable, ringing, hang_up)
    assert refused.status_code == 409 and "not connected" in body_of(refused)["message"]
    simulator.faults.fail_next("answer", status=400, times=1)
    (failed,) = body_of(post_events(function_app, durable, offered_delivery(simulator)))["calls"]
    durable.wait_for_instance(failed["instanceId"], timeout=30)
    assert control(function_app, durable, failed["instanceId"], hang_up).status_code == 409


def test_idempotency_key_makes_a_retry_the_same_action(function_app: FunctionApp, durable,
                                                       simulator: AcsSimulatorServer) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    key = {"Idempotency-Key": "retry-me-1"}
    hold = {"action": "play", "url": "https://cdn.contoso.com/hold.wav"}
    first = body_of(control(function_app, durable, instance_id, hold, key))
    second = body_of(control(function_app, durable, instance_id, hold, key))
    assert first["actionId"] == second["actionId"]
    wait_until(lambda: durable.instance_status(instance_id),
               lambda s: raised_events(s).count("CallActionRequested") == 2)
    wait_until(lambda: acs_requests(simulator, "play", first["actionId"]), bool)
    assert len(acs_requests(simulator, "play", first["actionId"])) == 1
    bad_key = control(function_app, durable, instance_id, hold, {"Idempotency-Key": "a b"})
    assert bad_key.status_code == 400


def test_transcription_actions_reach_acs(function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    start = body_of(control(function_app, durable, instance_id, {"action": "start_transcription", "locale": "en-GB"}))
    (request,) = wait_until(lambda: acs_requests(simulator, "start_transcription", start["actionId"]), bool)
    assert request["locale"] == "en-GB"


def test_mute_is_refused_up_front_for_a_phone_caller(function_app: FunctionApp, durable,
                                                     simulator: AcsSimulatorServer) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    response = control(function_app, durable, instance_id, {"action": "mute"})
    assert response.status_code == 422
    assert body_of(response) == {"error": "unsupported_action", "path": "action", "message":
                                 "mute works only when the caller is an ACS user; this call's caller is phoneNumber"}
    assert simulator.requests_for("mute") == []


def test_mute_and_recognize_target_the_caller_from_the_incoming_call(function_app: FunctionApp, durable,
                                                                    simulator: AcsSimulatorServer) -> None:
    user = "8:acs:00000000-0000-0000-0000-000000000001_00000000-0000-0000-0000-000000000002"
    delivery = offered_delivery(simulator, caller=user)
    delivery[0]["data"]["from"] = {"kind": "communicationUser", "rawId": user, "communicationUser": {"id": user}}
    (call,) = body_of(post_events(function_app, durable, delivery))["calls"]
    instance_id = call["instanceId"]
    status = wait_until(lambda: durable.instance_status(instance_id),
                        lambda s: bool((s or {}).get("customStatus", {}).get("callConnectionId")))
    connection_id = status["customStatus"]["callConnectionId"]
    simulator.mark_connected(connection_id)
    raise_directly(durable, instance_id, "CallConnected", {"type": "CallConnected", "callConnectionId": connection_id})
    wait_until(lambda: durable.instance_status(instance_id),
               lambda s: (s or {}).get("customStatus", {}).get("flow") == "listening")
    mute = body_of(control(function_app, durable, instance_id, {"action": "mute"}))
    (muted,) = wait_until(lambda: acs_requests(simulator, "mute", mute["actionId"]), bool)
    assert [(p["rawId"], p["communicationUser"]) for p in muted["targetParticipants"]] == [(user, {"id": user})]
    menu = {"action": "recognize_dtmf", "url": "https://cdn.contoso.com/menu.wav", "maxTones": 1}
    recognize = body_of(control(function_app, durable, instance_id, menu))
    (request,) = wait_until(lambda: acs_requests(simulator, "recognize", recognize["actionId"]), bool)
    assert request["recognizeOptions"]["targetParticipant"]["rawId"] == user


def test_transcription_actions_are_refused_when_the_call_has_no_transcription(
        app_env: pytest.MonkeyPatch, function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    app_env.delenv("ACS_COGNITIVE_SERVICES_ENDPOINT")
    instance_id, _ = connected_call(function_app, durable, simulator)
    response = control(function_app, durable, instance_id, {"action": "start_transcription"})
    assert response.status_code == 422 and body_of(response)["error"] == "not_configured"
    assert "ACS_COGNITIVE_SERVICES_ENDPOINT" in body_of(response)["message"]


def test_media_host_may_transfer_with_its_call_token(function_app: FunctionApp, durable,
                                                     simulator: AcsSimulatorServer) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    transfer = {"action": "transfer", "target": AGENT}
    assert media(function_app, durable, "media_actions", instance_id, transfer, token="forged").status_code == 401
    refused = media(function_app, durable, "media_actions", instance_id, {"action": "play", "text": "hi"})
    assert refused.status_code == 400 and body_of(refused)["path"] == "action"
    accepted = media(function_app, durable, "media_actions", instance_id, transfer)
    assert accepted.status_code == 202
    (request,) = wait_until(lambda: acs_requests(simulator, "transfer", body_of(accepted)["actionId"]), bool)
    assert request["targetParticipant"]["phoneNumber"]["value"] == AGENT
    assert AGENT not in json.dumps(durable.instance_status(instance_id)["customStatus"])
    # Sealed at the edge: the history holds the sealed form and the mask, never the number.
    history = json.dumps(durable.instance_status(instance_id, show_history=True))
    assert AGENT not in history and AGENT[1:] not in history and "+1 425 *** **23" in history


def test_silence_reports(function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    instance_id, _ = connected_call(function_app, durable, simulator)
    report = {"silentMs": 8000, "utterances": 1}
    response = media(function_app, durable, "caller_silence", instance_id, report)
    assert response.status_code == 200 and body_of(response)["events"] == ["raised"]
    for bad in ({"silentMs": -1, "utterances": 0}, {"silentMs": 1}, [], {"silentMs": "8000", "utterances": 0}):
        assert media(function_app, durable, "caller_silence", instance_id, bad).status_code == 400
    assert media(function_app, durable, "caller_silence", instance_id, report, token="x").status_code == 401
    unknown = "call-" + "e" * 32
    assert media(function_app, durable, "caller_silence", unknown, report).status_code == 404
    status = wait_until(lambda: durable.instance_status(instance_id), lambda s: "CallerSilence" in raised_events(s))
    assert raised_events(status).count("CallerSilence") == 1


def test_acs_refusing_an_action_settles_it_as_failed(function_app: FunctionApp, durable,
                                                     simulator: AcsSimulatorServer) -> None:
    instance_id, connection_id = answered_call(function_app, durable, simulator)
    # Connected for us, not yet for ACS: ACS answers media actions with 400 before the call is established.
    raise_directly(durable, instance_id, "CallConnected", {"type": "CallConnected", "callConnectionId": connection_id})
    wait_until(lambda: durable.instance_status(instance_id),
               lambda s: (s or {}).get("customStatus", {}).get("stage") == "connected")
    action_id = body_of(control(function_app, durable, instance_id, {"action": "play", "text": "Hello"}))["actionId"]
    refused = wait_until(lambda: [r for r in simulator.requests_for("play")
                                  if r.json.get("operationContext") == action_id], bool)
    assert [r.status for r in refused] == [400]
    status = wait_until(lambda: durable.instance_status(instance_id),
                        lambda s: s["customStatus"]["pendingActions"] == 0)
    assert status["customStatus"]["pendingActions"] == 0
    assert "run_call_action" in json.dumps(status["historyEvents"])
