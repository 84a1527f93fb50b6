from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time

import aiohttp.web
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from media_host.config import load_media_host_config
from media_host.server import default_processor_factories, serve_media_host
from media_host.voice import CallOutput
from shared.blob_names import media_report_blob
from shared.media_codec import AudioData, AudioMetadata
from tests.media_host.conftest import audio_message, metadata_message
from tests.media_host.test_server import INSTANCE, http_get, ws_url


async def wait_until_idle(host) -> None:
    for _ in range(200):
        if not host.sessions:
            return
        await asyncio.sleep(0.05)


def test_echo_returns_each_frame_unchanged_in_the_outbound_format(media_config, read_blob) -> None:
    frames = [bytes([i]) * 640 for i in range(20)]

    async def scenario() -> list[dict]:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            async with connect(ws_url(host.port, query="?processor=echo"), compression=None) as ws:
                await ws.send(metadata_message(16000))
                received = []
                for i, frame in enumerate(frames):
                    await ws.send(audio_message(frame, f"2024-05-27T10:00:00.{i * 20:03d}Z"))
                    received.append(json.loads(await asyncio.wait_for(ws.recv(), 2)))
                    await asyncio.sleep(0.02)
            await wait_until_idle(host)
            return received

    received = asyncio.run(scenario())
    assert [base64.b64decode(m["AudioData"]["Data"]) for m in received] == frames
    assert all(m["Kind"] == "AudioData" and m["StopAudio"] is None for m in received)
    report = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert report["framesSent"] == 20 and report["voiceProcessor"] == "echo"


def test_transcribe_sends_no_audio(media_config) -> None:
    async def scenario() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            async with connect(ws_url(host.port), compression=None) as ws:
                await ws.send(metadata_message(16000))
                for i in range(5):
                    await ws.send(audio_message(bytes(640), f"2024-05-27T10:00:00.{i * 20:03d}Z"))
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.3)

    asyncio.run(scenario())


