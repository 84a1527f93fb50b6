"""`python -m media_host`: run the media host until SIGTERM/SIGINT, then drain and exit."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from media_host.config import MediaHostConfig, load_media_host_config
from media_host.host_logging import configure_json_logging
from media_host.server import serve_media_host
from media_host.telemetry import configure as configure_telemetry
from shared.settings import SettingsError

log = logging.getLogger("media_host")


async def run(config: MediaHostConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with serve_media_host(config) as host:
        # Everything imported and set up so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise rescan it while calls allocate per frame.
        gc.freeze()
        log.info("media host listening", extra={"port": host.port, "voiceProcessor": config.voice_processor})
        await stop.wait()
        log.info("signal received: draining for up to %.0f s", config.drain_seconds)
        await host.drain(config.drain_seconds)
    log.info("media host stopped")


def main() -> int:
    configure_json_logging()
    try:
        config = load_media_host_config(os.environ)  # the one place the media host reads its environment
    except SettingsError as error:
        log.error("invalid settings: %s", error)
        return 2
    configure_telemetry(config.telemetry)  # exporters as configured, once per process
    runner: Callable[[Coroutine[Any, Any, None]], None] = asyncio.run
    if config.use_uvloop:  # MEDIA_HOST_UVLOOP=0: the standard asyncio loop (diagnostics)
        try:
            import uvloop  # a cheaper event loop on Linux

            runner = uvloop.run
        except ImportError:
            pass
    runner(run(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
