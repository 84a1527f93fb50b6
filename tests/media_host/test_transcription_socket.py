"""ACS's transcription socket: a second socket of the same call, merged into the one transcript."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from media_host.server import serve_media_host
from shared.blob_names import media_report_blob, transcript_blob
from tests.media_host.conftest import audio_message, metadata_message, transcription_message
from tests.media_host.test_server import INSTANCE, ws_url

TRANSCRIPTION_METADATA = json.dumps({"kind": "TranscriptionMetadata", "transcriptionMetadata": {
    "subscriptionId": "sub-t", "locale": "en-US", "callConnectionId": "conn-9", "correlationId": "corr-9"}})


async def _wait_idle(host) -> None:
    for _ in range(200):
        if not host.sessions:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("sessions did not finish")


def test_segments_from_both_sockets_land_in_one_transcript(media_config, read_blob) -> None:
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            media = await connect(ws_url(host.port), compression=None)
            transcription = await connect(ws_url(host.port, query="/transcription"), compression=None)
            await media.send(metadata_message(16000))
            await media.send(audio_message(bytes(640), "2024-05-27T10:00:00.000Z"))
            await transcription.send(TRANSCRIPTION_METADATA)
            await transcription.send(transcription_message("Hello from ACS.", 10_000_000, 20_000_000))
            await transcription.send(transcription_message("not final", 30_000_000, 1_000_000, "Intermediate"))
            await media.send(transcription_message("On the media socket.", 50_000_000, 10_000_000))
            await asyncio.sleep(0.2)
            # The media socket closes first, as at the end of a call; its report waits for the other socket.
            await media.close()
            await asyncio.sleep(0.3)
            assert read_blob(media_report_blob(INSTANCE)) is None
            await transcription.send(transcription_message("Last words.", 70_000_000, 10_000_000))
            await transcription.close()
            await _wait_idle(host)

    asyncio.run(scenario())
    texts = [json.loads(line)["text"] for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert sorted(texts) == ["Hello from ACS.", "Last words.", "On the media socket."]
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert report["transcription"] == {"segments": 2, "closeCode": 1000, "malformedMessages": 0,
                                       "socketOpenAtReport": False}
    assert report["framesReceived"] == 1 and report["transcriptSegments"] == 1


def test_a_transcription_socket_that_stays_open_does_not_hold_the_report_forever(media_config, read_blob,
                                                                                monkeypatch) -> None:
    monkeypatch.setattr("media_host.call_session.TRANSCRIPTION_CLOSE_WAIT_SECONDS", 0.3)

    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            media = await connect(ws_url(host.port), compression=None)
            transcription = await connect(ws_url(host.port, query="/transcription"), compression=None)
            await transcription.send(transcription_message("Early.", 10_000_000, 10_000_000))
            await asyncio.sleep(0.1)
            await media.close()
            for _ in range(100):
                if read_blob(media_report_blob(INSTANCE)) is not None:
                    break
                await asyncio.sleep(0.05)
            report = json.loads(read_blob(media_report_blob(INSTANCE)))
            assert report["transcription"] == {"socketOpenAtReport": True}
            # Still open: later segments still reach the same blob, appended after the others.
            await transcription.send(transcription_message("Late.", 20_000_000, 10_000_000))
            await transcription.close()
            await _wait_idle(host)

    asyncio.run(scenario())
    texts = [json.loads(line)["text"] for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert texts == ["Early.", "Late."]



def test_a_broken_media_socket_reports_at_once_and_the_transcription_figures_follow(media_config,
                                                                                   read_blob) -> None:
    # The media socket is cut mid-call (no close frame): its report goes out at once, since it is what
    # restarts the stream; ACS's transcription goes on on its own socket, into the same transcript, and its
    # figures join the report's media.json entry when it closes.
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            media = await connect(ws_url(host.port), compression=None)
            transcription = await connect(ws_url(host.port, query="/transcription"), compression=None)
            await media.send(metadata_message(16000))
            await transcription.send(transcription_message("Before the cut.", 10_000_000, 10_000_000))
            await asyncio.sleep(0.1)
            media.transport.abort()
            for _ in range(40):  # well within TRANSCRIPTION_CLOSE_WAIT_SECONDS: no waiting on the other socket
                if read_blob(media_report_blob(INSTANCE)) is not None:
                    break
                await asyncio.sleep(0.05)
            early = json.loads(read_blob(media_report_blob(INSTANCE)))
            assert early["closeCode"] == 1006 and early["transcription"] == {"socketOpenAtReport": True}
            assert early["socketId"]
            await transcription.send(transcription_message("After the cut.", 90_000_000, 10_000_000))
            await transcription.close()
            await _wait_idle(host)

    asyncio.run(scenario())
    texts = [json.loads(line)["text"] for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert texts == ["Before the cut.", "After the cut."]
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert report["closeCode"] == 1006
    assert report["transcription"] == {"segments": 2, "closeCode": 1000, "malformedMessages": 0,
                                       "socketOpenAtReport": False, "reportedAfter": True}


def test_the_transcription_figures_never_overwrite_a_later_sockets_report(media_config, read_blob) -> None:
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            media = await connect(ws_url(host.port), compression=None)
            transcription = await connect(ws_url(host.port, query="/transcription"), compression=None)
            await media.send(metadata_message(16000))
            await asyncio.sleep(0.1)
            media.transport.abort()
            await asyncio.sleep(0.3)
            restarted = await connect(ws_url(host.port), compression=None)  # the restart's new media socket
            await restarted.send(metadata_message(16000))
            await asyncio.sleep(0.1)
            await restarted.close()
            for _ in range(120):
                report = read_blob(media_report_blob(INSTANCE))
                if report is not None and json.loads(report)["closeCode"] == 1000:
                    break
                await asyncio.sleep(0.05)
            await transcription.close()
            await _wait_idle(host)

    asyncio.run(scenario())
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert report["closeCode"] == 1000 and len(report["sockets"]) == 2
    assert report["transcription"].get("reportedAfter") is None
