"""`POST /api/events` end to end through real parts: the function called directly, the real durable client
against the dev host's Durable endpoints, and the real Call Automation client against the ACS simulator,
which verifies every request's HMAC-SHA256 signature and records the answer body."""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from calls import answer_claim, answer_timing, app_context
from shared.blob_names import answer_claim_blob
from shared.call_inbox import INBOX_EVENT, read_inbox
from shared.call_token import call_token, instance_id_for_call
from tests.conftest import TEST_CALL_TOKEN_SECRET, FunctionApp, durable_client_binding
from tools.acs_simulator import AcsSimulatorServer
from tools.azurite import free_port

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"
NOTIFICATION = {"content-type": "application/json", "aeg-event-type": "Notification"}


def docs_sample() -> list[dict]:
    return json.loads((FIXTURES / "incoming_call_eventgrid.json").read_text())


def offered_delivery(simulator: AcsSimulatorServer, caller: str = "+14255550123") -> list[dict]:
    """The docs' sample delivery, carrying a call the simulator is ringing (so the answer can succeed)."""
    offered = simulator.offer_call(caller, "+18005550100", managed=True)
    delivery = docs_sample()
    data = delivery[0]["data"]
    data["from"] = {"kind": "phoneNumber", "rawId": f"4:{caller}", "phoneNumber": {"value": caller}}
    data["serverCallId"] = offered.server_call_id
    data["incomingCallContext"] = offered.incoming_call_context
    data["correlationId"] = offered.correlation_id
    return delivery


def raised_events(status: dict | None) -> list[str]:
    """The kind of each event raised on the call's inbox (shared/call_inbox.py), in history order."""
    events = (status or {}).get("historyEvents") or []
    return [read_inbox(event.get("Input"))[0] if event.get("Name") == INBOX_EVENT else event.get("Name", "")
            for event in events if event["EventType"] == "EventRaised"]


