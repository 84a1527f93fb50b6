"""A loopback TCP proxy that can take its upstream "down" for a while: fault injection for storage outages.

    with TcpFaultProxy("127.0.0.1", azurite_blob_port) as proxy:     # listens on 127.0.0.1:proxy.port
        connection_string = via_proxy(azurite_connection_string, proxy.port)
        proxy.outage(10)   # for 10 s: live connections are reset and new ones are closed at once

While down, clients see what an unreachable storage account looks like to them: connection resets, no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time


class TcpFaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._down_until = 0.0
        self.refused = 0  # connections refused while down
        self.cut = 0  # live connections reset when an outage began
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-fault-proxy", daemon=True)

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.down:
            self.refused += 1
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._live.update((client_writer, upstream_writer))
        try:
            await asyncio.gather(self._pipe(client_reader, upstream_writer),
                                 self._pipe(upstream_reader, client_writer))
        finally:
            self._live.difference_update((client_writer, upstream_writer))

    def _cut(self) -> None:
        for writer in list(self._live):
            self.cut += 1
            writer.transport.abort()
        self._live.clear()

    def outage(self, seconds: float) -> None:
        """From now, for `seconds`: reset live connections and refuse new ones."""
        self._down_until = time.monotonic() + seconds
        self._loop.call_soon_threadsafe(self._cut)

    def start(self) -> TcpFaultProxy:
        self._thread.start()

        async def listen() -> asyncio.Server:
            return await asyncio.start_server(self._handle, "127.0.0.1", 0)

        self._server = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            self._cut()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> TcpFaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def blob_port_of(connection_string: str) -> int:
    match = re.search(r"BlobEndpoint=http://127\.0\.0\.1:(\d+)/", connection_string)
    if match is None:
        raise ValueError("no loopback BlobEndpoint in the connection string")
    return int(match.group(1))


def via_proxy(connection_string: str, proxy_port: int) -> str:
    """The connection string with its blob endpoint pointed at the proxy."""
    return re.sub(r"(BlobEndpoint=http://127\.0\.0\.1:)\d+/", rf"\g<1>{proxy_port}/", connection_string)
