"""The loopback realtime model for the bench: tests/media_host/realtime_model_fake.py, one model per socket.

    python -m bench.voice_load.model_server <port> <think_seconds> <long_answer_seconds>

Each call's model answers the caller's turns in order: short, short, long (barged into), short; each after
the fixed think time, streamed at 4x real time in 100 ms deltas of 24 kHz audio, cancelled by the service
itself on `speech_started` (the fake cites the sources of each behaviour).
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, serve

from tests.media_host.realtime_model_fake import Answer, LoopbackRealtimeModel, tone

SHORT_SECONDS = 1.0


def answers(think: float, long_seconds: float) -> list[Answer]:
    short = Answer(audio_seconds=SHORT_SECONDS, think_seconds=think)
    return [short, short, Answer(audio_seconds=long_seconds, think_seconds=think), short]


async def main(port: int, think: float, long_seconds: float) -> None:
    tone(24000, SHORT_SECONDS)
    tone(24000, long_seconds)  # generated once, before any call: its cost is not the model's think time

    async def handler(ws: ServerConnection) -> None:
        await LoopbackRealtimeModel("ga", answers=answers(think, long_seconds), speed=4.0).handler(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**24):
        await asyncio.Future()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])))
