"""The whole product on one machine: ACS simulator, dev host running `function_app`, and the media host.

Used by `make demo` and the end-to-end tests. Azurite is started by the caller (see tools/azurite.py), so
one Azurite serves many calls. Every secret here is generated per run.

The function app is configured as in Azure, through environment variables read by `calls.app_context`;
the stack sets them for its lifetime and restores them after. As in Azure, `ACS_RESOURCE_ID` is set: callbacks
and media sockets need ACS's bearer JWT, which the stack's `issuer` mints (pass `signer=stack.signer` to
`run_scenario`) and whose key set it serves on loopback. `media_process=True` runs the media host as a child
process (`python -m media_host`), so a test can `kill -9` it mid-call.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from media_host.config import load_media_host_config
from media_host.server import MediaHost, serve_media_host
from shared import blob_names
from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.jwt_signer import AcsTokenIssuer
from tools.acs_simulator.local_tls import create_local_tls
from tools.acs_simulator.loopback_names import resolve_to_loopback
from tools.acs_simulator.recording_files import RECORDING_HOST
from tools.azurite import free_port
from tools.dev_host import DevHost, DevHostThread


@dataclass
class LocalStack:
    simulator: AcsSimulatorServer
    dev_host: DevHostThread
    media_host: MediaHost | None  # None when the media host runs as a child process
    env: dict[str, str]
    eml_dir: Path
    issuer: AcsTokenIssuer | None = None
    media_process: subprocess.Popen[bytes] | None = None
    media_log: Path | None = None
    media_runner: _MediaHostProcess | None = None

    def restart_media_host(self) -> subprocess.Popen[bytes]:
        """Start the media host process again (after a test killed it), on the same port; healthy on return."""
        assert self.media_runner is not None, "local_stack(media_process=True) runs the media host as a process"
        self.media_process = self.media_runner.start()
        return self.media_process

    def signer(self, url: str) -> dict[str, str]:
        """The simulator's `signer`: ACS's bearer JWT on every callback and media handshake."""
        return self.issuer.signer(url) if self.issuer is not None else {}

    @property
    def events_url(self) -> str:
        return f"{self.dev_host.base_url}/api/events?code={self.dev_host.function_key}"

    def status(self, instance_id: str) -> dict[str, Any] | None:
        return self.dev_host.instance_status(instance_id)

    def wait_for_call(self, instance_id: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.dev_host.wait_for_instance(instance_id, timeout=timeout)

    def read_blob(self, name: str) -> bytes | None:
        service = BlobServiceClient.from_connection_string(self.env["AzureWebJobsStorage"])
        try:
            return service.get_blob_client(self.env["TRANSCRIPTS_CONTAINER"], name).download_blob().readall()
        except ResourceNotFoundError:
            return None

    def transcript(self, instance_id: str) -> str:
        return (self.read_blob(blob_names.transcript_blob(instance_id)) or b"").decode("utf-8")


class _MediaHostThread:
    """The media host on its own event loop, as it runs in its own container in Azure."""

    def __init__(self, environ: dict[str, str], port: int) -> None:
        self._config = load_media_host_config(environ)
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.host: MediaHost | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),),
                                        name="media-host", daemon=True)

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with serve_media_host(self._config, host="127.0.0.1", port=self._port) as host:
                self.host = host
                self._ready.set()
                await self._stop.wait()
        except BaseException as error:  # noqa: BLE001 - reported to the starting thread
            self._error = error
            self._ready.set()

    def start(self) -> MediaHost:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None or self.host is None:
            raise RuntimeError(f"the media host did not start: {self._error!r}")
        return self.host

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=15)


class _MediaHostProcess:
    """`python -m media_host` as a child process, its JSON log in a file."""

    def __init__(self, environ: dict[str, str], port: int, log_path: Path) -> None:
        self._environ = {**os.environ, **environ}
        self._port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        root = Path(__file__).resolve().parents[1]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "media_host"], cwd=root, env=self._environ,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the media host exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://127.0.0.1:{self._port}/healthz", timeout=1):
                    return self.process
            time.sleep(0.1)
        raise RuntimeError("the media host did not become healthy within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def local_stack(storage_connection_string: str, work_dir: Path, *, time_scale: float = 1.0,
                settings: dict[str, str] | None = None, acs_jwt: bool = True,
                media_process: bool = False, non_atomic_start: bool = False,
                managed_identity: bool = False, replay_processes: int = 0) -> Iterator[LocalStack]:
    """Start the simulator, the media host and the dev host (serving `function_app`) on free loopback ports.

    `managed_identity=True`: no ACS_ACCESS_KEY; the simulator serves https (a per-run CA, trusted through
    REQUESTS_CA_BUNDLE) and accepts Entra bearer tokens, which the app's DefaultAzureCredential gets from a
    local App Service managed-identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER), as in Azure.
    `replay_processes=N`: orchestrator replays in N processes of their own (tools/dev_host/replay_worker.py)."""
    with contextlib.ExitStack() as resources:
        issuer = resources.enter_context(AcsTokenIssuer(str(uuid.uuid4()))) if acs_jwt else None
        jwt_env = {"ACS_RESOURCE_ID": issuer.resource_id, "ACS_OPENID_CONFIG_URL": issuer.openid_config_url} \
            if issuer is not None else {}
        identity = None
        if managed_identity:
            from tools.acs_simulator.entra_tokens import EntraTokenIssuer
            from tools.acs_simulator.local_tls import create_local_tls

            entra = resources.enter_context(EntraTokenIssuer())
            identity = (create_local_tls(work_dir / "tls"), entra)
        yield resources.enter_context(_local_stack(storage_connection_string, work_dir, time_scale=time_scale,
                                                   settings={**jwt_env, **(settings or {})}, issuer=issuer,
                                                   media_process=media_process,
                                                   non_atomic_start=non_atomic_start, identity=identity,
                                                   replay_processes=replay_processes))


@contextlib.contextmanager
def _local_stack(storage_connection_string: str, work_dir: Path, *, time_scale: float,
                 settings: dict[str, str], issuer: AcsTokenIssuer | None,
                 media_process: bool, non_atomic_start: bool = False,
                 identity: tuple[Any, Any] | None = None, replay_processes: int = 0) -> Iterator[LocalStack]:
    access_key = base64.b64encode(secrets.token_bytes(32)).decode()
    dev_port, media_port = free_port(), free_port()
    eml_dir = work_dir / "eml"
    env = {
        "ACS_ACCESS_KEY": access_key,
        "CALLBACK_BASE_URL": f"http://127.0.0.1:{dev_port}",
        "MEDIA_HOST_WSS_URL": f"ws://127.0.0.1:{media_port}",
        "MEDIA_HOST_PORT": str(media_port),
        "MEDIA_HOST_BIND": "127.0.0.1",
        "EMAIL_SENDER": "DoNotReply@calls.localhost",
        "SUMMARY_RECIPIENTS": "ops@calls.localhost",
        "CALL_TOKEN_SECRET": secrets.token_urlsafe(32),
        "AzureWebJobsStorage": storage_connection_string,
        "TRANSCRIPTS_CONTAINER": "transcripts",
        # The simulator stands in for the AI services resource connected to ACS: with an endpoint named at
        # answer, ACS speaks text prompts and transcribes (shared/transcription_settings.py).
        "ACS_COGNITIVE_SERVICES_ENDPOINT": "https://simulated-ai.cognitiveservices.azure.com/",
        **(settings or {}),
    }
    tls, entra = identity if identity is not None else (None, None)
    if entra is not None and tls is not None:
        del env["ACS_ACCESS_KEY"]
        env.update({**entra.identity_env(), "REQUESTS_CA_BUNDLE": str(tls.ca_path)})
    # ACS's recording storage is https only (recording_files.py): its own per-run CA when the endpoint has none.
    storage_tls = tls or create_local_tls(work_dir / "storage-tls")
    env["REQUESTS_CA_BUNDLE"] = str(storage_tls.ca_path)
    saved = {name: os.environ.get(name) for name in [*env, "ACS_ENDPOINT", "ACS_RESOURCE_ID", "ACS_OPENID_CONFIG_URL",
                                                      "ACS_ACCESS_KEY"]}
    for name in [name for name, value in env.items() if value == ""]:
        del env[name]  # "" in `settings` removes a default (a deployment without that setting)
        os.environ.pop(name, None)
    with AcsSimulatorServer(access_key, eml_dir=eml_dir, tls=tls,
                            bearer_verifier=entra.verify if entra is not None else None) as simulator, \
            resolve_to_loopback(RECORDING_HOST):
        simulator.serve_recording_storage(storage_tls)
        env["ACS_ENDPOINT"] = simulator.endpoint
        if entra is not None:
            os.environ.pop("ACS_ACCESS_KEY", None)
        for name in ("ACS_RESOURCE_ID", "ACS_OPENID_CONFIG_URL"):
            if name not in env:
                os.environ.pop(name, None)  # JWT off: no stale requirement from the caller's environment
        os.environ.update(env)
        from calls import app_context

        app_context.reset()
        import function_app

        work_dir.mkdir(parents=True, exist_ok=True)
        media: _MediaHostThread | _MediaHostProcess = (
            _MediaHostProcess(env, media_port, work_dir / "media_host.log") if media_process
            else _MediaHostThread(env, media_port))
        media_host = media.start() if isinstance(media, _MediaHostThread) else None
        process = media.start() if isinstance(media, _MediaHostProcess) else None
        try:
            dev_host = DevHost(function_app.app, port=dev_port, time_scale=time_scale,
                               function_key=secrets.token_urlsafe(24),
                               non_atomic_start=non_atomic_start, replay_processes=replay_processes,
                               app_spec="function_app").run_in_thread()
            # The app's Event Grid subscription for RecordingFileStatusUpdated (infra: its own, filtered).
            simulator.recording_events_url = f"{dev_host.base_url}/api/recording-events?code={dev_host.function_key}"
            try:
                yield LocalStack(simulator, dev_host, media_host, env, eml_dir, issuer, process,
                                 media.log_path if isinstance(media, _MediaHostProcess) else None,
                                 media if isinstance(media, _MediaHostProcess) else None)
            finally:
                dev_host.stop()
        finally:
            media.stop()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            app_context.reset()
