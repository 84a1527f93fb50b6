"""Start Azurite (the storage emulator, pinned in package.json) on free loopback ports.

Usage as a wrapper, as `make test` does:  python -m tools.azurite -- <command ...>
The command runs with `AzureWebJobsStorage` and `AZURITE_BLOB_ENDPOINT` set, and Azurite is stopped after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Azurite's published development account; it is the emulator's documented key, not a secret.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class AzuriteEndpoints:
    blob_port: int
    queue_port: int
    table_port: int

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.blob_port}/{DEV_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.blob_port}/{DEV_ACCOUNT};"
            f"QueueEndpoint=http://127.0.0.1:{self.queue_port}/{DEV_ACCOUNT};"
            f"TableEndpoint=http://127.0.0.1:{self.table_port}/{DEV_ACCOUNT};"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Azurite exited with code {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"Azurite did not listen on port {port} within {timeout} s")


def azurite_binary() -> str:
    local = PROJECT_ROOT / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    found = shutil.which("azurite")
    if found is None:
        raise RuntimeError("Azurite is not installed: run `npm ci` in the project root (make test does this)")
    return found


@contextlib.contextmanager
def running_azurite() -> Iterator[AzuriteEndpoints]:
    """Azurite blob, queue and table services on free loopback ports, in memory, stopped on exit."""
    endpoints = AzuriteEndpoints(free_port(), free_port(), free_port())
    command = [
        azurite_binary(),
        "--silent", "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
        "--blobHost", "127.0.0.1", "--blobPort", str(endpoints.blob_port),
        "--queueHost", "127.0.0.1", "--queuePort", str(endpoints.queue_port),
        "--tableHost", "127.0.0.1", "--tablePort", str(endpoints.table_port),
    ]
    # The debug log goes nowhere: in memory, Azurite writes no files, so nothing is left in the work tree.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir(),
                               start_new_session=True)
    try:
        for port in (endpoints.blob_port, endpoints.queue_port, endpoints.table_port):
            _wait_for_port(port, process, timeout=30.0)
        yield endpoints
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: python -m tools.azurite -- <command ...>", file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1:]
    with running_azurite() as endpoints:
        print(f"Azurite: blob {endpoints.blob_port}, queue {endpoints.queue_port}, table {endpoints.table_port}",
              flush=True)
        env = dict(os.environ, AzureWebJobsStorage=endpoints.connection_string,
                   AZURITE_BLOB_ENDPOINT=endpoints.blob_endpoint)
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
