"""Each media socket of a call has its own id in its ended report and in media.json (shared/media_recovery.py
tells a late report of socket 1 from socket 2 by it); a restarted host numbers its sockets under a new run id."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import connect

from media_host.server import serve_media_host
from shared.blob_names import media_report_blob
from tests.media_host.conftest import audio_message, metadata_message
from tests.media_host.test_server import INSTANCE, ws_url


def test_each_socket_of_a_call_reports_its_own_id_and_media_json_lists_them(media_config, read_blob) -> None:
    reports: list[dict[str, Any]] = []

    async def on_ended(instance_id: str, token: str, summary: dict[str, Any]) -> None:
        reports.append(summary)

    async def one_socket(port: int, frames: int, close_code: int) -> None:
        async with connect(ws_url(port), compression=None) as ws:
            await ws.send(metadata_message(16000))
            for index in range(frames):
                await ws.send(audio_message(bytes(640), f"2024-05-27T10:00:00.{index * 20:03d}Z"))
            await ws.close(close_code)

    async def scenario() -> None:
        for run in range(2):  # a second run: the host restarted (kill -9, redeploy)
            async with serve_media_host(media_config, host="127.0.0.1", port=0, on_ended=on_ended) as host:
                for frames, code in ((3, 1011), (2, 1000)):
                    await one_socket(host.port, frames + run, code)
                    for _ in range(100):
                        if not host.sessions:
                            break
                        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert [report["socketSeq"] for report in reports] == [1, 2, 1, 2]
    ids = [report["socketId"] for report in reports]
    assert len(set(ids)) == 4 and ids[0].split("-")[0] != ids[2].split("-")[0]
    document = json.loads(read_blob(media_report_blob(INSTANCE)))
    assert [(item["socketId"], item["framesReceived"], item["closeCode"]) for item in document["sockets"]] == \
        [(ids[0], 3, 1011), (ids[1], 2, 1000), (ids[2], 4, 1011), (ids[3], 3, 1000)]
    assert document["socketId"] == ids[3] and document["framesReceived"] == 3
