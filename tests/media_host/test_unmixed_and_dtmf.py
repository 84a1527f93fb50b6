"""Unmixed audio (one stream per participant) and DtmfData on the media socket, through the real media host."""

from __future__ import annotations

import asyncio
import base64
import json

from websockets.asyncio.client import connect

from media_host.server import default_processor_factories, serve_media_host
from media_host.voice import CallOutput
from shared.blob_names import media_report_blob, transcript_blob
from shared.media_codec import AudioData, AudioMetadata, DtmfData
from tests.media_host.conftest import metadata_message
from tests.media_host.test_server import INSTANCE, ws_url

CALLER, AGENT = "4:+14255550100", "4:+14255550177"


class KeyListener:
    """A processor that keeps what it is given: the participants of its frames and the key presses."""

    name = "keys"
    needs_pcm = False

    def __init__(self) -> None:
        self.participants: list[str | None] = []
        self.tones: list[str] = []

    async def start(self, output: CallOutput) -> None:
        return None

    def on_metadata(self, metadata: AudioMetadata) -> None:
        return None

    def on_audio(self, frame: AudioData) -> None:
        self.participants.append(frame.participant_raw_id)

    def on_dtmf(self, dtmf: DtmfData) -> None:
        self.tones.append(dtmf.data)

    async def close(self) -> None:
        return None


def _frame(participant: str, index: int, silent: bool, pascal: bool = False) -> str:
    body = {"timestamp": f"2026-12-04T10:00:{index * 0.02:06.3f}Z", "participantRawID": participant,
            "data": base64.b64encode(bytes(640)).decode(), "silent": silent}
    if pascal:  # both casings are read (shared/media_codec.py)
        return json.dumps({"Kind": "AudioData", "AudioData": {key[0].upper() + key[1:]: v for key, v in body.items()}})
    return json.dumps({"kind": "AudioData", "audioData": body})


def _said(text: str, participant: str, offset_ticks: int) -> str:
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": {
        "text": text, "format": "display", "confidence": 0.9, "offset": offset_ticks, "duration": 10_000_000,
        "words": [], "participantRawID": participant, "resultStatus": "Final"}})


def test_unmixed_streams_are_labelled_per_speaker_and_dtmf_reaches_the_processor(media_config, read_blob) -> None:
    listener = KeyListener()
    factories = dict(default_processor_factories(), keys=lambda config: listener)

    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0, processor_factories=factories) as host:
            async with connect(ws_url(host.port, query="?processor=keys"), compression=None) as ws:
                await ws.send(metadata_message(16000))
                for index in range(3):  # the caller alone first, then the added participant too
                    await ws.send(_frame(CALLER, index, silent=False))
                for index in range(3, 6):
                    await ws.send(_frame(CALLER, index, silent=True, pascal=True))
                    await ws.send(_frame(AGENT, index, silent=False))
                await ws.send(json.dumps({"Kind": "DtmfData", "DtmfData": {"Data": "#"}}))
                await ws.send(json.dumps({"kind": "DtmfData", "dtmfData": {"data": "7"}}))
                await ws.send(_said("I need a refund.", CALLER, 0))
                await ws.send(_said("Let me check that for you.", AGENT, 20_000_000))
                await ws.close()
            for _ in range(100):
                if not host.sessions:
                    break
                await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert listener.participants == [CALLER] * 6  # the processor follows the caller's stream
    assert listener.tones == ["#", "7"]
    transcript = read_blob(transcript_blob(INSTANCE)).decode()
    lines = [json.loads(line) for line in transcript.splitlines()]
    assert [(line["speaker"], line["text"]) for line in lines] == [
        ("caller", "I need a refund."), ("participant 2", "Let me check that for you.")]
    assert "+1425" not in transcript
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert report["framesReceived"] == 9 and report["audioStreams"] == 2
    assert report["gaps"] == 0  # each participant's stream is continuous, though they interleave
    assert [event["tone"] for event in report["dtmfEvents"]] == ["#", "7"]
