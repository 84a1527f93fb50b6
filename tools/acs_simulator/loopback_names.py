"""Name resolution for the simulated recording storage host: a hosts-file entry for this process only.

The SDK downloads recordings only from https URLs on *.asm.skype.com (recording_url_validator), so the
simulator's storage listener is named RECORDING_HOST (tools/acs_simulator/recording_files.py). Resolving that
one name to loopback, while the local stack runs, lets the real SDK, TLS and HMAC run unchanged; every other
name resolves as usual.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def resolve_to_loopback(host_name: str) -> Iterator[None]:
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.lower() == host_name:
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = original
