"""The simulator's pure modules, without sockets: signatures, REST decisions, messages, scenarios."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tools.acs_simulator import cloud_events as ce
from tools.acs_simulator import event_grid_events as eg
from tools.acs_simulator import hmac_auth
from tools.acs_simulator import media_messages as mm
from tools.acs_simulator.acs_errors import AcsError
from tools.acs_simulator.call_registry import CallRegistry
from tools.acs_simulator.dtmf_recognizer import PendingRecognize
from tools.acs_simulator.email_message import parse_send_request, render_eml
from tools.acs_simulator.faults import FaultPlan
from tools.acs_simulator.masking import mask_text
from tools.acs_simulator.rest_api import RestApi, RestRequest
from tools.acs_simulator.scenario import (
    AUDIO_DIR,
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    parse_scenario,
)
from tools.acs_simulator.wav_audio import AudioFileError, read_wav, sample_rate_for

KEY = base64.b64encode(b"k" * 32).decode()
HOST = "127.0.0.1:8089"


def signed(method: str, target: str, body: bytes, key: str = KEY, when: datetime | None = None) -> RestRequest:
    date = format_datetime(when or datetime.now(UTC), usegmt=True)
    digest = hmac_auth.content_sha256(body)
    signature = hmac_auth.sign(key, method, target, date, HOST, digest)
    headers = {"host": HOST, "x-ms-date": date, "x-ms-content-sha256": digest,
               "authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"}
    path, _, query = target.partition("?")
    return RestRequest(method, target, path, dict(p.split("=", 1) for p in query.split("&") if p), headers, body)


# --- hmac_auth ---------------------------------------------------------------------------------
def test_signature_over_encoded_or_decoded_path_is_accepted() -> None:
    encoded = signed("GET", "/calling/callConnections/a%3Ab?api-version=1", b"")
    assert hmac_auth.verify(access_key_b64=KEY, method="GET", path_and_query=encoded.raw_target,
                            headers=encoded.headers, body=b"").ok
    decoded = signed("GET", "/calling/callConnections/a:b?api-version=1", b"")
    assert hmac_auth.verify(access_key_b64=KEY, method="GET", body=b"", headers=decoded.headers,
                            path_and_query="/calling/callConnections/a%3Ab?api-version=1").ok


@pytest.mark.parametrize("mutate, reason", [
    (lambda h: {**h, "authorization": "Bearer x"}, "HMAC-SHA256"),
    (lambda h: {k: v for k, v in h.items() if k != "authorization"}, "missing"),
    (lambda h: {**h, "host": "127.0.0.1:9999"}, "Signature mismatch"),
    (lambda h: {**h, "x-ms-date": "yesterday"}, "RFC 1123"),
])
def test_signature_rejections(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    request = signed("POST", "/emails:send?api-version=1", b"{}")
    verdict = hmac_auth.verify(access_key_b64=KEY, method="POST", path_and_query=request.raw_target,
                               headers=mutate(dict(request.headers)), body=b"{}")
    assert not verdict.ok and reason in verdict.reason


def test_wrong_method_or_key_fails() -> None:
    request = signed("POST", "/emails:send?api-version=1", b"{}")
    assert not hmac_auth.verify(access_key_b64=KEY, method="PUT", path_and_query=request.raw_target,
                                headers=request.headers, body=b"{}").ok
    other = base64.b64encode(b"z" * 32).decode()
    assert not hmac_auth.verify(access_key_b64=other, method="POST", path_and_query=request.raw_target,
                                headers=request.headers, body=b"{}").ok


# --- rest_api ----------------------------------------------------------------------------------
PLAY_FILE = json.dumps({"playSources": [{"kind": "file", "file": {"uri": "https://a/b.wav"}}]}).encode()


def api() -> RestApi:
    return RestApi(KEY, FaultPlan())


def test_routes() -> None:
    rest = api()
    assert rest.route("POST", "/calling/callConnections:answer") == ("answer", None)
    assert rest.route("POST", "/calling/callConnections/c1:terminate") == ("terminate", "c1")
    assert rest.route("DELETE", "/calling/callConnections/c1") == ("hang_up", "c1")
    assert rest.route("POST", "/calling/callConnections/c1/participants:mute") == ("mute", "c1")
    assert rest.route("GET", "/emails/operations/op1") == ("email_status", "op1")
    assert rest.route("PUT", "/calling/callConnections/c1") == ("unknown", "c1")


def test_bad_inputs_are_4xx_json_never_5xx() -> None:
    rest = api()
    cases = [
        signed("POST", "/calling/callConnections:answer?api-version=2026-03-12", b"not json"),
        signed("POST", "/calling/callConnections:answer?api-version=2026-03-12", b"[1,2]"),
        signed("POST", "/calling/callConnections:answer", b"{}"),
        signed("GET", "/nowhere?api-version=1", b""),
        signed("POST", "/calling/callConnections/nope:play?api-version=2026-03-12", PLAY_FILE),
        signed("POST", "/emails:send?api-version=1", json.dumps({"senderAddress": "x"}).encode()),
    ]
    statuses = [rest.handle(c).response.status for c in cases]
    assert statuses == [400, 400, 400, 404, 404, 400]
    for case in cases:
        assert "error" in json.loads(rest.handle(case).response.body)


def test_stale_date_is_denied() -> None:
    old = signed("GET", "/emails/operations/x?api-version=1", b"", when=datetime.now(UTC) - timedelta(minutes=20))
    outcome = api().handle(old)
    assert outcome.response.status == 401 and json.loads(outcome.response.body)["error"]["code"] == "7509"


def test_play_before_connected_is_rejected_for_managed_calls() -> None:
    rest = api()
    offered = rest.calls.offer("+14255550100", "+18005550199", managed=True)
    body = json.dumps({"incomingCallContext": offered.incoming_call_context, "callbackUri": "https://a/cb"}).encode()
    answered = rest.handle(signed("POST", "/calling/callConnections:answer?api-version=2026-03-12", body))
    call_id = json.loads(answered.response.body)["callConnectionId"]
    assert json.loads(answered.response.body)["callConnectionState"] == "connecting"
    play = f"/calling/callConnections/{call_id}:play?api-version=2026-03-12"
    assert rest.handle(signed("POST", play, PLAY_FILE)).response.status == 400
    rest.calls.connections[call_id].state = "connected"
    assert rest.handle(signed("POST", play, PLAY_FILE)).response.status == 202


def test_call_registry_answer_once() -> None:
    registry = CallRegistry()
    offered = registry.offer("+14255550100", "8:acs:user")
    first = registry.answer({"incomingCallContext": offered.incoming_call_context, "callbackUri": "https://a"})
    second = registry.answer({"incomingCallContext": offered.incoming_call_context, "callbackUri": "https://a"})
    assert isinstance(second, AcsError) and second.status == 400 and "already answered" in second.message
    assert not isinstance(first, AcsError)
    props = first.properties()
    assert props["source"]["communicationUser"]["id"] == registry.app_identity
    assert props["targets"][0] == {"kind": "phoneNumber", "rawId": "4:+14255550100",
                                   "phoneNumber": {"value": "+14255550100"}}
    assert "answeredFor" not in props  # an ACS user was called, not a number


# --- email -------------------------------------------------------------------------------------
def test_email_render_has_text_and_html_alternatives() -> None:
    parsed = parse_send_request({"senderAddress": "a@x.test", "recipients": {"to": [{"address": "b@x.test"}],
                                 "cc": [{"address": "c@x.test", "displayName": "C"}]},
                                 "content": {"subject": "Hi", "plainText": "plain", "html": "<p>html</p>"}}, "op-1")
    message = email.message_from_bytes(render_eml(parsed), policy=email.policy.default)  # type: ignore[arg-type]
    assert message["Cc"] == "C <c@x.test>" and message["X-ACS-Operation-Id"] == "op-1"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_email_recipient_limit() -> None:
    to = [{"address": f"u{i}@x.test"} for i in range(51)]
    outcome = parse_send_request({"senderAddress": "a@x.test", "recipients": {"to": to},
                                  "content": {"subject": "s", "plainText": "p"}}, "op")
    assert getattr(outcome, "status", None) == 400


# --- media messages ----------------------------------------------------------------------------
def test_inbound_messages_accept_both_casings_and_reject_garbage() -> None:
    pcm = b"\x01\x02" * 320
    pascal = json.dumps({"Kind": "AudioData", "AudioData": {"Data": base64.b64encode(pcm).decode()}})
    camel = json.dumps({"kind": "AudioData", "audioData": {"data": base64.b64encode(pcm).decode()}})
    assert mm.parse_inbound(pascal).pcm == pcm == mm.parse_inbound(camel).pcm
    assert mm.parse_inbound('{"Kind":"StopAudio","AudioData":null,"StopAudio":{}}').kind == "StopAudio"
    for bad in (b"\x00", "nope", "[]", '{"Kind":"AudioData","AudioData":{"Data":"***"}}'):
        assert mm.parse_inbound(bad).kind == "Invalid"


def test_transcription_offsets_are_100ns_ticks() -> None:
    data = json.loads(mm.transcription_data("hello there", 1.5, 2.0, "4:+1"))["transcriptionData"]
    assert (data["offset"], data["duration"], data["resultStatus"]) == (15_000_000, 20_000_000, "Final")
    assert [w["offset"] for w in data["words"]] == [15_000_000, 25_000_000]


def test_audio_data_shape() -> None:
    message = json.loads(mm.audio_data(b"\x00\x00", datetime(2026, 1, 1, tzinfo=UTC), "4:+1", True))
    assert message == {"kind": "AudioData", "audioData": {"timestamp": "2026-01-01T00:00:00.000Z",
                       "participantRawID": "4:+1", "data": "AAA=", "silent": True}}


# --- events ------------------------------------------------------------------------------------
def test_cloud_event_shape() -> None:
    event = ce.cloud_event("PlayCompleted", ce.CallIds("c1", "s1", "k1"), "ctx", ce.ACTION_OK)
    assert event["source"] == event["subject"] == "calling/callConnections/c1"
    assert event["type"] == "Microsoft.Communication.PlayCompleted" and event["specversion"] == "1.0"
    assert event["data"]["resultInformation"] == {"code": 200, "subCode": 0,
                                                  "message": "Action completed successfully."}
    assert event["data"]["operationContext"] == "ctx" and event["datacontenttype"] == "application/json"


def test_incoming_call_event_matches_docs_shape() -> None:
    offered = CallRegistry().offer("+14255550100", "+18005550199", "Alice")
    [event] = eg.incoming_call(offered)
    assert event["subject"] == "/caller/4:+14255550100/recipient/4:+18005550199"
    assert event["data"]["from"] == {"kind": "phoneNumber", "rawId": "4:+14255550100",
                                     "phoneNumber": {"value": "+14255550100"}}
    assert event["data"]["incomingCallContext"].count(".") == 2
    assert event["eventType"] == "Microsoft.Communication.IncomingCall"


def test_validation_answer_check() -> None:
    code, _ = eg.subscription_validation("http://x")
    assert eg.validation_succeeded(code, 200, json.dumps({"validationResponse": code}).encode())
    assert not eg.validation_succeeded(code, 202, json.dumps({"validationResponse": code}).encode())
    assert not eg.validation_succeeded(code, 200, b"{}") and not eg.validation_succeeded(code, 200, b"<")


def test_dtmf_recognizer_max_tones_and_stop_tone() -> None:
    pending = PendingRecognize.from_request({"recognizeOptions": {"dtmfOptions": {"maxTonesToCollect": 2,
                                             "stopTones": ["pound"]}}, "operationContext": "pin"})
    assert pending.feed("1") is None and pending.feed("2") == ce.MAX_DIGITS and pending.tones == ["1", "2"]
    stopping = PendingRecognize.from_request({"recognizeOptions": {"dtmfOptions": {"maxTonesToCollect": 4,
                                              "stopTones": ["pound"]}}})
    assert stopping.feed("3") is None and stopping.feed("#") == ce.STOP_TONE and stopping.tones == ["3"]


# --- audio and scenarios -----------------------------------------------------------------------
def test_bundled_wavs_cut_into_whole_frames() -> None:
    for rate, frame in ((16000, 640), (24000, 960)):
        audio = read_wav(AUDIO_DIR / f"caller_utterance_{rate // 1000}k.wav")
        assert audio.sample_rate == rate and audio.frame_bytes == frame
        frames = audio.frames()
        assert all(len(f) == frame for f in frames) and 4.5 < audio.duration_s < 6.0
        assert (AUDIO_DIR / f"caller_utterance_{rate // 1000}k.wav").stat().st_size < 250_000
    assert sample_rate_for("PCM24KMONO") == 24000 and sample_rate_for(None) == 16000


def test_non_pcm_wav_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_bytes(b"RIFF0000WAVE")
    with pytest.raises(AudioFileError):
        read_wav(tmp_path / "x.wav")


def test_every_bundled_scenario_loads() -> None:
    names = bundled_scenarios()
    assert {"happy_path", "missed_call", "caller_hangs_up_at_once", "max_duration", "email_429x3",
            "duplicate_incoming_call_x3", "callbacks_duplicated_reordered", "media_socket_dropped"} <= set(names)
    for name in names:
        scenario = load_scenario(name)
        for utterance in scenario.utterances:
            assert scenario.audio_path(utterance, 16000).exists()
    assert load_scenario("email_429x3").faults.email.times == 3  # type: ignore[union-attr]


@pytest.mark.parametrize("raw, field", [
    ({"callee": "+1"}, "caller"),
    ({"caller": "+1", "callee": "+2", "hangup": {"by": "caller"}}, "hangup.at_s"),
    ({"caller": "+1", "callee": "+2", "dtmf": [{"tone": "x"}]}, "dtmf[0]"),
    ({"caller": "+1", "callee": "+2", "faults": {"answer": {"status": 200}}}, "faults.answer"),
    ({"caller": "+1", "callee": "+2", "incoming_call_deliveries": 0}, "incoming_call_deliveries"),
    ({"caller": "+1", "callee": "+2", "max_wait_s": -1}, "max_wait_s"),
    ({"caller": "+1", "callee": "+2", "agent": {"answer": "maybe"}}, "agent.answer"),
    ({"caller": "+1", "callee": "+2", "agent": {"after_s": -1}}, "after_s"),
])
def test_invalid_scenarios_name_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ScenarioError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(raw)


def test_unknown_scenario_lists_bundled_ones() -> None:
    with pytest.raises(ScenarioError, match="happy_path"):
        load_scenario("no_such_scenario")


def test_phone_numbers_are_masked() -> None:
    assert mask_text("call from +14255550100 to +18005550199") == "call from +14*******00 to +18*******99"
