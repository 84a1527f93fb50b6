"""Shared fixtures: Azurite, settings for a test deployment."""

from __future__ import annotations

import asyncio
import base64
import functools
import inspect
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from hypothesis import settings as hypothesis_settings

from tools.acs_simulator import AcsSimulatorServer
from tools.azurite import running_azurite
from tools.dev_host import DevHost
from tools.dev_host.durable_api import client_binding_json
from tools.dev_host.functions import index_functions

TEST_CALL_TOKEN_SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"

# `make mutation` (bench/mutation) runs every mutant against the same examples: a mutant must be killed or
# survive for what it changes, not for the examples a random seed happened to draw. No example database
# either, so that one mutant's failure does not steer the next mutant's run.
hypothesis_settings.register_profile("mutation", derandomize=True, database=None, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    """A connection string for Azurite: the one `make test` started, or one started for this session."""
    given = os.environ.get("AzureWebJobsStorage")
    if given and "127.0.0.1" in given:
        yield given
        return
    with running_azurite() as endpoints:
        yield endpoints.connection_string


# --- The function app under test -------------------------------------------------------------------

TEST_ACS_ACCESS_KEY = base64.b64encode(b"local-test-acs-access-key-0123456789").decode()
FUNCTION_APP_ENV = {
    "ACS_ENDPOINT": "http://127.0.0.1:9",
    "ACS_ACCESS_KEY": TEST_ACS_ACCESS_KEY,
    "CALLBACK_BASE_URL": "http://127.0.0.1:7071",
    "MEDIA_HOST_WSS_URL": "ws://127.0.0.1:8080",
    "EMAIL_SENDER": "DoNotReply@calls.test",
    "SUMMARY_RECIPIENTS": "ops@calls.test,lead@calls.test",
    "CALL_TOKEN_SECRET": TEST_CALL_TOKEN_SECRET,
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "TRANSCRIPTS_CONTAINER": "transcripts",
    # A deployment with an AI services resource connected to ACS: text prompts and transcription work.
    "ACS_COGNITIVE_SERVICES_ENDPOINT": "https://my-ai.cognitiveservices.azure.com/",
}
# `import function_app` validates the settings, so the defaults are in place before any test imports it.
for _name, _value in FUNCTION_APP_ENV.items():
    os.environ.setdefault(_name, _value)


def durable_client_binding(base_url: str, key: str = "unused") -> str:
    """The binding JSON the Functions host hands a durable-client function; the SDK calls its `rpcBaseUrl`."""
    return client_binding_json(base_url, "CallLifecycle", key)


@functools.cache
def _worker_loop() -> asyncio.AbstractEventLoop:
    """One event loop for every async function call, as the Python worker has; the durable client keeps a
    process-wide HTTP session bound to the loop that first used it."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="functions-worker-loop", daemon=True).start()
    return loop


async def _await(awaitable: Any) -> Any:
    return await awaitable


@dataclass
class FunctionApp:
    """The real `function_app`, its functions called directly as the Functions host would."""

    functions: dict[str, Any]  # function name (activity name for activities) -> the user function

    def http(self, name: str, *, method: str = "POST", url: str = "http://127.0.0.1:7071/api/x",
             body: bytes | str | object = b"", headers: dict[str, str] | None = None,
             params: dict[str, str] | None = None, route_params: dict[str, str] | None = None,
             client: str | None = None) -> func.HttpResponse:
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        raw = body.encode() if isinstance(body, str) else body
        request = func.HttpRequest(method=method, url=url, headers=headers or {"content-type": "application/json"},
                                   params=params or {}, route_params=route_params or {}, body=raw)
        kwargs: dict[str, Any] = {"req": request}
        if client is not None:
            kwargs["client"] = client
        result = self.functions[name](**kwargs)
        if inspect.isawaitable(result):
            result = asyncio.run_coroutine_threadsafe(_await(result), _worker_loop()).result(timeout=60)
        return result

    def activity(self, name: str, payload: object) -> Any:
        return self.functions[name](payload=payload)


@pytest.fixture(scope="session")
def function_app() -> FunctionApp:
    import function_app as module

    # The dev host's index, because `get_functions()` may run only once per app (as the worker indexes once).
    index = index_functions(module.app)
    functions: dict[str, Any] = {fn.name: fn.user_function for fn in index.http}
    functions.update({name: activity.user_function for name, activity in index.activities.items()})
    functions.update({name: handle for name, (_, handle) in index.orchestrators.items()})
    return FunctionApp(functions)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, azurite_connection_string: str) -> Iterator[pytest.MonkeyPatch]:
    """The function app's settings for one test, against Azurite; set more with monkeypatch.setenv."""
    from calls import app_context

    for name, value in FUNCTION_APP_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AzureWebJobsStorage", azurite_connection_string)
    app_context.reset()
    yield monkeypatch
    app_context.reset()


# --- The ACS simulator and Durable endpoints (the dev host) for function tests ------------------------


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[AcsSimulatorServer]:
    """The loopback ACS (Call Automation + Email) that verifies HMAC signatures and records requests."""
    with AcsSimulatorServer(TEST_ACS_ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


@pytest.fixture
def durable(app_env: pytest.MonkeyPatch, function_app: FunctionApp, simulator: AcsSimulatorServer) -> Iterator[Any]:
    """The dev host running `function_app`'s orchestration and activities, its timers 20x faster."""
    import function_app as module

    app_env.setenv("ACS_ENDPOINT", simulator.endpoint)
    with DevHost(module.app, time_scale=0.05).run_in_thread() as host:
        yield host
