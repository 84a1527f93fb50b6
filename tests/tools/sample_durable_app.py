"""A small DFApp for the dev host's tests: starter, event-waiting orchestrator, retried activities, raiser."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

# Activity attempts per key, so a test can make an activity fail a set number of times. Activities run in
# worker threads, hence the lock.
_attempts: dict[str, int] = {}
_attempts_lock = threading.Lock()


def attempts_for(key: str) -> int:
    with _attempts_lock:
        return _attempts.get(key, 0)


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params["name"]
    body = req.get_body()
    payload = json.loads(body) if body else None
    instance_id = req.params.get("instanceId")
    try:
        started = await client.start_new(name, instance_id, payload)
    except Exception as exc:  # noqa: BLE001 - the SDK raises a plain Exception for 409: report it as the app would
        return func.HttpResponse(json.dumps({"error": str(exc)}), status_code=409, mimetype="application/json")
    return client.create_check_status_response(req, started)


@app.route(route="raise/{instanceId}/{event}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_raise(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    try:
        await client.raise_event(req.route_params["instanceId"], req.route_params["event"],
                                 json.loads(body) if body else None)
    except Exception as exc:  # noqa: BLE001 - the SDK raises a plain Exception for 404/410
        return func.HttpResponse(json.dumps({"error": str(exc)}), status_code=404, mimetype="application/json")
    return func.HttpResponse(status_code=202)


@app.route(route="status/{instanceId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    status = await client.get_status(req.route_params["instanceId"], show_history=True,
                                     show_history_output=True)
    if not status:
        return func.HttpResponse(status_code=404)
    body = status.to_json()
    body["historyEvents"] = getattr(status, "historyEvents", None)
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="echo/{*rest}", methods=["GET", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
def echo(req: func.HttpRequest) -> func.HttpResponse:
    """A sync function: reflects what the host built, so tests can check the request mapping."""
    return func.HttpResponse(
        json.dumps({
            "method": req.method,
            "url": req.url,
            "params": dict(req.params),
            "route_params": dict(req.route_params),
            "body": req.get_body().decode(),
            "header": req.headers.get("x-test"),
        }),
        status_code=200,
        headers={"X-Echo": "1"},
        mimetype="application/json",
    )


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
async def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom")


@app.orchestration_trigger(context_name="context")
def wait_for_events(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Greets, then waits for 'approve' or a timeout timer; the timeout comes from the input (seconds)."""
    params: dict[str, Any] = context.get_input() or {}
    greeting = yield context.call_activity("greet", params.get("who", "world"))
    context.set_custom_status({"stage": "waiting"})
    timeout = context.create_timer(context.current_utc_datetime + timedelta(seconds=params.get("timeout", 60)))
    approval = context.wait_for_external_event("approve")
    winner = yield context.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
        return {"greeting": greeting, "approved": approval.result}
    return {"greeting": greeting, "approved": None}


@app.orchestration_trigger(context_name="context")
def slow_then_wait(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Runs an activity first, then waits: an event raised meanwhile must not be lost."""
    params: dict[str, Any] = context.get_input() or {}
    yield context.call_activity("sleepy", params.get("sleep", 0.3))
    value = yield context.wait_for_external_event("early")
    return value


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    params: dict[str, Any] = context.get_input() or {}
    options = df.RetryOptions(first_retry_interval_in_milliseconds=params.get("interval_ms", 1000),
                              max_number_of_attempts=params.get("attempts", 3))
    result = yield context.call_activity_with_retry("flaky", options, params)
    return result


@app.orchestration_trigger(context_name="context")
def timer_only(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    seconds = context.get_input() or 60
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    return "fired"


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    yield context.call_activity("greet", "x")
    raise ValueError("orchestrator gave up")


@app.activity_trigger(input_name="who")
def greet(who: str) -> str:
    return f"Hello {who}"


@app.activity_trigger(input_name="seconds")
def sleepy(seconds: float) -> float:
    threading.Event().wait(seconds)
    return seconds


@app.activity_trigger(input_name="params")
async def flaky(params: dict[str, Any]) -> str:
    """Fails `fail_times` times for `key`, then succeeds (an async activity, as DFApp allows)."""
    key = params["key"]
    with _attempts_lock:
        _attempts[key] = _attempts.get(key, 0) + 1
        attempt = _attempts[key]
    if attempt <= params.get("fail_times", 0):
        raise RuntimeError(f"flaky attempt {attempt} failed")
    return f"ok after {attempt}"


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Calls `timer_only` as a sub-orchestration and `counter` (which continues as new) and returns both."""
    fired = yield context.call_sub_orchestrator("timer_only", 1)
    counted = yield context.call_sub_orchestrator("counter", 0, f"{context.instance_id}-counter")
    return [fired, counted]


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Counts to 3 by continuing as new (each execution starts with a fresh history)."""
    value = context.get_input() or 0
    if value >= 3:
        return value
    yield context.call_activity("greet", str(value))
    context.continue_as_new(value + 1)
    return None


@app.activity_trigger(input_name="name", activity="shout")
def shout_activity(name: str) -> str:
    """Registered under its trigger's `activity` name, not the function name."""
    return name.upper()


@app.orchestration_trigger(context_name="context", orchestration="named_orchestration")
def renamed(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    return (yield context.call_activity("shout", context.get_input()))


# Replays in flight per instance and overall, so a test can see that one instance's episodes never overlap
# while different instances replay concurrently. Recording this is a side effect a real orchestrator must not
# have; it does not change the orchestration's decisions.
replays_in_flight: dict[str, int] = {}
max_replays_in_flight: dict[str, int] = {}
_replay_lock = threading.Lock()


def _enter_replay(instance_id: str) -> None:
    with _replay_lock:
        replays_in_flight[instance_id] = replays_in_flight.get(instance_id, 0) + 1
        replays_in_flight["*"] = replays_in_flight.get("*", 0) + 1
        for key in (instance_id, "*"):
            max_replays_in_flight[key] = max(max_replays_in_flight.get(key, 0), replays_in_flight[key])


def _leave_replay(instance_id: str) -> None:
    with _replay_lock:
        replays_in_flight[instance_id] -= 1
        replays_in_flight["*"] -= 1


@app.orchestration_trigger(context_name="context")
def tick_counter(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Counts `count` 'tick' events; each replay takes a little while."""
    _enter_replay(context.instance_id)
    try:
        threading.Event().wait(0.01)
    finally:
        _leave_replay(context.instance_id)
    total = 0
    for _ in range(context.get_input()):
        total += (yield context.wait_for_external_event("tick")) and 1
    return total


@app.orchestration_trigger(context_name="context")
def parent_with_retry(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    """Runs `retrying` (with a single attempt) as a sub-orchestration, retried by the host when it fails."""
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
    params = {**context.get_input(), "attempts": 1}
    return (yield context.call_sub_orchestrator_with_retry("retrying", options, params,
                                                           f"{context.instance_id}-child"))
