"""The dev host end to end: the sample DFApp served over loopback, driven through HTTP and the real SDK client."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import azure.durable_functions as df
from dateutil.parser import isoparse

from tests.tools import sample_durable_app
from tests.tools.sample_durable_app import app, attempts_for
from tools.dev_host import DevHost
from tools.dev_host.durable_api import client_binding_json
from tools.dev_host.host_config import HostConfig

KEY = "test-function-key"
Scenario = Callable[[DevHost, aiohttp.ClientSession], Awaitable[None]]


def run(scenario: Scenario, *, time_scale: float = 0.01, config: HostConfig | None = None) -> None:
    async def main() -> None:
        async with DevHost(app, function_key=KEY, time_scale=time_scale, config=config) as host:
            async with aiohttp.ClientSession() as session:
                await scenario(host, session)
    asyncio.run(main())


def client_for(host: DevHost) -> df.DurableOrchestrationClient:
    return df.DurableOrchestrationClient(client_binding_json(host.base_url, host.config.hub_name, KEY))


async def start(host: DevHost, session: aiohttp.ClientSession, name: str, payload: Any = None,
                instance_id: str | None = None) -> tuple[int, dict[str, Any]]:
    params = {"code": KEY, **({"instanceId": instance_id} if instance_id else {})}
    async with session.post(f"{host.base_url}/api/start/{name}", params=params, json=payload) as response:
        return response.status, await response.json()


def raw_types(host: DevHost, instance_id: str) -> list[str]:
    instance = host.engine.get(instance_id)
    assert instance is not None
    return [_type_name(event["EventType"]) for event in instance.history]


def _type_name(number: int) -> str:
    from azure.durable_functions.models.history.HistoryEventType import HistoryEventType
    return "".join(part.capitalize() for part in HistoryEventType(number).name.split("_"))


def test_http_function_is_served_from_its_bindings() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        url = f"{host.base_url}/api/echo/a/b%20c?x=1&y=two"
        async with session.get(url, headers={"x-test": "hello"}) as response:
            assert response.status == 200
            assert response.headers["X-Echo"] == "1"
            assert response.headers["Content-Type"].startswith("application/json")
            echoed = await response.json()
        assert echoed["method"] == "GET"
        assert echoed["url"] == url
        assert echoed["params"] == {"x": "1", "y": "two"}
        assert echoed["route_params"] == {"rest": "a/b c"}
        assert echoed["header"] == "hello"
        async with session.put(f"{host.base_url}/api/ECHO/z", data=b"payload") as response:
            assert (await response.json())["body"] == "payload"
        async with session.post(f"{host.base_url}/api/echo/z") as response:
            assert response.status == 404  # POST is not among the function's methods
        async with session.get(f"{host.base_url}/api/nowhere") as response:
            assert response.status == 404
        async with session.get(f"{host.base_url}/echo/z") as response:
            assert response.status == 404  # outside the route prefix

    run(scenario)


def test_function_key_is_required_for_function_level_only() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        target = f"{host.base_url}/api/start/timer_only"
        async with session.post(target, json=1) as response:
            assert response.status == 401
        async with session.post(target, params={"code": "wrong"}, json=1) as response:
            assert response.status == 401
        async with session.post(target, headers={"x-functions-key": KEY}, json=1) as response:
            assert response.status == 202
            management = await response.json()
        async with session.get(management["statusQueryGetUri"].replace(f"code={KEY}", "code=nope")) as response:
            assert response.status == 401  # the webhook API needs the key too
        async with session.get(management["statusQueryGetUri"]) as response:
            assert response.status in (200, 202)
        async with session.get(f"{host.base_url}/api/status/{management['id']}") as response:
            assert response.status == 200  # anonymous

    run(scenario)


def test_an_exception_in_a_function_answers_500() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        async with session.get(f"{host.base_url}/api/boom") as response:
            assert response.status == 500
        async with session.get(f"{host.base_url}/api/echo/still-serving") as response:
            assert response.status == 200

    run(scenario)


def test_start_raise_complete_writes_durable_history() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        status, management = await start(host, session, "wait_for_events", {"who": "Ann", "timeout": 600})
        assert status == 202
        instance_id = management["id"]
        assert management["statusQueryGetUri"].startswith(f"{host.base_url}/runtime/webhooks/durabletask/")
        await _until(lambda: (host.instance_status(instance_id) or {}).get("customStatus") == {"stage": "waiting"})
        async with session.post(f"{host.base_url}/api/raise/{instance_id}/approve", json={"ok": True}) as response:
            assert response.status == 202
        final = await host.wait_for_instance(instance_id, timeout=10)
        assert final["runtimeStatus"] == "Completed"
        # The SDK sends event data as JSON text, and the orchestrator receives it as such (a known SDK trap).
        assert final["output"] == {"greeting": "Hello Ann", "approved": json.dumps({"ok": True})}
        assert raw_types(host, instance_id) == [
            "OrchestratorStarted", "ExecutionStarted", "TaskScheduled", "OrchestratorCompleted",
            "OrchestratorStarted", "TaskCompleted", "TimerCreated", "OrchestratorCompleted",
            "OrchestratorStarted", "EventRaised", "ExecutionCompleted", "OrchestratorCompleted",
        ]
        raw = host.engine.get(instance_id).history
        assert raw[1]["Name"] == "wait_for_events" and raw[1]["Version"] == ""
        assert raw[5]["TaskScheduledId"] == raw[2]["EventId"] == 0
        assert raw[6]["EventId"] == 1 and "FireAt" in raw[6]
        assert raw[9]["Name"] == "approve"
        assert raw[10]["OrchestrationStatus"] == 1
        assert all({"EventId", "IsPlayed", "Timestamp"} <= event.keys() for event in raw)
        # The status API folds scheduling events away, as the extension does; read it through the SDK.
        sdk_status = await client_for(host).get_status(instance_id, show_history=True, show_history_output=True)
        events = sdk_status.historyEvents
        assert [e["EventType"] for e in events] == [
            "ExecutionStarted", "TaskCompleted", "TimerCreated", "EventRaised", "ExecutionCompleted"]
        assert events[1]["FunctionName"] == "greet" and events[1]["Result"] == "Hello Ann"
        assert events[4]["OrchestrationStatus"] == "Completed"
        assert sdk_status.runtime_status == df.OrchestrationRuntimeStatus.Completed
        async with session.get(f"{host.base_url}/durabletask/instances/{instance_id}") as response:
            assert response.status == 200
            assert "historyEvents" not in await response.json()

    run(scenario)


def test_event_raised_before_the_orchestrator_waits_is_kept() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        _, management = await start(host, session, "slow_then_wait", {"sleep": 0.5})
        instance_id = management["id"]
        async with session.post(f"{host.base_url}/api/raise/{instance_id}/early", json="first") as response:
            assert response.status == 202
        final = await host.wait_for_instance(instance_id, timeout=10)
        assert final["runtimeStatus"] == "Completed"
        assert final["output"] == json.dumps("first")
        types = raw_types(host, instance_id)
        assert types.index("EventRaised") < types.index("TaskCompleted")

    run(scenario, time_scale=1.0)


def test_timers_are_accelerated_by_time_scale() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        began = time.monotonic()
        _, management = await start(host, session, "timer_only", 30)
        final = await host.wait_for_instance(management["id"], timeout=10)
        elapsed = time.monotonic() - began
        assert final["output"] == "fired"
        assert 0.25 <= elapsed < 5  # 30 s at 0.01
        raw = host.engine.get(management["id"]).history
        started = isoparse(raw[0]["Timestamp"])
        created = next(e for e in raw if _type_name(e["EventType"]) == "TimerCreated")
        fired = next(e for e in raw if _type_name(e["EventType"]) == "TimerFired")
        assert abs(isoparse(created["FireAt"]) - started - timedelta(seconds=30)) < timedelta(seconds=1)
        assert fired["FireAt"] == created["FireAt"] and fired["TimerId"] == created["EventId"]
        # The orchestration's clock is not behind the timer it waited for.
        last_started = [e for e in raw if _type_name(e["EventType"]) == "OrchestratorStarted"][-1]
        assert isoparse(last_started["Timestamp"]) >= isoparse(created["FireAt"])

    run(scenario)


def test_call_activity_with_retry_is_retried_by_the_host() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        key = uuid.uuid4().hex
        _, management = await start(host, session, "retrying",
                                    {"key": key, "fail_times": 2, "attempts": 3, "interval_ms": 5000})
        final = await host.wait_for_instance(management["id"], timeout=10)
        assert final["runtimeStatus"] == "Completed", final["output"]
        assert final["output"] == "ok after 3"
        assert attempts_for(key) == 3
        assert [t for t in raw_types(host, management["id"]) if not t.startswith("Orchestrator")] == [
            "ExecutionStarted", "TaskScheduled", "TaskFailed", "TimerCreated", "TimerFired",
            "TaskScheduled", "TaskFailed", "TimerCreated", "TimerFired", "TaskScheduled", "TaskCompleted",
            "ExecutionCompleted"]

        exhausted = uuid.uuid4().hex
        _, management = await start(host, session, "retrying",
                                    {"key": exhausted, "fail_times": 9, "attempts": 2, "interval_ms": 1000})
        final = await host.wait_for_instance(management["id"], timeout=10)
        assert final["runtimeStatus"] == "Failed"
        assert "flaky attempt 2 failed" in final["output"]
        assert attempts_for(exhausted) == 2

    run(scenario)


def test_non_running_states_refuse_a_running_id_and_allow_a_finished_one() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        instance_id = f"fixed-{uuid.uuid4().hex}"
        status, _ = await start(host, session, "wait_for_events", {"timeout": 600}, instance_id)
        assert status == 202
        status, body = await start(host, session, "wait_for_events", {"timeout": 600}, instance_id)
        assert status == 409 and "already exists" in body["error"]
        async with session.post(f"{host.base_url}/api/raise/{instance_id}/approve", json=1) as response:
            assert response.status == 202
        await host.wait_for_instance(instance_id, timeout=10)
        status, _ = await start(host, session, "timer_only", 1, instance_id)
        assert status == 202
        final = await host.wait_for_instance(instance_id, timeout=10)
        assert final["name"] == "timer_only" and final["output"] == "fired"
        assert raw_types(host, instance_id).count("ExecutionStarted") == 1  # a fresh history

    run(scenario)


def test_any_state_allows_restarting_a_running_id() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        instance_id = f"any-{uuid.uuid4().hex}"
        assert (await start(host, session, "wait_for_events", {"timeout": 600}, instance_id))[0] == 202
        assert (await start(host, session, "timer_only", 1, instance_id))[0] == 202
        assert (await host.wait_for_instance(instance_id, timeout=10))["output"] == "fired"

    run(scenario, config=HostConfig(overridable_existing_instance_states="AnyState"))


def test_terminate_and_events_on_ended_or_unknown_instances() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        _, management = await start(host, session, "wait_for_events", {"timeout": 600})
        instance_id = management["id"]
        await host.wait_for_instance(instance_id, statuses=("Running",), timeout=5)
        terminate = management["terminatePostUri"].replace("{text}", "caller%20hung%20up")
        async with session.post(terminate) as response:
            assert response.status == 202
        final = await host.wait_for_instance(instance_id, timeout=10)
        assert final["runtimeStatus"] == "Terminated"
        assert final["output"] == "caller hung up"
        assert raw_types(host, instance_id)[-3:] == ["ExecutionTerminated", "ExecutionCompleted",
                                                     "OrchestratorCompleted"]
        async with session.post(terminate) as response:
            assert response.status == 410
        client = client_for(host)
        await client.terminate(instance_id, "again")  # the SDK accepts 410 for terminate
        async with session.post(f"{host.base_url}/api/raise/{instance_id}/approve", json=1) as response:
            assert response.status == 404 and "is gone" in (await response.json())["error"]
        async with session.post(f"{host.base_url}/api/raise/no-such-instance/approve", json=1) as response:
            assert "No instance with ID" in (await response.json())["error"]
        async with session.post(f"{host.base_url}/durabletask/instances/{instance_id}/raiseEvent/x",
                                data="1", headers={"Content-Type": "text/plain"}) as response:
            assert response.status == 410

    run(scenario)


def test_purge_one_and_by_filter() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        client = client_for(host)
        running = await client.start_new("wait_for_events", None, {"timeout": 600})
        done = await client.start_new("timer_only", None, 1)
        await host.wait_for_instance(done, timeout=10)
        async with session.delete(f"{host.base_url}/durabletask/instances/{running}") as response:
            assert response.status == 412
        assert (await client.purge_instance_history(done)).instances_deleted == 1
        assert host.instance_status(done) is None
        assert not await client.get_status(done)
        assert (await client.purge_instance_history(done)).instances_deleted == 0
        since = datetime.now(UTC) - timedelta(minutes=1)
        more = [await client.start_new("timer_only", None, 1) for _ in range(3)]
        for instance_id in more:
            await host.wait_for_instance(instance_id, timeout=10)
        result = await client.purge_instance_history_by(
            created_time_from=since, runtime_status=[df.OrchestrationRuntimeStatus.Completed])
        assert result.instances_deleted == 3
        assert host.instance_status(running) is not None  # running instances are never purged
        await client.terminate(running, "cleanup")

    run(scenario)


def test_status_by_lists_with_filters() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        client = client_for(host)
        before = datetime.now(UTC) - timedelta(seconds=1)
        prefix = f"list-{uuid.uuid4().hex[:8]}-"
        waiting = [await client.start_new("wait_for_events", f"{prefix}w{i}", {"timeout": 600}) for i in range(2)]
        finished = [await client.start_new("timer_only", f"{prefix}f{i}", 1) for i in range(3)]
        for instance_id in finished:
            await host.wait_for_instance(instance_id, timeout=10)
        completed = await client.get_status_by(created_time_from=before,
                                               runtime_status=[df.OrchestrationRuntimeStatus.Completed])
        assert sorted(s.instance_id for s in completed) == sorted(finished)
        running = await client.get_status_by(runtime_status=[df.OrchestrationRuntimeStatus.Running,
                                                             df.OrchestrationRuntimeStatus.Pending])
        assert sorted(s.instance_id for s in running) == sorted(waiting)
        future = await client.get_status_by(created_time_from=datetime.now(UTC) + timedelta(hours=1))
        assert future == []
        assert len(await client.get_status_by(instance_id_prefix=prefix)) == 5
        assert {s.instance_id for s in await client.get_status_all()} >= set(waiting + finished)
        async with session.get(f"{host.base_url}/durabletask/instances/", params={"top": "2"}) as response:
            assert len(await response.json()) == 2
            assert response.headers["x-ms-continuation-token"] == "2"

    run(scenario)


def test_status_list_pages_at_100_like_the_extension() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        client = client_for(host)
        prefix = f"page-{uuid.uuid4().hex[:8]}-"
        started = [await client.start_new("timer_only", f"{prefix}{i:03d}", 1) for i in range(130)]
        url = f"{host.base_url}/durabletask/instances/"
        async with session.get(url, params={"instanceIdPrefix": prefix}) as response:
            first = [item["instanceId"] for item in await response.json()]
            token = response.headers["x-ms-continuation-token"]
        assert len(first) == 100 and token  # a page of 100 by default, a token for the rest
        async with session.get(url, params={"instanceIdPrefix": prefix},
                               headers={"x-ms-continuation-token": token}) as response:
            rest = [item["instanceId"] for item in await response.json()]
            assert response.headers["x-ms-continuation-token"] == ""  # present, empty on the last page
        assert first + rest == sorted(started)  # Azure Storage's order: by instance id
        # The SDK's get_status_by ignores the token: one page, the rest silently missing.
        assert len(await client.get_status_by(instance_id_prefix=prefix)) == 100

    run(scenario)


def test_orchestrator_failure_is_recorded() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        _, management = await start(host, session, "failing")
        final = await host.wait_for_instance(management["id"], timeout=10)
        assert final["runtimeStatus"] == "Failed"
        assert final["output"] == "Orchestrator function 'failing' failed: orchestrator gave up"
        async with session.get(management["statusQueryGetUri"]) as response:
            assert response.status == 200
        async with session.get(management["statusQueryGetUri"] + "&returnInternalServerErrorOnFailure=true") as r:
            assert r.status == 500

    run(scenario)


def test_fifty_concurrent_instances() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        starts = await asyncio.gather(*(start(host, session, "wait_for_events", {"who": str(i), "timeout": 600})
                                        for i in range(50)))
        assert all(status == 202 for status, _ in starts)
        ids = [management["id"] for _, management in starts]
        assert len(set(ids)) == 50

        async def approve(index: int, instance_id: str) -> int:
            async with session.post(f"{host.base_url}/api/raise/{instance_id}/approve", json=index) as response:
                return response.status

        assert await asyncio.gather(*(approve(i, iid) for i, iid in enumerate(ids))) == [202] * 50
        finals = await asyncio.gather(*(host.wait_for_instance(iid, timeout=30) for iid in ids))
        for index, final in enumerate(finals):
            assert final["output"] == {"greeting": f"Hello {index}", "approved": json.dumps(index)}

    run(scenario)


def test_run_in_thread_serves_sync_callers() -> None:
    with DevHost(app, function_key=KEY, time_scale=0.01).run_in_thread() as handle:
        request = urllib.request.Request(f"{handle.base_url}/api/start/timer_only?code={KEY}", data=b"1",
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            instance_id = json.loads(response.read())["id"]
        assert handle.wait_for_instance(instance_id, timeout=10)["output"] == "fired"
        assert handle.instance_status(instance_id)["runtimeStatus"] == "Completed"
        assert handle.instance_status("missing") is None


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


assert sample_durable_app.app is app


def test_sub_orchestration_and_continue_as_new() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        _, management = await start(host, session, "parent")
        final = await host.wait_for_instance(management["id"], timeout=10)
        assert final["runtimeStatus"] == "Completed", final["output"]
        assert final["output"] == ["fired", 3]
        assert [t for t in raw_types(host, management["id"]) if t.startswith("SubOrchestration")] == [
            "SubOrchestrationInstanceCreated", "SubOrchestrationInstanceCompleted"] * 2
        child = host.instance_status(f"{management['id']}-counter")
        assert child is not None and child["runtimeStatus"] == "Completed" and child["output"] == 3
        # Only the last execution's history is kept.
        assert raw_types(host, f"{management['id']}-counter").count("ExecutionStarted") == 1

    run(scenario)


def test_trigger_names_override_function_names() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        status, management = await start(host, session, "named_orchestration", "quiet")
        assert status == 202
        assert (await host.wait_for_instance(management["id"], timeout=10))["output"] == "QUIET"
        _, body = await start(host, session, "renamed", "x")
        assert "doesn't exist" in body["error"]  # the SDK's exception for the host's 400
        async with session.post(f"{host.base_url}/durabletask/orchestrators/renamed", json="x") as response:
            assert response.status == 400
            assert "doesn't exist" in (await response.json())["ExceptionMessage"]

    run(scenario)


def test_one_instance_replays_one_episode_at_a_time_while_instances_run_concurrently() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        client = client_for(host)
        ids = [await client.start_new("tick_counter", None, 10) for _ in range(3)]
        await asyncio.gather(*(client.raise_event(iid, "tick", 1) for iid in ids for _ in range(10)))
        finals = await asyncio.gather(*(host.wait_for_instance(iid, timeout=20) for iid in ids))
        assert [f["output"] for f in finals] == [10, 10, 10]
        assert all(sample_durable_app.max_replays_in_flight[iid] == 1 for iid in ids)
        assert sample_durable_app.max_replays_in_flight["*"] > 1

    run(scenario)


def test_raise_event_needs_json_content() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        instance_id = await client_for(host).start_new("wait_for_events", None, {"timeout": 600})
        url = f"{host.base_url}/durabletask/instances/{instance_id}/raiseEvent/approve"
        async with session.post(url, data="yes", headers={"Content-Type": "text/plain"}) as response:
            assert response.status == 400
        async with session.post(url, data="{not json", headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
        async with session.post(url, json="yes") as response:
            assert response.status == 202
        # Posted once-encoded (not through the SDK, which encodes twice), so the orchestrator gets the value itself.
        assert (await host.wait_for_instance(instance_id, timeout=10))["output"]["approved"] == "yes"

    run(scenario)


def test_call_sub_orchestrator_with_retry_restarts_the_failed_child() -> None:
    async def scenario(host: DevHost, session: aiohttp.ClientSession) -> None:
        key = uuid.uuid4().hex
        _, management = await start(host, session, "parent_with_retry", {"key": key, "fail_times": 2})
        final = await host.wait_for_instance(management["id"], timeout=10)
        assert final["runtimeStatus"] == "Completed", final["output"]
        assert final["output"] == "ok after 3"
        assert [t for t in raw_types(host, management["id"]) if t.startswith(("SubOrchestration", "Timer"))] == [
            "SubOrchestrationInstanceCreated", "SubOrchestrationInstanceFailed", "TimerCreated", "TimerFired"] * 2 \
            + ["SubOrchestrationInstanceCreated", "SubOrchestrationInstanceCompleted"]

    run(scenario)
