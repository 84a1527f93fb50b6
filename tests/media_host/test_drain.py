"""`python -m media_host` as a real process: SIGTERM drains, logs are JSON without phone numbers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from shared.blob_names import media_report_blob, transcript_blob
from tests.media_host.conftest import transcription_message
from tests.media_host.test_server import INSTANCE, http_get, ws_url
from tools.azurite import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def media_process(media_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {**os.environ, **media_env, "MEDIA_HOST_PORT": str(port), "MEDIA_HOST_BIND": "127.0.0.1",
           "MEDIA_DRAIN_SECONDS": "2", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "media_host"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if http_get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "media host did not start"
            time.sleep(0.1)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_refuses_new_calls_and_lets_running_calls_finish(media_process, read_blob) -> None:
    process, port = media_process

    async def scenario() -> None:
        async with connect(ws_url(port), compression=None) as ws:
            await ws.send(transcription_message("before the signal", 0, 10_000))
            await asyncio.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            for _ in range(50):
                if (await asyncio.to_thread(http_get, port, "/readyz"))[0] == 503:
                    break
                await asyncio.sleep(0.05)
            assert (await asyncio.to_thread(http_get, port, "/readyz")) == (503, {"ready": False, "calls": 1})
            with pytest.raises(InvalidStatus) as refused:
                async with connect(ws_url(port, instance_id="call-new")):
                    pass
            assert refused.value.response.status_code == 503
            await ws.send(transcription_message("after the signal", 20_000_000, 10_000))  # still served
            await asyncio.sleep(0.2)

    asyncio.run(scenario())
    assert process.wait(timeout=20) == 0
    texts = [json.loads(line)["text"] for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert texts == ["before the signal", "after the signal"]
    assert json.loads(read_blob(media_report_blob(INSTANCE)))["closeCode"] == 1000
    logs = process.stderr.read().decode()  # type: ignore[union-attr]
    assert "+15551234567" not in logs and "15551234567" not in logs
    entries = [json.loads(line) for line in logs.splitlines() if line.strip()]
    closed = [entry for entry in entries if entry["message"] == "media socket closed"]
    assert closed and closed[0]["instanceId"] == INSTANCE and closed[0]["closeCode"] == 1000


def test_calls_still_open_at_the_drain_deadline_are_closed_and_flushed(media_process, read_blob) -> None:
    process, port = media_process

    async def scenario() -> int | None:
        async with connect(ws_url(port), compression=None) as ws:
            await ws.send(transcription_message("kept", 0, 10_000))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            assert 1.5 < time.monotonic() - started < 10  # MEDIA_DRAIN_SECONDS=2, plus the closing handshake
            return ws.close_code

    assert asyncio.run(scenario()) == 1001
    assert process.wait(timeout=20) == 0
    assert [json.loads(line)["text"] for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()] == ["kept"]
    assert json.loads(read_blob(media_report_blob(INSTANCE)))["closeCode"] == 1001


def test_kill_9_loses_at_most_the_last_second_of_transcript(media_process, read_blob) -> None:
    process, port = media_process

    async def scenario() -> None:
        async with connect(ws_url(port), compression=None) as ws:
            await ws.send(transcription_message("first segment", 0, 10_000))
            await ws.send(transcription_message("second segment", 30_000_000, 10_000))
            await asyncio.sleep(1.0)
            process.kill()  # SIGKILL: no drain, no flush, no media.json
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)

    asyncio.run(scenario())
    process.wait(timeout=10)
    texts = [json.loads(line)["text"] for line in read_blob(transcript_blob(INSTANCE)).decode().splitlines()]
    assert texts == ["first segment", "second segment"]
    assert read_blob(media_report_blob(INSTANCE)) is None
