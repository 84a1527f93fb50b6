"""The product as three processes, as in Azure in miniature: this process plays ACS (simulator, key set,
Event Grid), the dev host serves function_app in a child process, the media host runs in another. Unlike
tools.local_stack (one process, for tests), the load generator then does not share the app's interpreter."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from calls import answer_timing
from shared import blob_names
from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.jwt_signer import AcsTokenIssuer
from tools.azurite import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ProcessStack:
    simulator: AcsSimulatorServer
    issuer: AcsTokenIssuer
    env: dict[str, str]
    base_url: str
    function_key: str
    work_dir: Path
    dev_host_pid: int = 0

    def dev_host_cpu_s(self) -> float | None:
        """CPU seconds (user + system, all threads) the dev host and its replay processes have used: less sensitive
        to other processes on the machine than latencies are. None where /proc is not available."""
        used = _cpu_s(self.dev_host_pid)
        if used is None:
            return None
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent_pid(int(entry.name)) == self.dev_host_pid:
                used += _cpu_s(int(entry.name)) or 0.0
        return used

    def answer_timings(self) -> list[dict[str, float]]:
        """The function app's per-call answer-path steps (calls/answer_timing.py), from the dev host's log."""
        timings = []
        for line in (self.work_dir / "dev_host.log").read_text(errors="replace").splitlines():
            if answer_timing.MESSAGE not in line or not line.startswith("{"):
                continue
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if record.get("answerOutcome") == "answered":
                    timings.append(answer_timing.steps_of(record))
        return timings

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/api/events?code={self.function_key}"

    def signer(self, url: str) -> dict[str, str]:
        return self.issuer.signer(url)

    def status(self, instance_id: str) -> dict[str, Any] | None:
        url = f"{self.base_url}/runtime/webhooks/durabletask/instances/{instance_id}?code={self.function_key}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def wait_for_call(self, instance_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(instance_id)
            if status and status.get("runtimeStatus") in ("Completed", "Failed", "Terminated"):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"{instance_id} is {status and status.get('runtimeStatus')}")
            time.sleep(0.5)

    def transcript(self, instance_id: str) -> str:
        service = BlobServiceClient.from_connection_string(self.env["AzureWebJobsStorage"])
        try:
            blob = service.get_blob_client(self.env["TRANSCRIPTS_CONTAINER"], blob_names.transcript_blob(instance_id))
            return blob.download_blob().readall().decode("utf-8")
        except ResourceNotFoundError:
            return ""


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 60 s")


def _dev_host_module(profile: Path | None) -> list[str]:
    # Profiled: the dev host's event-loop thread under cProfile, written at SIGTERM (bench/e2e_load/profiled_host.py).
    return ["tools.dev_host"] if profile is None else ["bench.e2e_load.profiled_host", str(profile.resolve())]


def _stat_fields(pid: int) -> list[str] | None:
    try:  # after the command's closing parenthesis: proc(5) fields 3 onwards
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cpu_s(pid: int) -> float | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (proc(5) 14, 15)


def _parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None  # ppid (proc(5) 4)


@contextlib.contextmanager
def process_stack(storage_connection_string: str, work_dir: Path,
                  profile: Path | None = None, replay_processes: int = 0) -> Iterator[ProcessStack]:
    access_key = base64.b64encode(secrets.token_bytes(32)).decode()
    dev_port, media_port = free_port(), free_port()
    function_key = secrets.token_urlsafe(24)
    with contextlib.ExitStack() as stack:
        issuer = stack.enter_context(AcsTokenIssuer(str(uuid.uuid4())))
        simulator = stack.enter_context(AcsSimulatorServer(access_key, eml_dir=work_dir / "eml"))
        env = {
            "ACS_ENDPOINT": simulator.endpoint, "ACS_ACCESS_KEY": access_key,
            "ACS_RESOURCE_ID": issuer.resource_id, "ACS_OPENID_CONFIG_URL": issuer.openid_config_url,
            "CALLBACK_BASE_URL": f"http://127.0.0.1:{dev_port}", "MEDIA_HOST_WSS_URL": f"ws://127.0.0.1:{media_port}",
            "MEDIA_HOST_PORT": str(media_port), "MEDIA_HOST_BIND": "127.0.0.1",
            "EMAIL_SENDER": "DoNotReply@calls.localhost", "SUMMARY_RECIPIENTS": "ops@calls.localhost",
            "CALL_TOKEN_SECRET": secrets.token_urlsafe(32), "AzureWebJobsStorage": storage_connection_string,
            "TRANSCRIPTS_CONTAINER": "transcripts",
            # An AI services resource named at answer: the strict simulator, like ACS, transcribes only then.
            "ACS_COGNITIVE_SERVICES_ENDPOINT": "https://simulated-ai.cognitiveservices.azure.com/",
        }
        child_env = {**os.environ, **env}
        children: list[subprocess.Popen[bytes]] = []
        try:
            for name, command, health in (
                    ("media_host", [sys.executable, "-m", "media_host"], f"http://127.0.0.1:{media_port}/healthz"),
                    ("dev_host", [sys.executable, "-m", *_dev_host_module(profile), "--port", str(dev_port),
                                  f"--function-key={function_key}", "--settings", str(work_dir / "none.json"),
                                  "--log-level", "WARNING", "--replay-processes", str(replay_processes)],
                     f"http://127.0.0.1:{dev_port}/")):
                log = work_dir / f"{name}.log"
                with log.open("ab") as output:
                    children.append(subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=output,
                                                     stderr=subprocess.STDOUT))
                _wait_until_up(health, children[-1], log)
            yield ProcessStack(simulator, issuer, env, f"http://127.0.0.1:{dev_port}", function_key, work_dir,
                               children[-1].pid)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()