def wait_until(read, done, timeout: float = 10.0):
    """Raised events are queued, as in Durable: poll the status until the instance has processed them."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def post_events(app: FunctionApp, host, delivery: object):
    return app.http("events", body=delivery, headers=NOTIFICATION, client=durable_client_binding(host.base_url))


def test_docs_sample_is_answered_with_media_streaming_and_per_call_urls(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    delivery = offered_delivery(simulator)
    response = post_events(function_app, durable, delivery)
    assert response.status_code == 200, response.get_body()
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    assert json.loads(response.get_body())["calls"] == [{"instanceId": instance_id, "status": "answered"}]

    (answer,) = simulator.requests_for("answer")
    token = call_token(TEST_CALL_TOKEN_SECRET, instance_id)
    assert answer.status == 200
    assert answer.json["incomingCallContext"] == delivery[0]["data"]["incomingCallContext"]
    assert answer.json["callbackUri"] == f"http://127.0.0.1:7071/api/callbacks/{instance_id}?token={token}"
    assert answer.json["operationContext"] == instance_id
    streaming = dict(answer.json["mediaStreamingOptions"])
    # With telemetry on, the URL also carries the call's W3C traceparent (the media host continues the trace).
    transport = urlsplit(streaming.pop("transportUrl"))
    assert transport._replace(query="").geturl() == f"ws://127.0.0.1:8080/ws/{instance_id}/{token}"
    assert set(parse_qs(transport.query)) <= {"traceparent"}
    assert streaming == {
        "transportType": "websocket",
        "contentType": "audio",
        "audioChannelType": "mixed",
        "startMediaStreaming": True,
        "enableBidirectional": True,
        "audioFormat": "pcm16KMono",
        "enableDtmfTones": True,  # MEDIA_DTMF's default
    }

    status = wait_until(lambda: durable.instance_status(instance_id),
                        lambda status: raised_events(status) == ["CallAnswered"])
    assert status["runtimeStatus"] in ("Pending", "Running")
    assert status["customStatus"]["stage"] == "ringing"
    # The orchestration's input carries masked numbers only.
    assert "+14255550123" not in json.dumps(status["input"])


def test_the_unmodified_docs_sample_reaches_acs_and_a_refused_answer_ends_the_call(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    delivery = docs_sample()
    response = post_events(function_app, durable, delivery)
    assert response.status_code == 200
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    assert json.loads(response.get_body())["calls"][0]["status"] == "answer_failed"
    (answer,) = simulator.requests_for("answer")
    assert answer.json["incomingCallContext"] == delivery[0]["data"]["incomingCallContext"]
    assert answer.status >= 400

    final = durable.wait_for_instance(instance_id, timeout=30)
    assert final["runtimeStatus"] == "Completed"
    assert final["output"]["outcome"] == "answer_failed"
    assert len(simulator.emails) == 1  # recorded and summarised, not retried forever


def test_sequential_duplicates_and_redelivery_with_a_new_event_id_answer_once(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    delivery = offered_delivery(simulator)
    redelivery = copy.deepcopy(delivery)
    redelivery[0]["id"] = "another-event-grid-id"
    statuses = []
    for body in (delivery, delivery, redelivery):
        response = post_events(function_app, durable, body)
        assert 200 <= response.status_code < 300
        statuses.append(json.loads(response.get_body())["calls"][0]["status"])
    assert statuses == ["answered", "duplicate", "duplicate"]
    assert len(simulator.requests_for("answer")) == 1


def test_concurrent_duplicates_start_one_orchestration_and_answer_once(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    delivery = offered_delivery(simulator)
    results: list[int] = []
    barrier = threading.Barrier(3)

    def deliver() -> None:
        barrier.wait()
        results.append(post_events(function_app, durable, delivery).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [200, 200, 200]
    successful_answers = [r for r in simulator.requests_for("answer") if r.status == 200]
    assert len(successful_answers) == 1
    listed = urllib.request.urlopen(f"{durable.base_url}/runtime/webhooks/durabletask/instances"
                                    f"?code={durable.function_key}", timeout=10)
    assert [item["instanceId"] for item in json.load(listed)] == [instance_id_for_call(
        delivery[0]["data"]["serverCallId"])]


def test_a_finished_call_is_not_restarted_by_a_late_redelivery(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    delivery = docs_sample()  # refused by ACS, so the call ends at once
    post_events(function_app, durable, delivery)
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    first = durable.wait_for_instance(instance_id, timeout=30)
    response = post_events(function_app, durable, delivery)
    assert json.loads(response.get_body())["calls"][0]["status"] == "duplicate"
    again = durable.instance_status(instance_id)
    assert again["createdTime"] == first["createdTime"]
    assert len(again["historyEvents"]) == len(first["historyEvents"])


@pytest.mark.parametrize("endpoint", ["https://my-ai.cognitiveservices.azure.com/", None])
def test_the_answer_names_the_cognitive_services_endpoint_only_when_set(
        app_env: pytest.MonkeyPatch, function_app: FunctionApp, durable, simulator: AcsSimulatorServer,
        endpoint: str | None) -> None:
    if endpoint is not None:
        app_env.setenv("ACS_COGNITIVE_SERVICES_ENDPOINT", endpoint)
    else:
        app_env.delenv("ACS_COGNITIVE_SERVICES_ENDPOINT", raising=False)
    response = post_events(function_app, durable, offered_delivery(simulator))
    assert response.status_code == 200, response.get_body()
    (answer,) = simulator.requests_for("answer")
    assert answer.status == 200
    if endpoint is not None:
        assert answer.json["callIntelligenceOptions"] == {"cognitiveServicesEndpoint": endpoint}
    else:
        assert "callIntelligenceOptions" not in answer.json
        assert "cognitiveServicesEndpoint" not in json.dumps(answer.json)


@pytest.mark.parametrize(("mode", "locale", "started"), [(None, None, True), ("off", "de-DE", False)])
def test_the_answer_asks_for_transcription_on_its_own_socket(
        app_env: pytest.MonkeyPatch, function_app: FunctionApp, durable, simulator: AcsSimulatorServer,
        mode: str | None, locale: str | None, started: bool) -> None:
    app_env.setenv("ACS_COGNITIVE_SERVICES_ENDPOINT", "https://my-ai.cognitiveservices.azure.com/")
    for name, value in (("CALL_TRANSCRIPTION", mode), ("CALL_TRANSCRIPTION_LOCALE", locale)):
        if value is None:
            app_env.delenv(name, raising=False)
        else:
            app_env.setenv(name, value)
    delivery = offered_delivery(simulator)
    response = post_events(function_app, durable, delivery)
    assert response.status_code == 200, response.get_body()
    (answer,) = simulator.requests_for("answer")
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    token = call_token(TEST_CALL_TOKEN_SECRET, instance_id)
    options = answer.json["transcriptionOptions"]
    transport = urlsplit(options.pop("transportUrl"))
    assert options == {"transportType": "websocket", "locale": locale or "en-US", "startTranscription": started}
    assert (transport.scheme, transport.path) == ("ws", f"/ws/{instance_id}/{token}/transcription")
    assert answer.json["mediaStreamingOptions"]["transportUrl"].split("?")[0].endswith(f"/ws/{instance_id}/{token}")


def test_without_an_ai_endpoint_no_transcription_is_asked_and_the_call_says_so(
        app_env: pytest.MonkeyPatch, function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    app_env.delenv("ACS_COGNITIVE_SERVICES_ENDPOINT", raising=False)
    delivery = offered_delivery(simulator)
    post_events(function_app, durable, delivery)
    (answer,) = simulator.requests_for("answer")
    assert "transcriptionOptions" not in answer.json
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    status = durable.instance_status(instance_id)
    start = json.loads(status["input"]) if isinstance(status["input"], str) else status["input"]
    assert start["transcription"] == "not_configured"


def test_the_caller_is_kept_sealed_in_the_orchestration_input(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    from shared.sealed_value import CALLER, unseal

    delivery = offered_delivery(simulator, caller="+14255550199")
    post_events(function_app, durable, delivery)
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    status = durable.instance_status(instance_id)
    assert "14255550199" not in json.dumps(status)
    start = json.loads(status["input"]) if isinstance(status["input"], str) else status["input"]
    assert start["callerKind"] == "phoneNumber"
    assert unseal(TEST_CALL_TOKEN_SECRET, CALLER, instance_id, start["callerRef"]) == "4:+14255550199"


def test_a_delivery_whose_start_fails_releases_its_claim_so_the_redelivery_answers(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    # The claim comes first, so when Durable is down the claim is won: it must be released, or the redelivery
    # Event Grid makes after the 503 could not answer the call.
    delivery = offered_delivery(simulator)
    nothing_listening = f"http://127.0.0.1:{free_port()}"
    refused = function_app.http("events", body=delivery, headers=NOTIFICATION,
                                client=durable_client_binding(nothing_listening))
    assert refused.status_code == 503
    assert simulator.requests_for("answer") == []
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    assert "releasedAt" in _claim(instance_id)
    # Durable still down at the next delivery: the claim it took over is released again, not kept.
    again = function_app.http("events", body=delivery, headers=NOTIFICATION,
                              client=durable_client_binding(nothing_listening))
    assert again.status_code == 503
    assert "releasedAt" in _claim(instance_id)

    redelivered = post_events(function_app, durable, delivery)
    assert json.loads(redelivered.get_body())["calls"] == [{"instanceId": instance_id, "status": "answered"}]
    assert [r.status for r in simulator.requests_for("answer")] == [200]
    assert "releasedAt" not in _claim(instance_id)  # the redelivery's claim now


def test_a_released_claim_of_a_call_that_finished_is_not_answered_and_its_history_is_kept(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    # A start that failed for its caller may have created the orchestration all the same; the call may even
    # have ended before Event Grid delivers again. The redelivery that takes the released claim over reads the
    # status before it starts, so it answers nothing and replaces nothing.
    delivery = docs_sample()  # refused by ACS, so the call ends at once
    delivery[0]["data"]["serverCallId"] += "-claim-released"  # a call of its own, not the other tests' sample
    post_events(function_app, durable, delivery)
    instance_id = instance_id_for_call(delivery[0]["data"]["serverCallId"])
    finished = durable.wait_for_instance(instance_id, timeout=30)
    first = _claim(instance_id)
    assert answer_claim.release_claim(instance_id, first["deliveryId"])
    assert not answer_claim.release_claim(instance_id, first["deliveryId"])  # once

    response = post_events(function_app, durable, delivery)
    assert json.loads(response.get_body())["calls"][0]["status"] == "duplicate"
    assert len(simulator.requests_for("answer")) == 1
    assert durable.instance_status(instance_id)["createdTime"] == finished["createdTime"]
    assert "releasedAt" not in _claim(instance_id)


def test_a_claim_is_released_only_by_the_delivery_that_holds_it(app_env: pytest.MonkeyPatch,
                                                                function_app: FunctionApp) -> None:
    instance_id = "call-claim-holder"
    assert answer_claim.claim_answer(instance_id, "first") is answer_claim.Claim.NEW
    assert answer_claim.claim_answer(instance_id, "second") is answer_claim.Claim.HELD
    assert not answer_claim.release_claim(instance_id, "second")
    assert answer_claim.release_claim(instance_id, "first")
    assert answer_claim.claim_answer(instance_id, "second") is answer_claim.Claim.TAKEN_OVER
    assert answer_claim.claim_answer(instance_id, "third") is answer_claim.Claim.HELD
    assert _claim(instance_id)["deliveryId"] == "second"


def _claim(instance_id: str) -> dict[str, str]:
    blob = app_context.transcripts_container().get_blob_client(answer_claim_blob(instance_id))
    claim: dict[str, str] = json.loads(blob.download_blob().readall())
    return claim


def test_each_answered_call_logs_where_its_answer_time_went(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=answer_timing.log.name)
    post_events(function_app, durable, offered_delivery(simulator))
    (record,) = [r for r in caplog.records if r.name == answer_timing.log.name]
    assert record.answerOutcome == "answered"
    steps = answer_timing.steps_of(vars(record))
    assert set(steps) == {"auth", "parse", "prepare", "claim", "durable_start", "answer", "raise", "total"}
    assert all(value >= 0 for value in steps.values())
    sequential = ("auth", "parse", "prepare", "claim", "durable_start", "answer", "raise")
    assert steps["total"] >= sum(steps[name] for name in sequential) - 0.1  # each rounded to 0.01 ms
