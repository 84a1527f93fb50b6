"""A local stand-in for the Azure Functions host with Durable Functions, for development and tests.

`func start` (Azure Functions Core Tools) cannot be installed here; production runs on Azure Functions with the
Durable extension. This host runs a Python v2 `FunctionApp`/`DFApp` in-process and imitates what the app can
observe of the real host, using the real Durable SDK for replay.

    python -m tools.dev_host [--app function_app[:app]] [--port 7071] [--time-scale 1.0] [--function-key K]

    async with DevHost(app, function_key="k", time_scale=0.01) as host:      # port 0: any free port
        ...  # HTTP to host.base_url; then
        status = await host.wait_for_instance(instance_id, timeout=10)     # the status JSON, with history

    with DevHost(app).run_in_thread() as handle:                              # for synchronous callers
        handle.wait_for_instance(instance_id, timeout=10)

Faithful (checked against the extension's HttpApiHandler / DurableClient / OutOfProcOrchestrationShim sources,
DTFx's RetryInterceptor and the SDK):
- HTTP functions served from their own bindings (route templates, methods, auth level) under /{routePrefix}
  (host.json); durable client bindings point at this host's `rpcBaseUrl`; exceptions become 500 and are logged.
  Activities and orchestrators are named by their trigger's `activity` / `orchestration` when set, else by the
  function name. The CLI exports local.settings.json `Values` not already in the environment, as `func start`.
- Orchestrator invocations get the extension's context JSON (history with IsPlayed, `input` decoded once,
  upperSchemaVersion 1 / upperSchemaVersionNew 2, Azure Storage's long-timer settings); a failed orchestration's
  output is "Orchestrator function '<name>' failed: <message>", as the shim writes it.
- Durable HTTP/RPC API: start (202 + management payload; 400 unknown orchestrator; 409 by
  overridableExistingInstanceStates), status (202 running / 200 ended / 404; showHistory, showHistoryOutput,
  showInput; `historyEvents` transformed as the extension does), list with filters and paging, raiseEvent
  (202; 404 unknown; 410 Gone for an ended instance, which the SDK turns into an exception), terminate
  (202/404/410), purge by id (200/404/412) and by filter (200/404), restart.
- Orchestrators replay through the SDK with DTFx-shaped history; CallActivityWithRetry and
  CallSubOrchestratorWithRetry are retried by the host (timer after each failure, as DTFx's RetryInterceptor;
  the timer after the last attempt is due at once, RetryInterceptor.cs `Invoke` L74-81), not by the SDK;
  events raised before the orchestrator waits stay in history and the SDK buffers them.
- Extension-style replay (on by default; `extension_replay=False` / `--sdk-task-ids` turn it off): after each
  episode the SDK's action list is replayed as OutOfProcOrchestrationShim.cs `ProcessAsyncActionsV2` (L199-219)
  and DTFx do (extension_replay.py): actions awaited in turn, cancelled timers completing at once, newest-first
  event waiters plus the buffer (DurableOrchestrationContext.cs L849-970), retry ids assigned when TaskFailed /
  TimerFired replay. That replay, not the SDK, decides task ids and new work; a mismatch with history fails the
  instance with "Non-Deterministic workflow detected: ..." (TaskOrchestrationContext.cs L327-389,
  TaskOrchestrationExecutor.cs L206-209); a timer whose FireAt moved is flagged (`replay_flags`); the instance
  completes only when C# has awaited every action and no task is open (TaskOrchestrationExecutor.cs L179).
- Status list: pages of 100 unless `top` says otherwise, `x-ms-continuation-token` both ways and always in the
  response (HttpApiHandler.cs L485-509, OrchestrationStatusQueryCondition.cs L64), in instance-id order as
  Azure Storage returns rows.
- Opt-in `replay_processes=N` (`--replay-processes N`, with `app_spec`): orchestrator replays run in N spawned
  processes that import the app, as a Flex Consumption app runs its Durable triggers on the "durable" group's
  instances, apart from the "http" group's (Microsoft Learn, Flex Consumption plan hosting, Per-function scaling).
  The activities stay in the dev host's process (replay_worker.py).
- Opt-in `non_atomic_start=True`: for 1 s after a start, a second start of the id also answers 202 and is
  dropped, and the status API does not see the instance yet (DTFx AzureStorageOrchestrationService.cs
  `CreateTaskOrchestrationAsync` L1752-1797, AzureTableTrackingStore.cs `SetNewExecutionAsync` L813-827).

Deviations (known):
- State is in memory only: a restart loses every instance; no task hub storage, no Azurite use.
- One message per episode: Durable may batch several messages into one replay; the outcome is the same but
  the history has more OrchestratorStarted/Completed pairs.
- Timers: `time_scale` multiplies real delays (0.01 fires a 60 s timer after 0.6 s). FireAt keeps the
  orchestration's time, and when a timer fires the instance's clock jumps to FireAt, so the next
  OrchestratorStarted (`current_utc_datetime`) is never before it; that clock can run ahead of the wall clock.
- Keys: one key serves as function, host and system key (Azure has separate keys); Core Tools enforces no key
  at all locally, this host does, for FUNCTION and ADMIN levels alike. /durabletask/ (the SDK's RPC base) shares
  the public port but only answers loopback clients.
- HTTP functions get their httpTrigger request, durableClient binding and `context`; other input/output
  bindings (blob, queue, ...) are not bound. Method mismatch answers 404 (route not found); an HTTP function
  returning None answers 204, a str 200.
- Activity failures: Reason is "Activity function '<name>' failed: <Type>: <message>", Details the traceback;
  the real host's wording differs. An unknown activity fails its task (the real host fails the orchestration).
- Sub-orchestrations without an instance id get "<parent id>:<task id>" (the real host generates another form).
- Extension-style replay, not modelled: long timers (> 6 days, DurableOrchestrationContext.cs CreateTimer
  L345-398, split into 3-day steps in C#), entities, call_http, RetryOptions' handle/timeout
  (RetryInterceptor.cs ComputeNextDelay L103-130: only the interval, backoff coefficient and attempts), the
  schema V1 action loop (OutOfProcOrchestrationShim.cs ProcessAsyncActionsV1 L250-279), an SDK error raised
  after a replay that never finishes (ScheduleDurableTaskEvents L83-91: production would hang, the dev host
  fails at once), and several messages in one episode (TaskOrchestrationExecutor.cs L169-174).
- The non-atomic start race is a fixed 1 s window (the real one is the time between the status read and the
  row insert); the extra start is dropped at once rather than by the dispatcher later.
- Not supported: entities (call/signal_entity fail the orchestration), call_http, suspend/resume/rewind
  (501), other trigger types (listed at start, not served), extended sessions, the gRPC protocol.
- The SDK's aiohttp session is process-global: run one DevHost per process at a time.
"""

from __future__ import annotations

from .server import DevHost, DevHostThread

__all__ = ["DevHost", "DevHostThread"]
