"""Server CPU per echoed frame, measured so that other processes on the machine matter little:

    python -m bench.media_load.cpu_cost [--connections 50] [--frames 1000] [--rounds 3]

Each server (pinned to CPU 0) gets the same closed-loop load from one client process (pinned to CPU 1):
`--connections` sockets, each sending an AudioData frame and waiting for its echo, `--frames` times. Every
frame then costs the server one read and one write, whatever the scheduling noise, and the server's own
CPU time (from /proc) divided by the frame count is its cost per frame. Servers are measured in turn,
`--rounds` times, and the minimum is reported (noise only ever adds time). Capacity at 50 frames/s each way
is at most 1e6 / (50 x cost) streams per core; `python -m bench.media_load` measures the real-time figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.media_load.__main__ import INSTANCE, ROOT, SECRET, cpu_seconds, start_server, stop_server
from shared.call_token import call_token
from tools.azurite import free_port, running_azurite


def frame_message(seq: int) -> str:
    pcm = seq.to_bytes(6, "big") + bytes(634)
    return json.dumps({"kind": "AudioData", "audioData": {"timestamp": "2024-05-27T10:00:00.000Z",
                                                          "participantRawID": "8:acs:bench",
                                                          "data": base64.b64encode(pcm).decode(), "silent": False}})


async def client(url: str, connections: int, frames: int) -> None:
    from websockets.asyncio.client import connect

    message = frame_message(1)

    async def one() -> None:
        async with connect(url, compression=None, max_size=2**20) as ws:
            for _ in range(frames):
                await ws.send(message)
                await ws.recv()

    await asyncio.gather(*(one() for _ in range(connections)))


def run_client(url: str, connections: int, frames: int) -> None:
    code = ("import asyncio, sys; from bench.media_load.cpu_cost import client; "
            f"asyncio.run(client({url!r}, {connections}, {frames}))")
    subprocess.run(["taskset", "-c", "1", sys.executable, "-c", code], cwd=ROOT, check=True,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))


def measure(kind: str, connections: int, frames: int, storage: str, logs: Path) -> float:
    port = free_port()
    process = start_server(kind, port, storage, logs)
    try:
        time.sleep(0.5)
        url = f"ws://127.0.0.1:{port}/ws/{INSTANCE}/{call_token(SECRET, INSTANCE)}"
        run_client(url, 5, 50)  # warm up
        before = cpu_seconds(process.pid)
        run_client(url, connections, frames)
        used = cpu_seconds(process.pid) - before
    finally:
        stop_server(process)
    return used / (connections * frames) * 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="media,raw,seed")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    logs = Path(tempfile.gettempdir()) / "media_load_cpu_cost.log"
    costs: dict[str, list[float]] = {}
    with running_azurite() as azurite:
        for _ in range(args.rounds):
            for kind in args.servers.split(","):
                cost = measure(kind, args.connections, args.frames, azurite.connection_string, logs)
                costs.setdefault(kind, []).append(cost)
                print(f"  {kind:14} {cost:6.1f} us/frame", flush=True)
    print("\nserver          min us/frame  all rounds                 max streams/core (50 fps)")
    for kind, values in costs.items():
        best = min(values)
        print(f"{kind:15} {best:12.1f}  {' '.join(f'{v:.1f}' for v in values):26} {1e6 / (50 * best):8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