class BurstProcessor:
    """Answers the first frame with one second of audio at once, like a speech model would."""

    name = "burst"
    needs_pcm = True

    def __init__(self) -> None:
        self.output: CallOutput | None = None
        self.sample_rate = 16000

    async def start(self, output: CallOutput) -> None:
        self.output = output

    def on_metadata(self, metadata: AudioMetadata) -> None:
        self.sample_rate = metadata.sample_rate

    def on_audio(self, frame: AudioData) -> None:
        assert self.output is not None and len(frame.pcm) == self.sample_rate // 50 * 2
        if self.sample_rate:
            self.output.send_audio_pcm(bytes(self.sample_rate // 50 * 2 * 50))
            self.sample_rate = 0

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("sample_rate", [16000, 24000])
def test_outbound_audio_is_cut_into_frames_and_paced_in_real_time(media_config, sample_rate: int) -> None:
    factories = dict(default_processor_factories(), burst=lambda config: BurstProcessor())

    async def scenario() -> list[tuple[float, int]]:
        async with serve_media_host(media_config, host="127.0.0.1", port=0, processor_factories=factories) as host:
            async with connect(ws_url(host.port, query="?processor=burst"), compression=None) as ws:
                await ws.send(metadata_message(sample_rate))
                await ws.send(audio_message(bytes(sample_rate // 50 * 2), "2024-05-27T10:00:00.000Z"))
                arrivals = []
                start = time.monotonic()
                while len(arrivals) < 50:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 3))
                    arrivals.append((time.monotonic() - start, len(base64.b64decode(message["AudioData"]["Data"]))))
                return arrivals

    arrivals = asyncio.run(scenario())
    assert {size for _, size in arrivals} == {sample_rate // 50 * 2}
    assert arrivals[-1][0] >= 0.85  # one second of audio takes about a second to leave, minus the lead
    assert sum(1 for at, _ in arrivals if at < 0.2) <= 14  # never flooded: ~10 slots + 3 lead frames


def test_connections_over_the_limit_are_refused_with_503(media_env) -> None:
    config = load_media_host_config(dict(media_env, MEDIA_MAX_CONNECTIONS="1"))

    async def scenario() -> None:
        async with serve_media_host(config, host="127.0.0.1", port=0) as host:
            async with connect(ws_url(host.port), compression=None):
                # The health probe tells the function app's answer policy there is no room.
                assert await asyncio.to_thread(http_get, host.port, "/healthz") == \
                    (200, {"status": "ok", "calls": 1, "limit": 1, "sockets": 1, "socketLimit": 1})
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(ws_url(host.port, instance_id="call-other")):
                        pass
                assert refused.value.response.status_code == 503
            await wait_until_idle(host)
            async with connect(ws_url(host.port), compression=None):  # room again once the first one left
                pass

    asyncio.run(scenario())


def test_an_oversized_message_closes_with_1009(media_env) -> None:
    config = load_media_host_config(dict(media_env, MEDIA_MAX_MESSAGE_BYTES="8192"))

    async def scenario() -> int | None:
        async with serve_media_host(config, host="127.0.0.1", port=0) as host:
            async with connect(ws_url(host.port), compression=None) as ws:
                await ws.send("x" * 10_000)
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 3)
                return ws.close_code

    assert asyncio.run(scenario()) == 1009


def test_an_idle_socket_is_closed(media_env) -> None:
    config = load_media_host_config(dict(media_env, MEDIA_IDLE_TIMEOUT_SECONDS="1"))

    async def scenario() -> int | None:
        async with serve_media_host(config, host="127.0.0.1", port=0) as host:
            async with connect(ws_url(host.port), compression=None) as ws:
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
                return ws.close_code

    assert asyncio.run(scenario()) == 1001


def test_the_function_app_is_told_when_the_socket_closes(media_env) -> None:
    async def scenario() -> list[tuple[str, dict, dict]]:
        seen: list[tuple[str, dict, dict]] = []
        attempts = {"n": 0}

        async def ended(request: aiohttp.web.Request) -> aiohttp.web.Response:
            attempts["n"] += 1
            if attempts["n"] == 1:  # the first attempt fails: the notifier retries
                return aiohttp.web.Response(status=503)
            seen.append((request.match_info["instance"], dict(request.query), await request.json()))
            return aiohttp.web.Response(status=202)

        app = aiohttp.web.Application()
        app.router.add_post("/api/media/{instance}/ended", ended)
        runner = aiohttp.web.AppRunner(app)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        config = load_media_host_config(dict(media_env, CALLBACK_BASE_URL=f"http://127.0.0.1:{port}"))
        try:
            async with serve_media_host(config, host="127.0.0.1", port=0) as host:
                async with connect(ws_url(host.port), compression=None) as ws:
                    await ws.send(metadata_message(16000))
                await wait_until_idle(host)
        finally:
            await runner.cleanup()
        return seen

    seen = asyncio.run(scenario())
    assert len(seen) == 1
    instance, query, body = seen[0]
    assert instance == INSTANCE and query["token"] == ws_url(0).rsplit("/", 1)[1]
    assert body["instanceId"] == INSTANCE and body["sampleRate"] == 16000 and body["closeCode"] == 1000


def test_a_misbehaving_peer_does_not_disturb_another_call(media_config) -> None:
    """Call A floods garbage and then stops reading its echo; call B keeps real-time turnaround."""

    async def scenario() -> tuple[int | None, list[float]]:
        async with serve_media_host(media_config, host="127.0.0.1", port=0) as host:
            bad = await connect(ws_url(host.port, instance_id="call-bad", query="?processor=echo"),
                                compression=None, max_queue=1)
            good = await connect(ws_url(host.port, query="?processor=echo"), compression=None)
            await good.send(metadata_message(16000))
            for _ in range(60):
                await bad.send("{not json")
            bad_code = None
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait_for(bad.recv(), 3)
            bad_code = bad.close_code
            # A second bad peer that never reads its echo: its socket buffers fill, only its own loop waits.
            stalled = await connect(ws_url(host.port, instance_id="call-stalled", query="?processor=echo"),
                                    compression=None, max_queue=1)
            frame = audio_message(bytes(640), "2024-05-27T10:00:00.000Z")

            async def flood() -> None:
                with contextlib.suppress(ConnectionClosed):
                    for _ in range(3000):
                        await stalled.send(frame)

            flooding = asyncio.get_running_loop().create_task(flood())
            turnarounds = []
            for i in range(25):
                started = time.monotonic()
                await good.send(audio_message(bytes([i]) * 640, f"2024-05-27T10:00:00.{i * 20:03d}Z"))
                await asyncio.wait_for(good.recv(), 2)
                turnarounds.append(time.monotonic() - started)
                await asyncio.sleep(0.02)
            flooding.cancel()
            await good.close()
            stalled.transport.abort()  # it never reads, so it would never finish a closing handshake
            return bad_code, turnarounds

    bad_code, turnarounds = asyncio.run(scenario())
    assert bad_code == 1007
    assert sorted(turnarounds)[len(turnarounds) // 2] < 0.1


class CrashingProcessor(BurstProcessor):
    name = "crash"

    def on_audio(self, frame: AudioData) -> None:
        raise RuntimeError("bug in a processor")


def test_a_processor_bug_closes_only_its_own_socket_with_1011(media_config, read_blob) -> None:
    factories = dict(default_processor_factories(), crash=lambda config: CrashingProcessor())

    async def scenario() -> tuple[int | None, dict]:
        async with serve_media_host(media_config, host="127.0.0.1", port=0, processor_factories=factories) as host:
            good = await connect(ws_url(host.port, query="?processor=echo"), compression=None)
            async with connect(ws_url(host.port, instance_id="call-crash", query="?processor=crash"),
                               compression=None) as bad:
                await bad.send(metadata_message(16000))
                await bad.send(audio_message(bytes(640), "2024-05-27T10:00:00.000Z"))
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(bad.recv(), 3)
            await good.send(audio_message(bytes([9]) * 640, "2024-05-27T10:00:00.000Z"))
            echoed = json.loads(await asyncio.wait_for(good.recv(), 2))
            await good.close()
            await wait_until_idle(host)
            return bad.close_code, echoed

    code, echoed = asyncio.run(scenario())
    assert code == 1011
    assert base64.b64decode(echoed["AudioData"]["Data"]) == bytes([9]) * 640
    report = json.loads(read_blob(media_report_blob("call-crash")))
    assert report["closeCode"] == 1011 and report["framesReceived"] == 1
