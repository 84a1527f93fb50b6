"""AcsSimulatorServer driven by the real azure-communication-callautomation and -email SDK clients."""

from __future__ import annotations

import base64
import email
import email.policy
import http.client
import json
import os
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from azure.communication.callautomation import (
    AudioFormat,
    CallAutomationClient,
    FileSource,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    RecognizeInputType,
    StreamingTransportType,
)
from azure.communication.email import EmailClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from tools.acs_simulator import AcsSimulatorServer, CallOperation
from tools.acs_simulator.hmac_auth import content_sha256, sign

ACCESS_KEY = base64.b64encode(os.urandom(32)).decode()
CALLER = "+14255550100"
CALLEE = "+18005550199"


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


def call_client(server: AcsSimulatorServer, key: str = ACCESS_KEY, **kwargs: object) -> CallAutomationClient:
    return CallAutomationClient(server.endpoint, AzureKeyCredential(key), **kwargs)


def email_client(server: AcsSimulatorServer, key: str = ACCESS_KEY, **kwargs: object) -> EmailClient:
    return EmailClient(server.endpoint, AzureKeyCredential(key), **kwargs)


def streaming_options(audio_format: AudioFormat = AudioFormat.PCM16_K_MONO) -> MediaStreamingOptions:
    return MediaStreamingOptions(
        transport_url="wss://media.example.test/ws/abc/token",
        transport_type=StreamingTransportType.WEBSOCKET,
        content_type=MediaStreamingContentType.AUDIO,
        audio_channel_type=MediaStreamingAudioChannelType.MIXED,
        start_media_streaming=True,
        enable_bidirectional=True,
        audio_format=audio_format,
    )


def email_message(to: str = "owner@example.test") -> dict[str, object]:
    return {
        "senderAddress": "DoNotReply@example.test",
        "recipients": {"to": [{"address": to, "displayName": "Owner"}]},
        "content": {"subject": "Call summary", "plainText": "Caller asked for a refund.",
                    "html": "<p>Caller asked for a <b>refund</b>.</p>"},
    }


def test_answer_call_with_media_streaming_returns_new_connection(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE, "Alice")
    seen: list[CallOperation] = []
    simulator.add_observer(seen.append)

    props = call_client(simulator).answer_call(
        offered.incoming_call_context, "https://app.example.test/api/callbacks/i1?token=t",
        media_streaming=streaming_options(AudioFormat.PCM24_K_MONO), operation_context="ctx-1")

    assert props.call_connection_id
    assert props.server_call_id == offered.server_call_id
    assert props.correlation_id == offered.correlation_id
    # As in the spec's AnswerCall.json: `source` is the application's own ACS identity, never the caller;
    # the caller is the other party in `targets` and the number called is `answeredFor`.
    assert props.source.raw_id == simulator.app_identity and simulator.app_identity.startswith("8:acs:")
    assert [t.raw_id for t in props.targets] == [f"4:{CALLER}"]
    assert props.answered_for is not None and props.answered_for.properties["value"] == CALLEE
    assert props.call_connection_state == "connected"
    [answer] = simulator.requests_for("answer")
    assert answer.status == 200
    assert answer.query["api-version"]
    media = answer.json["mediaStreamingOptions"]
    assert media["transportUrl"] == "wss://media.example.test/ws/abc/token"
    assert media["audioFormat"] == "pcm24KMono" and media["enableBidirectional"] is True
    assert answer.json["incomingCallContext"] == offered.incoming_call_context
    assert [(op.kind, op.call_connection_id) for op in seen] == [("answer", props.call_connection_id)]


