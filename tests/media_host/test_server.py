from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from media_host.server import serve_media_host
from shared.blob_names import media_report_blob, transcript_blob
from shared.call_token import call_token
from tests.conftest import TEST_CALL_TOKEN_SECRET
from tests.media_host.conftest import audio_message, metadata_message, transcription_message

INSTANCE = "call-0123456789abcdef0123456789abcdef"


def ws_url(port: int, instance_id: str = INSTANCE, token: str | None = None, query: str = "") -> str:
    token = token if token is not None else call_token(TEST_CALL_TOKEN_SECRET, instance_id)
    return f"ws://127.0.0.1:{port}/ws/{instance_id}/{token}{query}"


def http_get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_call_writes_its_transcript_and_media_report(media_config, read_blob) -> None:
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            headers = {"x-ms-call-connection-id": "conn-1", "x-ms-call-correlation-id": "corr-1"}
            async with connect(ws_url(host.port), additional_headers=headers, compression=None) as ws:
                await ws.send(metadata_message(16000))
                frame = bytes(640)
                await ws.send(audio_message(frame, "2024-05-27T10:00:00.000Z"))
                await ws.send(audio_message(frame, "2024-05-27T10:00:00.020Z", silent=True))
                await ws.send(audio_message(frame, "2024-05-27T10:00:00.120Z"))  # a 100 ms gap
                await ws.send(transcription_message("partial", 10_000_000, 5_000_000, status="Intermediate"))
                await ws.send(transcription_message("Hello, I need help.", 12_340_000, 25_000_000))
                await ws.send(json.dumps({"kind": "DtmfData", "dtmfData": {"data": "5"}}))
                await ws.send(transcription_message("My order is late.", 40_000_000, 10_000_000))
                await ws.send("this is not json")
                await ws.close()
            for _ in range(100):  # the end-of-call writes happen after the close handshake
                if not host.sessions:
                    break
                await asyncio.sleep(0.05)

    asyncio.run(scenario())
    lines = [json.loads(line) for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    # The speaker is labelled (shared/speaker_labels.py): the participantRawID, a phone number, is never written.
    assert lines == [
        {"speaker": "caller", "text": "Hello, I need help.", "offsetMs": 1234, "durationMs": 2500,
         "confidence": 0.8, "source": "acs"},
        {"speaker": "caller", "text": "My order is late.", "offsetMs": 4000, "durationMs": 1000,
         "confidence": 0.8, "source": "acs"},
    ]
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert report["instanceId"] == INSTANCE
    assert (report["callConnectionId"], report["correlationId"]) == ("conn-1", "corr-1")
    assert report["sampleRate"] == 16000
    assert (report["framesReceived"], report["framesSilent"], report["bytesReceived"]) == (3, 1, 1920)
    assert (report["gaps"], report["maxGapMs"]) == (1, 100.0)
    assert report["dtmfTones"] == ["5"] and report["transcriptSegments"] == 2
    (press,) = report["dtmfEvents"]
    assert press["tone"] == "5" and report["startedAt"] <= press["at"] <= report["endedAt"]
    assert report["audioStreams"] == 1
    assert report["framesSent"] == 0 and report["malformedMessages"] == 1
    assert report["closeCode"] == 1000
    assert report["startedAt"] <= report["endedAt"]


def test_a_reconnecting_socket_appends_to_the_same_transcript(media_config, read_blob) -> None:
    async def one_call(port: int, text: str) -> None:
        async with connect(ws_url(port), compression=None) as ws:
            await ws.send(transcription_message(text, 0, 1))

    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            for text in ("first", "second"):
                await one_call(host.port, text)
                for _ in range(100):  # the first socket's session has flushed before the reconnect
                    if not host.sessions:
                        break
                    await asyncio.sleep(0.05)

    asyncio.run(scenario())
    texts = [json.loads(line)["text"] for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert texts == ["first", "second"]


@pytest.mark.parametrize(
    ("path_for", "status"),
    [
        (lambda port: ws_url(port, token="A" * 43), 401),
        (lambda port: ws_url(port, token="short"), 401),
        (lambda port: ws_url(port, instance_id="@bad", token=call_token(TEST_CALL_TOKEN_SECRET, "@bad")), 401),
        (lambda port: f"ws://127.0.0.1:{port}/elsewhere", 404),
        (lambda port: f"ws://127.0.0.1:{port}/ws/{INSTANCE}", 404),
        (lambda port: ws_url(port, query="?processor=nonsense"), 400),
    ],
)
def test_bad_requests_are_refused_before_the_upgrade(media_config, read_blob, path_for, status) -> None:
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(path_for(host.port)):
                    pass
            assert refused.value.response.status_code == status
            assert json.loads(refused.value.response.body)["error"]
            assert not host.sessions

    asyncio.run(scenario())
    assert read_blob(media_report_blob(INSTANCE)) is None


def test_probes_answer_over_plain_http(media_config) -> None:
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            # The limit is in calls: half the 1000 sockets, each call may hold media and transcription.
            assert await asyncio.to_thread(http_get, host.port, "/healthz") == (200, {
                "status": "ok", "calls": 0, "limit": 500, "sockets": 0, "socketLimit": 1000})
            assert await asyncio.to_thread(http_get, host.port, "/readyz") == (200, {"ready": True, "calls": 0})
            host.accepting = False
            assert (await asyncio.to_thread(http_get, host.port, "/readyz"))[0] == 503

    asyncio.run(scenario())
