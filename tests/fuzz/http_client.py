"""Raw HTTP for fuzzing: any path, headers and body, one connection per request."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


def post(base_url: str, path: str, body: bytes, headers: dict[str, str], method: str = "POST",
         timeout: float = 30) -> tuple[int, bytes]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
