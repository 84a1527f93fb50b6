"""DevHost: the aiohttp server that ties the app's HTTP functions, Durable's HTTP API and the engine together."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import multiprocessing
import os
import secrets
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import azure.functions as func
from aiohttp import web
from azure.durable_functions.models.utils import http_utils

from . import replay_worker
from .durable_api import RPC_BASE, WEBHOOK_BASE, DurableApi, client_binding_json
from .engine import OrchestrationEngine
from .functions import HttpFunction, index_functions
from .host_config import HostConfig, load_host_config
from .http_functions import HttpFunctionsRouter, has_key
from .instance import status_payload

log = logging.getLogger("dev_host")

TERMINAL = ("Completed", "Failed", "Terminated")


class DevHost:
    """Serve a FunctionApp locally: HTTP functions under /{routePrefix}, Durable's API, orchestrations.

    Use as an async context manager on the loop that should run it, or `run_in_thread()` from sync code.
    """

    def __init__(self, app: func.FunctionRegister, *, host: str = "127.0.0.1", port: int = 0,
                 function_key: str | None = None, time_scale: float = 1.0, host_json: Path | None = None,
                 config: HostConfig | None = None, extension_replay: bool = True,
                 non_atomic_start: bool = False, replay_processes: int = 0, app_spec: str | None = None) -> None:
        self.host = host
        # On by default: the extension's C# replay of each action list decides ids and fails what production fails.
        self.extension_replay = extension_replay
        # Opt-in: concurrent starts of one id both answer 202, as on Azure Storage (engine.start).
        self.non_atomic_start = non_atomic_start
        # Opt-in: orchestrator replays in this many processes that import `app_spec` (tools/dev_host/replay_worker.py).
        if replay_processes and not app_spec:
            raise ValueError("replay_processes needs the app's module[:attribute] (app_spec) to import in each one")
        self.replay_processes = replay_processes
        self.app_spec = app_spec
        self.port = port
        env_key = os.environ.get("DEV_HOST_FUNCTION_KEY")
        self.function_key = function_key or env_key or secrets.token_urlsafe(24)
        self.key_was_generated = not (function_key or env_key)
        self.time_scale = time_scale
        self.config = config or load_host_config(host_json)
        self.index = index_functions(app)
        self._runner: web.AppRunner | None = None
        self._engine: OrchestrationEngine | None = None
        self._executors: list[Executor] = []
        self.base_url = ""

    # ---- lifecycle ----

    async def start(self) -> None:
        orchestrator_pool = await self._orchestrator_pool()
        activity_pool = ThreadPoolExecutor(32, thread_name_prefix="dev-host-activity")
        http_pool = ThreadPoolExecutor(16, thread_name_prefix="dev-host-http")
        self._executors = [orchestrator_pool, activity_pool, http_pool]
        self._engine = OrchestrationEngine(
            self.index, time_scale=self.time_scale,
            overridable_states=self.config.overridable_existing_instance_states,
            orchestrator_executor=orchestrator_pool, activity_executor=activity_pool,
            extension_replay=self.extension_replay, non_atomic_start=self.non_atomic_start)
        self._api = DurableApi(self._engine, hub_name=self.config.hub_name, key=self.function_key)
        self._router = HttpFunctionsRouter(self.index, key=self.function_key, executor=http_pool,
                                           client_binding=self._client_binding)
        # The SDK keeps one process-wide aiohttp session, as if the worker's loop lived forever; a session from a
        # previous loop (an earlier DevHost) cannot be used on this one.
        http_utils._client_session = None
        http_utils._session_lock = asyncio.Lock()
        application = web.Application(client_max_size=100 * 1024 * 1024)
        application.router.add_route("*", "/{tail:.*}", self._dispatch)
        # No access log: request lines carry `?code=<key>`.
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        self.base_url = f"http://{self.host}:{self.port}"
        log.info("dev host listening on %s", self.base_url)

    async def _orchestrator_pool(self) -> Executor:
        if not self.replay_processes or self.app_spec is None:
            return ThreadPoolExecutor(8, thread_name_prefix="dev-host-orchestrator")
        # Spawned, not forked: a fork would copy this process's running loop and threads.
        pool = ProcessPoolExecutor(self.replay_processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=replay_worker.load_app,
                                   initargs=(self.app_spec, logging.getLevelName(logging.getLogger().level)))
        # Loaded now, not on the first call's replay (importing the app takes a second or more).
        await asyncio.gather(*(asyncio.get_running_loop().run_in_executor(pool, replay_worker.ready)
                               for _ in range(self.replay_processes)))
        return pool

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._engine is not None:
            await self._engine.close()
        try:
            await http_utils._close_session()
        except Exception:  # closing the SDK's session is best effort at shutdown
            log.debug("closing the SDK session failed", exc_info=True)
        for executor in self._executors:
            executor.shutdown(wait=False, cancel_futures=True)
        self._executors = []

    async def __aenter__(self) -> DevHost:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.stop()

    def run_in_thread(self, *, startup_timeout: float = 10.0) -> DevHostThread:
        """Start on a private loop in a daemon thread; for synchronous callers."""
        return DevHostThread(self, startup_timeout)

    # ---- inspection ----

    @property
    def engine(self) -> OrchestrationEngine:
        if self._engine is None:
            raise RuntimeError("the dev host is not started")
        return self._engine

    async def wait_for_instance(self, instance_id: str, *, statuses: Iterable[str] = TERMINAL,
                                timeout: float) -> dict[str, Any]:
        instance = await self.engine.wait_for(instance_id, statuses, timeout)
        return status_payload(instance, show_history=True, show_history_output=True, show_input=True)

    def instance_status(self, instance_id: str, show_history: bool = True) -> dict[str, Any] | None:
        instance = self.engine.get(instance_id)
        if instance is None:
            return None
        return status_payload(instance, show_history=show_history, show_history_output=True, show_input=True)

    def replay_flags(self, instance_id: str) -> list[str]:
        """What the extension-style replay flagged for this instance: FireAt drift, NonDeterministic failures."""
        instance = self.engine.get(instance_id)
        return [] if instance is None else list(instance.replay_flags)

    def describe_functions(self) -> list[str]:
        prefix = f"/{self.config.route_prefix}" if self.config.route_prefix else ""
        lines = []
        for function in self.index.http:
            methods = ",".join(sorted(function.methods)) if function.methods else "*"
            lines.append(f"{function.name}: [{methods}] {self.base_url}{prefix}/{function.route.template} "
                         f"(auth: {function.auth_level})")
        lines += [f"{name}: orchestrationTrigger" for name in self.index.orchestrators]
        lines += [f"{name}: activityTrigger" for name in self.index.activities]
        lines += [f"{entry}: not served by the dev host" for entry in self.index.not_served]
        return lines

    # ---- request dispatch ----

    def _client_binding(self, function: HttpFunction) -> str:
        # The real RPC endpoint listens on loopback only; reach it there even when serving on all interfaces.
        rpc_base_url = f"http://127.0.0.1:{self.port}" if self.host in ("0.0.0.0", "") else self.base_url
        return client_binding_json(self.base_url, function.client_task_hub or self.config.hub_name,
                                   self.function_key, rpc_base_url)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(RPC_BASE) or path == RPC_BASE.rstrip("/"):
            if not _is_loopback(request.remote):
                return web.Response(status=403)
            return await self._durable(request, path[len(RPC_BASE):])
        if path.startswith(WEBHOOK_BASE):
            if not has_key(request, self.function_key):
                return web.Response(status=401)
            return await self._durable(request, path[len(WEBHOOK_BASE):])
        prefix = f"/{self.config.route_prefix}" if self.config.route_prefix else ""
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return web.Response(status=404)
        response = await self._router.handle(request, path[len(prefix):].strip("/"))
        log.info("%s %s -> %d", request.method, path, response.status)
        return response

    async def _durable(self, request: web.Request, path: str) -> web.Response:
        try:
            return await self._api.handle(request, path.strip("/"))
        except Exception:  # the extension answers 500 for an unexpected failure
            log.exception("durable API %s %s failed", request.method, request.path)
            return web.json_response({"Message": "Something went wrong while processing your request"},
                                     status=500)


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


class DevHostThread:
    """A DevHost running on its own loop in a daemon thread, with synchronous accessors."""

    def __init__(self, host: DevHost, startup_timeout: float) -> None:
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stopped = asyncio.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dev-host", daemon=True)
        self._thread.start()
        if not self._started.wait(startup_timeout):
            raise TimeoutError("the dev host did not start")
        if self._error is not None:
            raise self._error

    @property
    def base_url(self) -> str:
        return self.host.base_url

    @property
    def function_key(self) -> str:
        return self.host.function_key

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        try:
            await self.host.start()
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread, which re-raises it
            self._error = exc
            self._started.set()
            return
        self._started.set()
        await self._stopped.wait()
        await self.host.stop()

    def wait_for_instance(self, instance_id: str, *, statuses: Iterable[str] = TERMINAL,
                          timeout: float) -> dict[str, Any]:
        future = asyncio.run_coroutine_threadsafe(
            self.host.wait_for_instance(instance_id, statuses=tuple(statuses), timeout=timeout), self._loop)
        return future.result(timeout + 5)

    def instance_status(self, instance_id: str, show_history: bool = True) -> dict[str, Any] | None:
        async def read() -> dict[str, Any] | None:
            return self.host.instance_status(instance_id, show_history)
        return asyncio.run_coroutine_threadsafe(read(), self._loop).result(10)

    def replay_flags(self, instance_id: str) -> list[str]:
        async def read() -> list[str]:
            return self.host.replay_flags(instance_id)
        return asyncio.run_coroutine_threadsafe(read(), self._loop).result(10)

    def fail_activity_next(self, name: str, *, times: int = 1) -> None:
        async def inject() -> None:
            self.host.engine.fail_activity_next(name, times=times)
        asyncio.run_coroutine_threadsafe(inject(), self._loop).result(10)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(30)

    def __enter__(self) -> DevHostThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