def test_answer_twice_is_a_final_client_error(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    client = call_client(simulator)
    client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")

    with pytest.raises(HttpResponseError) as already:
        client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    with pytest.raises(HttpResponseError) as unknown:
        client.answer_call("not-a-context", "https://app.example.test/cb")

    assert already.value.status_code == 400 and "already answered" in str(already.value.message)
    assert unknown.value.status_code == 400
    assert len(simulator.requests_for("answer")) == 3  # no retries: 400 is final for the SDK too


def test_withdrawn_call_cannot_be_answered(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    simulator.withdraw_call(offered.incoming_call_context)
    with pytest.raises(HttpResponseError) as err:
        call_client(simulator).answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    assert err.value.status_code == 400


def test_a_call_answered_first_is_not_withdrawn(simulator: AcsSimulatorServer) -> None:
    # The answer won the race with the ring deadline: the app got its 200, so the call engine must connect it.
    offered = simulator.offer_call(CALLER, CALLEE)
    props = call_client(simulator).answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    ringing = simulator.offer_call(CALLER, CALLEE)

    assert simulator.withdraw_call(offered.incoming_call_context) is False
    assert simulator.call(props.call_connection_id) is not None
    assert simulator.withdraw_call(ringing.incoming_call_context) is True


def test_mid_call_actions_and_hang_up(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    client = call_client(simulator)
    props = client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    connection = client.get_call_connection(props.call_connection_id)
    caller = PhoneNumberIdentifier(CALLER)

    connection.play_media(FileSource(url="https://cdn.example.test/hello.wav"), operation_context="greet")
    connection.start_recognizing_media(RecognizeInputType.DTMF, caller, dtmf_max_tones_to_collect=1,
                                       operation_context="menu")
    transfer = connection.transfer_call_to_participant(PhoneNumberIdentifier("+18005550111"),
                                                       operation_context="xfer")
    fetched = connection.get_call_properties()
    connection.hang_up(is_for_everyone=True)

    assert transfer.operation_context == "xfer"
    assert fetched.call_connection_state == "connected"
    statuses = [(r.operation, r.status) for r in simulator.requests if r.operation != "answer"]
    assert statuses == [("play", 202), ("recognize", 202), ("transfer", 202), ("get_call", 200), ("terminate", 204)]
    assert simulator.requests_for("play")[0].json["playSources"][0]["file"]["uri"] == "https://cdn.example.test/hello.wav"
    assert simulator.requests_for("recognize")[0].json["recognizeInputType"] == "dtmf"
    assert simulator.call(props.call_connection_id).state == "disconnected"
    with pytest.raises(HttpResponseError) as gone:
        connection.play_media(FileSource(url="https://cdn.example.test/hello.wav"))
    assert gone.value.status_code == 404


def test_hang_up_for_self_uses_delete(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    client = call_client(simulator)
    props = client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    client.get_call_connection(props.call_connection_id).hang_up(is_for_everyone=False)
    [hang_up] = simulator.requests_for("hang_up")
    assert (hang_up.method, hang_up.status) == ("DELETE", 204)


def test_bad_key_is_rejected_with_401(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    wrong_key = base64.b64encode(b"x" * 32).decode()

    with pytest.raises(ClientAuthenticationError) as call_err:
        call_client(simulator, wrong_key).answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    with pytest.raises(HttpResponseError) as email_err:
        email_client(simulator, wrong_key).begin_send(email_message())

    assert call_err.value.status_code == 401 and email_err.value.status_code == 401
    assert simulator.emails == []
    assert [r.status for r in simulator.requests] == [401, 401]
    assert simulator.call_connections() == []


def _raw_post(server: AcsSimulatorServer, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(server.endpoint + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _signed_headers(server: AcsSimulatorServer, path: str, body: bytes, date: datetime) -> dict[str, str]:
    host = server.endpoint.removeprefix("http://")
    stamp = format_datetime(date, usegmt=True)
    digest = content_sha256(body)
    signature = sign(ACCESS_KEY, "POST", path, stamp, host, digest)
    return {"x-ms-date": stamp, "x-ms-content-sha256": digest, "Content-Type": "application/json",
            "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"}


def test_signature_checks_reject_stale_date_tampered_body_and_missing_header(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    path = "/calling/callConnections:answer?api-version=2026-03-12"
    body = json.dumps({"incomingCallContext": offered.incoming_call_context, "callbackUri": "https://a.test/cb"}).encode()
    now = datetime.now(UTC)

    stale = _raw_post(simulator, path, body, _signed_headers(simulator, path, body, now - timedelta(minutes=16)))
    tampered = _raw_post(simulator, path, body.replace(b"a.test", b"b.test"),
                         _signed_headers(simulator, path, body, now))
    missing = _raw_post(simulator, path, body, {"Content-Type": "application/json"})
    fresh = _raw_post(simulator, path, body, _signed_headers(simulator, path, body, now - timedelta(minutes=14)))

    assert stale[0] == tampered[0] == missing[0] == 401
    assert stale[1]["error"]["code"] == "7509" and "skew" in stale[1]["error"]["message"]
    assert "x-ms-content-sha256" in tampered[1]["error"]["message"]
    assert fresh[0] == 200 and fresh[1]["callConnectionId"]


def test_answer_429_three_times_then_success_with_sdk_retry(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    simulator.faults.fail_next("answer", status=429, times=3, retry_after=0.05)

    props = call_client(simulator).answer_call(offered.incoming_call_context, "https://app.example.test/cb")

    answers = simulator.requests_for("answer")
    assert [r.status for r in answers] == [429, 429, 429, 200]
    # The SDK retried the same request: one Repeatability-Request-ID for all four attempts.
    assert len({r.headers["repeatability-request-id"] for r in answers}) == 1
    assert props.call_connection_id


def test_answer_500_is_retried_then_surfaces_when_retries_run_out(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    client = call_client(simulator, retry_total=2, retry_backoff_factor=0.01)
    simulator.faults.fail_next("answer", status=500, times=3)
    with pytest.raises(HttpResponseError) as err:
        client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    simulator.faults.fail_next("answer", status=500, times=2)
    props = client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")

    assert err.value.status_code == 500
    assert [r.status for r in simulator.requests_for("answer")] == [500, 500, 500, 500, 500, 200]
    assert props.call_connection_id


def test_repeated_request_id_replays_the_first_answer(simulator: AcsSimulatorServer) -> None:
    offered = simulator.offer_call(CALLER, CALLEE)
    client = call_client(simulator)
    headers = {"Repeatability-Request-ID": "5b3c6a4e-0000-4000-8000-000000000001",
               "Repeatability-First-Sent": format_datetime(datetime.now(UTC), usegmt=True)}
    first = client.answer_call(offered.incoming_call_context, "https://a.test/cb", headers=headers)
    second = client.answer_call(offered.incoming_call_context, "https://a.test/cb", headers=headers)
    assert first.call_connection_id == second.call_connection_id


def test_email_send_polls_to_succeeded_and_writes_eml(simulator: AcsSimulatorServer) -> None:
    poller = email_client(simulator).begin_send(email_message())
    result = poller.result()

    assert result["status"] == "Succeeded"
    [sent] = simulator.emails
    assert sent.subject == "Call summary" and sent.to == ("Owner <owner@example.test>",)
    assert [r.operation for r in simulator.requests] == ["email", "email_status", "email_status"]
    assert simulator.requests[0].status == 202
    parsed = email.message_from_bytes(sent.eml_path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Call summary" and parsed["From"] == "DoNotReply@example.test"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "Caller asked for a refund."
    assert "<b>refund</b>" in parsed.get_body(("html",)).get_content()


def test_email_same_operation_id_is_delivered_once(simulator: AcsSimulatorServer) -> None:
    client = email_client(simulator)
    first = client.begin_send(email_message(), operation_id="summary-call-1").result()
    second = client.begin_send(email_message(), operation_id="summary-call-1").result()
    assert first["id"] == second["id"] == "summary-call-1"
    assert len(simulator.emails) == 1
    assert len(list(simulator.eml_dir.glob("*.eml"))) == 1


def test_email_429_three_times_then_success(simulator: AcsSimulatorServer) -> None:
    simulator.faults.fail_next("email", status=429, times=3, retry_after=0.05)
    assert email_client(simulator).begin_send(email_message()).result()["status"] == "Succeeded"
    assert [r.status for r in simulator.requests_for("email")] == [429, 429, 429, 202]
    assert len(simulator.emails) == 1


def test_invalid_email_is_a_400_and_not_delivered(simulator: AcsSimulatorServer) -> None:
    message = email_message()
    message["recipients"] = {"to": []}
    with pytest.raises(HttpResponseError) as err:
        email_client(simulator).begin_send(message)
    assert err.value.status_code == 400
    assert simulator.emails == []


def test_oversized_or_garbled_requests_get_4xx_and_the_server_goes_on(simulator: AcsSimulatorServer) -> None:
    host, port = simulator.endpoint.removeprefix("http://").split(":")
    statuses = []
    for length in ("999999999", "abc"):
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.putrequest("POST", "/emails:send?api-version=2025-09-01")
        conn.putheader("Content-Length", length)
        conn.endheaders()
        statuses.append(conn.getresponse().status)
        conn.close()
    assert statuses == [413, 400]
    assert email_client(simulator).begin_send(email_message()).result()["status"] == "Succeeded"


def test_reject_and_redirect_a_ringing_call_with_the_real_client(simulator: AcsSimulatorServer) -> None:
    from azure.communication.callautomation import CallRejectReason, PhoneNumberIdentifier

    client = call_client(simulator)
    rejected, redirected = simulator.offer_call(CALLER, CALLEE), simulator.offer_call(CALLER, CALLEE)
    client.reject_call(rejected.incoming_call_context, call_reject_reason=CallRejectReason.BUSY)
    client.redirect_call(redirected.incoming_call_context, PhoneNumberIdentifier("+14255550199"))

    [reject] = simulator.requests_for("reject")
    [redirect] = simulator.requests_for("redirect")
    assert (reject.status, reject.json) == (204, {"incomingCallContext": rejected.incoming_call_context,
                                                  "callRejectReason": "busy"})
    assert redirect.status == 204 and redirect.json["incomingCallContext"] == redirected.incoming_call_context
    assert redirect.json["target"]["rawId"] == "4:+14255550199"
    assert simulator.refused_calls() == {rejected.incoming_call_context: "rejected",
                                       redirected.incoming_call_context: "redirected"}
    with pytest.raises(HttpResponseError) as gone:  # a refused call rings no more: it cannot be answered
        client.answer_call(rejected.incoming_call_context, "https://app.example.test/cb")
    assert gone.value.status_code == 400


def test_reject_or_redirect_of_a_call_not_ringing_is_refused(simulator: AcsSimulatorServer) -> None:
    from azure.communication.callautomation import PhoneNumberIdentifier

    client = call_client(simulator)
    answered, rejected = simulator.offer_call(CALLER, CALLEE), simulator.offer_call(CALLER, CALLEE)
    client.answer_call(answered.incoming_call_context, "https://app.example.test/cb")
    client.reject_call(rejected.incoming_call_context)
    with pytest.raises(HttpResponseError) as already:
        client.reject_call(answered.incoming_call_context, call_reject_reason="forbidden")
    with pytest.raises(HttpResponseError) as twice:
        client.redirect_call(rejected.incoming_call_context, PhoneNumberIdentifier("+14255550199"))
    with pytest.raises(HttpResponseError) as bad_reason:
        client.reject_call(answered.incoming_call_context, call_reject_reason="declined")
    assert already.value.status_code == 400 and "already answered" in str(already.value.message)
    assert twice.value.status_code == 400
    assert bad_reason.value.status_code == 400  # callRejectReason must be none, busy or forbidden
