"""The simulator refuses what ACS refuses, driven by the real SDK clients (HMAC and Entra bearer over TLS)."""

from __future__ import annotations

import base64
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.communication.callautomation import (
    CallAutomationClient,
    CommunicationUserIdentifier,
    FileSource,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    StreamingTransportType,
    TextSource,
    TranscriptionOptions,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator import request_schema as rs
from tools.acs_simulator.entra_tokens import EntraTokenIssuer
from tools.acs_simulator.local_tls import create_local_tls
from tools.acs_simulator.request_rules import CALL_AUTOMATION_API_VERSIONS
from tools.acs_simulator.token_credential import TestTokenCredential

KEY = base64.b64encode(os.urandom(32)).decode()
CALLER, CALLEE = "+14255550100", "+18005550199"
AI = "https://speech.example.test/"


@pytest.fixture
def acs() -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(KEY) as server:
        yield server


def client(server: AcsSimulatorServer, **kwargs: object) -> CallAutomationClient:
    return CallAutomationClient(server.endpoint, AzureKeyCredential(KEY), **kwargs)


def answer(server: AcsSimulatorServer, **kwargs: object) -> str:
    offered = server.offer_call(CALLER, CALLEE)
    return client(server).answer_call(offered.incoming_call_context, "http://127.0.0.1:9/cb",
                                      **kwargs).call_connection_id


def error_of(exc: HttpResponseError) -> dict[str, str]:
    assert exc.response is not None
    return json.loads(exc.response.text())["error"]


def test_rules_come_from_the_generated_models() -> None:
    assert rs.enum_values("WebSocketMediaStreamingOptions")["audio_format"] == ("pcm16KMono", "pcm24KMono")
    assert rs.validate("answer", {}) == ["$.incomingCallContext: required by AnswerCallRequest",
                                         "$.callbackUri: required by AnswerCallRequest"]
    media = {"transportType": "tcp", "audioChannelType": "mixed"}
    assert "must be one of ['websocket']" in rs.validate("answer", {"incomingCallContext": "c", "callbackUri": "u",
                                                                    "mediaStreamingOptions": media})[0]
    problems = rs.validate("recognize", {"recognizeInputType": "keys", "recognizeOptions": {}, "extra": 1})
    assert any("'keys' is not one of" in p for p in problems) and any("extra: not a property" in p for p in problems)
    assert rs.validate("play", {"playSources": "x"}) == ["$.playSources: expected an array, got str"]


def test_answer_without_required_fields_or_with_bad_enum_is_a_400(acs: AcsSimulatorServer) -> None:
    offered = acs.offer_call(CALLER, CALLEE)
    media = MediaStreamingOptions(transport_url="wss://media.example.test/ws",
                                  transport_type=StreamingTransportType.WEBSOCKET,
                                  content_type=MediaStreamingContentType.AUDIO, audio_channel_type="stereo")
    with pytest.raises(HttpResponseError) as caught:
        client(acs).answer_call(offered.incoming_call_context, "https://app.example.test/cb", media_streaming=media)
    assert caught.value.status_code == 400 and "audioChannelType" in error_of(caught.value)["message"]


@pytest.mark.parametrize("version", ["2022-04-07-preview", "1", "2026-03-13"])
def test_unknown_api_version_is_refused(acs: AcsSimulatorServer, version: str) -> None:
    offered = acs.offer_call(CALLER, CALLEE)
    with pytest.raises(HttpResponseError) as caught:
        client(acs, api_version=version).answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    assert caught.value.status_code == 400 and error_of(caught.value)["code"] == "UnsupportedApiVersion"
    assert "2026-03-12" in CALL_AUTOMATION_API_VERSIONS


@pytest.mark.parametrize("callback, transport", [("http://app.example.test/cb", "wss://m.example.test/ws"),
                                                 ("https://app.example.test/cb", "ws://m.example.test/ws")])
def test_plain_http_or_ws_is_refused_off_loopback(acs: AcsSimulatorServer, callback: str, transport: str) -> None:
    offered = acs.offer_call(CALLER, CALLEE)
    media = MediaStreamingOptions(transport_url=transport, transport_type=StreamingTransportType.WEBSOCKET,
                                  content_type=MediaStreamingContentType.AUDIO,
                                  audio_channel_type=MediaStreamingAudioChannelType.MIXED)
    with pytest.raises(HttpResponseError) as caught:
        client(acs).answer_call(offered.incoming_call_context, callback, media_streaming=media)
    assert caught.value.status_code == 400 and "must be a" in error_of(caught.value)["message"]


def test_text_prompts_and_transcription_need_cognitive_services(acs: AcsSimulatorServer) -> None:
    connection = client(acs).get_call_connection(answer(acs))
    connection.play_media(FileSource(url="https://cdn.example.test/a.wav"))  # a file needs no AI resource
    with pytest.raises(HttpResponseError) as caught:
        connection.play_media(TextSource(text="Hello", voice_name="en-US-JennyNeural"))
    assert caught.value.status_code == 405 and error_of(caught.value)["code"] == "8522"
    with pytest.raises(HttpResponseError) as caught:
        connection.start_transcription(locale="en-US")
    assert caught.value.status_code == 405 and "Cognitive Service" in error_of(caught.value)["message"]
    with_ai = client(acs).get_call_connection(answer(acs, cognitive_services_endpoint=AI))
    with_ai.play_media(TextSource(text="Hello", voice_name="en-US-JennyNeural"))
    with pytest.raises(HttpResponseError) as caught:
        with_ai.start_transcription(locale="en-US")  # no transcription URL at setup
    assert caught.value.status_code == 405 and "Transcription url" in error_of(caught.value)["message"]
    transcription = TranscriptionOptions(locale="en-US", transport_url="ws://127.0.0.1:9/ws/t",
                                         transport_type=StreamingTransportType.WEBSOCKET, start_transcription=False)
    ready = client(acs).get_call_connection(answer(acs, cognitive_services_endpoint=AI, transcription=transcription))
    ready.start_transcription(locale="en-US")
    props = ready.get_call_properties()
    assert props.source.raw_id == acs.app_identity and [t.raw_id for t in props.targets] == [f"4:{CALLER}"]


def test_mute_is_for_acs_users_only(acs: AcsSimulatorServer) -> None:
    connection = client(acs).get_call_connection(answer(acs))
    with pytest.raises(HttpResponseError) as caught:
        connection.mute_participant(PhoneNumberIdentifier(CALLER))
    assert caught.value.status_code == 400 and "only ACS users" in error_of(caught.value)["message"]
    connection.mute_participant(CommunicationUserIdentifier("8:acs:resource_user"))
    assert acs.call(connection._call_connection_id).muted == {"8:acs:resource_user"}  # type: ignore[union-attr]


def test_bearer_token_over_tls_beside_hmac(tmp_path: Path) -> None:
    tls = create_local_tls(tmp_path / "tls")
    with EntraTokenIssuer() as issuer, AcsSimulatorServer(KEY, tls=tls, bearer_verifier=issuer.verify) as acs:
        assert acs.endpoint.startswith("https://")
        credential = TestTokenCredential(issuer)
        token_client = CallAutomationClient(acs.endpoint, credential, connection_verify=str(tls.ca_path))
        offered = acs.offer_call(CALLER, CALLEE)
        props = token_client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")
        assert props.call_connection_state == "connected"
        [request] = acs.requests_for("answer")
        assert request.headers["authorization"].startswith("Bearer ") and request.status == 200
        assert credential.scopes_requested[0] == ("https://communication.azure.com//.default",)
        hmac_client = CallAutomationClient(acs.endpoint, AzureKeyCredential(KEY), connection_verify=str(tls.ca_path))
        assert hmac_client.get_call_connection(props.call_connection_id).get_call_properties()
        forged, _ = EntraTokenIssuer().token()  # another issuer's key
        request_obj = urllib.request.Request(f"{acs.endpoint}/calling/callConnections/x?api-version=2026-03-12",
                                             headers={"Authorization": f"Bearer {forged}"})
        import ssl
        context = ssl.create_default_context(cafile=str(tls.ca_path))
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request_obj, context=context)
        assert caught.value.code == 401
        wrong_audience, _ = issuer.token(audience="https://storage.azure.com/")
        assert issuer.verify(wrong_audience) is not None
        with pytest.raises(ClientAuthenticationError):
            credential.get_token("https://storage.azure.com/.default")
        untrusted = CallAutomationClient(acs.endpoint, credential, retry_total=0)
        with pytest.raises(Exception, match="(?i)certificate"):
            untrusted.get_call_connection(props.call_connection_id).get_call_properties()


def test_managed_identity_endpoint_serves_default_azure_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ManagedIdentityCredential

    with EntraTokenIssuer() as issuer:
        for name, value in issuer.identity_env().items():
            monkeypatch.setenv(name, value)
        token = ManagedIdentityCredential().get_token("https://communication.azure.com//.default")
        assert issuer.verify(token.token) is None and issuer.requests == ["https://communication.azure.com/"]
