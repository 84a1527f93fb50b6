"""calls.answer_policy.media_capacity against real loopback sockets: hosts that answer badly or not at all
(each of which counts as full). The real media host's answer: tests/media_host/test_health_capacity.py."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from calls.answer_policy import media_capacity
from shared.answer_policy import MediaCapacity


def _serve(status: int, body: bytes) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/healthz"


@pytest.fixture
def answering() -> Iterator[list[http.server.ThreadingHTTPServer]]:
    servers: list[http.server.ThreadingHTTPServer] = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "body", "expected"), [
    (200, b'{"status": "ok", "calls": 3, "limit": 3}', MediaCapacity(3, 3)),
    (200, b'{"status": "ok", "calls": 0}', MediaCapacity(0, None)),
    (200, b'{"status": "ok", "calls": "3", "limit": 3}', None),
    (200, b'{"status": "ok", "calls": -1, "limit": 3}', None),
    (200, b'[1, 2]', None),
    (200, b'not json', None),
    (503, b'{"ready": false, "calls": 0}', None),
])
def test_what_the_health_route_says(answering: list, status: int, body: bytes, expected: object) -> None:
    server, url = _serve(status, body)
    answering.append(server)
    assert asyncio.run(media_capacity(url)) == expected


def test_a_host_that_does_not_answer_or_refuses_the_connection_counts_as_full() -> None:
    silent = socket.create_server(("127.0.0.1", 0))
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        assert asyncio.run(media_capacity(f"http://127.0.0.1:{silent.getsockname()[1]}/healthz")) is None
        assert asyncio.run(media_capacity(f"http://127.0.0.1:{closed_port}/healthz")) is None
    finally:
        silent.close()

