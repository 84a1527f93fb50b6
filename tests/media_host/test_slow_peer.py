"""Outbound frames to a peer that stops reading: dropped and counted, never piled up; StopAudio still arrives."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from media_host.server import default_processor_factories, serve_media_host
from media_host.voice import CallOutput
from shared.blob_names import media_report_blob
from shared.media_codec import AudioData, AudioMetadata
from tests.media_host.conftest import audio_message, metadata_message
from tests.media_host.test_processors_and_limits import wait_until_idle
from tests.media_host.test_server import INSTANCE, ws_url

FRAMES = 200
BIG_FRAME_B64 = "A" * 48_000  # far more than a real frame, so that the kernel's socket buffers fill quickly


class FloodProcessor:
    """Answers each caller frame with a large frame, then barges in (StopAudio) on the last one."""

    name = "flood"
    needs_pcm = False

    def __init__(self) -> None:
        self.output: CallOutput | None = None
        self.seen = 0

    async def start(self, output: CallOutput) -> None:
        self.output = output

    def on_metadata(self, metadata: AudioMetadata) -> None:
        return None

    def on_audio(self, frame: AudioData) -> None:
        assert self.output is not None
        self.seen += 1
        if self.seen < FRAMES:
            self.output.forward_audio_b64(BIG_FRAME_B64)
        else:
            self.output.stop_audio()

    async def close(self) -> None:
        return None


def test_a_peer_that_does_not_read_gets_frames_dropped_and_still_gets_stop_audio(media_config, read_blob) -> None:
    factories = dict(default_processor_factories(), flood=lambda config: FloodProcessor())

    async def scenario() -> list[dict]:
        async with serve_media_host(media_config, host="127.0.0.1", port=0, processor_factories=factories) as host:
            async with connect(ws_url(host.port, query="?processor=flood"), compression=None,
                               max_size=2**20, max_queue=None) as ws:
                ws.transport.pause_reading()  # the peer stops reading: our writes back up
                await ws.send(metadata_message(16000))
                for i in range(FRAMES):
                    await ws.send(audio_message(bytes(640), f"2024-05-27T10:00:{i // 50:02d}.{i % 50 * 20:03d}Z"))
                for _ in range(200):
                    if any(session.stats.frames_received == FRAMES for session in host.sessions):
                        break
                    await asyncio.sleep(0.02)
                ws.transport.resume_reading()
                received = []
                while not received or received[-1]["Kind"] != "StopAudio":
                    received.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            await wait_until_idle(host)
            return received

    received = asyncio.run(scenario())
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    audio = [m for m in received if m["Kind"] == "AudioData"]
    assert report["framesDropped"] > 0  # the socket did not buffer everything
    assert report["framesSent"] + report["framesDropped"] == FRAMES - 1
    assert len(audio) == report["framesSent"]
    assert received[-1]["Kind"] == "StopAudio" and len(received) == len(audio) + 1
