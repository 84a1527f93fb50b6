"""The app's functions as the host sees them (from their bindings), and how each kind is invoked.

Invocation mirrors the Python worker: arguments are bound by binding name, `context` is passed when the
function declares it, async functions run on the host's event loop and sync functions in a thread pool.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import traceback
import uuid
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Any

import azure.functions as func
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter, OrchestrationTriggerConverter

from .routes import RouteTemplate, compile_route

log = logging.getLogger("dev_host")

SERVED_TRIGGERS = {"httpTrigger", "orchestrationTrigger", "activityTrigger"}


@dataclass(frozen=True)
class HttpFunction:
    name: str
    route: RouteTemplate
    methods: frozenset[str] | None  # None: any method
    auth_level: str  # "anonymous" | "function" | "admin"
    trigger_param: str
    client_param: str | None
    client_task_hub: str | None
    user_function: Callable[..., Any]


@dataclass(frozen=True)
class ActivityFunction:
    name: str
    input_param: str
    user_function: Callable[..., Any]


@dataclass(frozen=True)
class FunctionIndex:
    http: tuple[HttpFunction, ...]  # in matching order
    orchestrators: Mapping[str, tuple[str, Callable[..., Any]]]  # name -> (context parameter, handle)
    activities: Mapping[str, ActivityFunction]
    not_served: tuple[str, ...]  # functions whose trigger the dev host does not implement

    def match_http(self, method: str, path: str) -> tuple[HttpFunction, dict[str, str]] | None:
        for function in self.http:
            if function.methods is not None and method.upper() not in function.methods:
                continue
            params = function.route.match(path)
            if params is not None:
                return function, params
        return None


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


# `get_functions()` may run once per app (a second call fails its unique-name check), as the worker indexes once
# per process; hosts started one after another on the same app share the index.
_indexes: weakref.WeakKeyDictionary[func.FunctionRegister, FunctionIndex] = weakref.WeakKeyDictionary()


def index_functions(app: func.FunctionRegister) -> FunctionIndex:
    """Read every function's trigger and bindings, as the host does from the worker's function metadata."""
    if app not in _indexes:
        _indexes[app] = _build_index(app)
    return _indexes[app]


def _build_index(app: func.FunctionRegister) -> FunctionIndex:
    http: list[HttpFunction] = []
    orchestrators: dict[str, tuple[str, Callable[..., Any]]] = {}
    activities: dict[str, ActivityFunction] = {}
    not_served: list[str] = []
    for function in app.get_functions():
        user_function = function.get_user_function()
        # The worker names a function by its `function_name` setting, else by the Python function's name.
        name = function.get_function_name() or user_function.__name__
        trigger = function.get_trigger()
        if trigger is None:
            not_served.append(f"{name} (None)")
            continue
        trigger_type = trigger.get_binding_name()
        if trigger_type == "httpTrigger":
            client = next((b for b in function.get_bindings() if b.type == "durableClient"), None)
            methods = getattr(trigger, "methods", None)
            http.append(HttpFunction(
                name=name,
                route=compile_route(getattr(trigger, "route", None) or name),
                methods=frozenset(_enum_value(m).upper() for m in methods) if methods else None,
                auth_level=_enum_value(getattr(trigger, "auth_level", None) or "function").lower(),
                trigger_param=trigger.name,
                client_param=client.name if client is not None else None,
                client_task_hub=getattr(client, "task_hub", None) if client is not None else None,
                user_function=user_function,
            ))
        elif trigger_type == "orchestrationTrigger":
            orchestrators[getattr(trigger, "orchestration", None) or name] = (trigger.name, user_function)
        elif trigger_type == "activityTrigger":
            # The extension names an activity by its trigger's `activity` when set, else by the function name.
            activity_name = getattr(trigger, "activity", None) or name
            activities[activity_name] = ActivityFunction(name=activity_name, input_param=trigger.name,
                                                         user_function=user_function)
        else:
            not_served.append(f"{name} ({trigger_type})")
    http.sort(key=lambda f: f.route.precedence)
    return FunctionIndex(tuple(http), orchestrators, activities, tuple(not_served))


class InvocationContext(func.Context):
    """The `context` argument the worker passes to functions that declare it."""

    def __init__(self, function_name: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._local = threading.local

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> type[threading.local]:
        return self._local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return ""

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


def _bind(user_function: Callable[..., Any], arguments: dict[str, Any], function_name: str) -> dict[str, Any]:
    parameters = inspect.signature(user_function).parameters
    bound = {name: value for name, value in arguments.items() if name in parameters}
    if "context" in parameters and "context" not in bound:
        bound["context"] = InvocationContext(function_name)
    return bound


async def invoke(user_function: Callable[..., Any], arguments: dict[str, Any], function_name: str,
                 executor: Executor) -> Any:
    """Call a user function as the worker does: coroutines on this loop, sync functions in `executor`."""
    bound = _bind(user_function, arguments, function_name)
    if inspect.iscoroutinefunction(user_function):
        return await user_function(**bound)
    result = await asyncio.get_running_loop().run_in_executor(executor, partial(user_function, **bound))
    if inspect.isawaitable(result):
        return await result
    return result


@dataclass(frozen=True)
class ActivityOutcome:
    result_json: str | None = None
    failure_reason: str | None = None
    failure_details: str | None = None


async def run_activity(activity: ActivityFunction, input_json: str | None, executor: Executor) -> ActivityOutcome:
    """Decode the JSON input as the activity trigger converter does, run, encode the result as JSON."""
    try:
        value = None if input_json is None else ActivityTriggerConverter.decode(
            meta.Datum(type="json", value=input_json), trigger_metadata={})
        result = await invoke(activity.user_function, {activity.input_param: value}, activity.name, executor)
        return ActivityOutcome(result_json=ActivityTriggerConverter.encode(result, expected_type=None).value)
    except Exception as exc:  # noqa: BLE001 - an activity's failure is data for the orchestration, as in the real host
        log.warning("activity %s failed: %s: %s", activity.name, type(exc).__name__, exc)
        return ActivityOutcome(
            failure_reason=f"Activity function '{activity.name}' failed: {type(exc).__name__}: {exc}",
            failure_details="".join(traceback.format_exception(exc)),
        )


def run_orchestrator(context_param: str, handle: Callable[..., Any], context_json: str) -> str:
    """One replay through the SDK (synchronous; the caller runs it in a worker thread)."""
    context = OrchestrationTriggerConverter.decode(meta.Datum(type="json", value=context_json), trigger_metadata={})
    # The Durable SDK's handler returns the replay's JSON state as text.
    state: str = handle(**{context_param: context})
    return state
