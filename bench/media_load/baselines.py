"""Baseline servers for the benchmark, each run as its own process: `python -m bench.media_load.baselines
seed|raw|raw-nodeflate PORT`.

- seed: a seed-style naive handler: `json.loads` per message, `datetime.utcnow().isoformat()` in every
  outbound frame, websockets' default compression, default asyncio loop.
- raw: websockets echo server that returns each text message unchanged, all defaults.
- raw-nodeflate: the same with compression off (not a goal; shows what deflate costs).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import datetime

from websockets.asyncio.server import ServerConnection, serve


async def seed_handler(ws: ServerConnection) -> None:
    async for message in ws:
        data = json.loads(message)
        if data.get("kind") == "AudioData":
            reply = {"Kind": "AudioData", "AudioData": {"Data": data["audioData"]["data"]}, "StopAudio": None,
                     "sentAt": datetime.utcnow().isoformat()}  # noqa: DTZ003 - reproducing the seed on purpose
            await ws.send(json.dumps(reply))


async def raw_handler(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def main(kind: str, port: int) -> None:
    handler = seed_handler if kind == "seed" else raw_handler
    options = {"compression": None} if kind == "raw-nodeflate" else {}
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with serve(handler, "127.0.0.1", port, max_size=2**20, **options):  # type: ignore[arg-type]
        print("listening", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
