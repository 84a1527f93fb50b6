"""The orchestration engine's asyncio shell: instance store, per-instance episode queue, activities, timers.

Decisions live in `episode`; this module only moves messages. Each instance has an inbox drained by at most one
task at a time, so one instance's episodes never overlap while different instances run concurrently.
Orchestrator replays run in a small thread pool (the SDK is synchronous), activities as the worker runs them
(async ones on this loop, sync ones in their own pool). Everything that mutates state runs on the loop thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as T

from . import history as h
from . import replay_worker
from .episode import (
    ContinuedAsNew,
    Finished,
    RunActivity,
    SdkAnswer,
    StartSubOrchestration,
    StartTimer,
    begin_episode_context,
    continue_as_new,
    finish_episode,
    new_instance,
    terminate_episode,
)
from .functions import ActivityOutcome, FunctionIndex, run_activity
from .host_config import NON_RUNNING_STATES
from .instance import Instance, InstanceQuery, ParentLink

log = logging.getLogger("dev_host")


NON_ATOMIC_START_WINDOW_S = 1.0


class UnknownOrchestratorError(ValueError):
    pass


class InstanceExistsError(Exception):
    pass


def utc_now() -> datetime:
    return datetime.now(UTC)


class OrchestrationEngine:
    def __init__(self, index: FunctionIndex, *, time_scale: float, overridable_states: str,
                 orchestrator_executor: Executor, activity_executor: Executor,
                 extension_replay: bool = True, non_atomic_start: bool = False) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._index = index
        self._time_scale = time_scale
        self._extension_replay = extension_replay
        self._non_atomic_start = non_atomic_start
        self._overridable_states = overridable_states
        self._orchestrator_executor = orchestrator_executor
        self._activity_executor = activity_executor
        self._instances: dict[str, Instance] = {}
        self._draining: set[str] = set()
        self._timers: dict[str, list[asyncio.TimerHandle]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()
        self._closed = False
        self._activity_faults: dict[str, list[str]] = {}
        self.dropped_starts = 0  # starts answered 202 and dropped in the non-atomic start mode

    # ---- client operations (the HTTP API calls these on the loop) ----

    def start(self, name: str, instance_id: str, input_json: str | None, version: str = "") -> Instance:
        if name not in self._index.orchestrators:
            raise UnknownOrchestratorError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.")
        existing = self._instances.get(instance_id)
        if existing is not None and self._in_start_race(existing):
            # Azure Storage (DTFx AzureStorageOrchestrationService.CreateTaskOrchestrationAsync L1752-1797) reads
            # the status, queues ExecutionStarted, then inserts the instance row; AzureTableTrackingStore.
            # SetNewExecutionAsync (L813-827) ignores the 409 of a concurrent insert. Both starts answer 202;
            # the dispatcher drops the second ExecutionStarted of a running instance.
            log.info("non-atomic start: a concurrent start of %s also gets 202; its ExecutionStarted is dropped",
                     instance_id)
            self.dropped_starts += 1
            return existing
        if existing is not None and existing.is_running and self._overridable_states == NON_RUNNING_STATES:
            raise InstanceExistsError(
                f"An Orchestration instance with the status {existing.runtime_status} already exists.")
        if existing is not None:
            self._cancel_timers(instance_id)
        instance = new_instance(instance_id, name, input_json, utc_now(), version=version)
        self._instances[instance_id] = instance
        self._kick(instance_id)
        self._notify()
        return instance

    def raise_event(self, instance_id: str, event_name: str, input_json: str | None) -> int:
        """202 when queued, 404 for an unknown instance, 410 when it has ended (the extension's answers)."""
        instance = self._instances.get(instance_id)
        if instance is None:
            return 404
        if not instance.is_running:
            return 410
        instance.inbox.append((None, h.event_raised(utc_now(), event_name, input_json)))
        self._kick(instance_id)
        return 202

    def terminate(self, instance_id: str, reason: str | None) -> int:
        instance = self._instances.get(instance_id)
        if instance is None:
            return 404
        if not instance.is_running:
            return 410
        message = (instance.execution_id, h.execution_terminated(utc_now(), reason))
        # Ahead of other work, but never ahead of the ExecutionStarted of an instance that has not started yet.
        position = 1 if not instance.history and instance.inbox else 0
        instance.inbox.insert(position, message)
        self._kick(instance_id)
        return 202

    def fail_activity_next(self, name: str, *, times: int = 1, error: str = "injected by the dev host") -> None:
        """A test hook: the next `times` runs of activity `name` fail (a worker crash, a transient fault)."""
        self._activity_faults.setdefault(name, []).extend([error] * times)

    def get(self, instance_id: str) -> Instance | None:
        return self._instances.get(instance_id)

    def visible(self, instance_id: str) -> Instance | None:
        """The instance as the status API sees it: in the non-atomic start mode, not before its row is written."""
        instance = self._instances.get(instance_id)
        return None if instance is not None and self._in_start_race(instance) else instance

    def _in_start_race(self, instance: Instance) -> bool:
        # The window between a start's status read and its row insert, widened to a fixed time so tests hit it.
        return (self._non_atomic_start and instance.is_running
                and (utc_now() - instance.created).total_seconds() < NON_ATOMIC_START_WINDOW_S)

    def query(self, query: InstanceQuery) -> list[Instance]:
        return sorted((i for i in self._instances.values() if query.matches(i)), key=lambda i: i.created)

    def purge(self, instance_id: str) -> int:
        """200 when deleted, 404 when unknown, 412 when it has not ended (only terminal instances are purged)."""
        instance = self._instances.get(instance_id)
        if instance is None:
            return 404
        if instance.is_running:
            return 412
        self._forget(instance_id)
        return 200

    def purge_where(self, query: InstanceQuery) -> int:
        doomed = [i.instance_id for i in self._instances.values() if not i.is_running and query.matches(i)]
        for instance_id in doomed:
            self._forget(instance_id)
        return len(doomed)

    async def wait_for(self, instance_id: str, statuses: Iterable[str], timeout: float) -> Instance:
        wanted = set(statuses)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            instance = self._instances.get(instance_id)
            if instance is not None and instance.runtime_status in wanted:
                return instance
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                status = instance.runtime_status if instance else "unknown"
                raise TimeoutError(f"instance {instance_id!r} is {status}, not in {sorted(wanted)}")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    async def close(self) -> None:
        self._closed = True
        for instance_id in list(self._timers):
            self._cancel_timers(instance_id)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- the shell ----

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self, instance_id: str) -> None:
        self._cancel_timers(instance_id)
        self._instances.pop(instance_id, None)
        self._notify()

    def _cancel_timers(self, instance_id: str) -> None:
        for handle in self._timers.pop(instance_id, []):
            handle.cancel()

    def _deliver(self, instance_id: str, execution_id: str | None, message: dict[str, Any]) -> None:
        instance = self._instances.get(instance_id)
        if instance is None or (execution_id is not None and instance.execution_id != execution_id):
            return  # the execution it belonged to was replaced or purged: DTFx drops such messages too
        instance.inbox.append((execution_id, message))
        self._kick(instance_id)

    def _kick(self, instance_id: str) -> None:
        instance = self._instances.get(instance_id)
        if self._closed or instance_id in self._draining or instance is None or not instance.inbox:
            return
        self._draining.add(instance_id)
        self._spawn(self._drain(instance_id))

    async def _drain(self, instance_id: str) -> None:
        try:
            while True:
                instance = self._instances.get(instance_id)
                if instance is None or not instance.inbox:
                    return
                execution_id, message = instance.inbox.popleft()
                if execution_id is not None and execution_id != instance.execution_id:
                    continue
                if not instance.is_running:
                    log.info("dropping %s for %s instance %s", T(message["EventType"]).name,
                             instance.runtime_status, instance_id)
                    continue
                try:
                    await self._episode(instance, message)
                except Exception:  # noqa: BLE001 - a dev host bug must not wedge the instance silently
                    log.exception("episode of %s failed inside the dev host", instance_id)
                    instance.runtime_status, instance.output_text = "Failed", "dev host error (see its log)"
                    self._cancel_timers(instance_id)
                    self._notify()
        finally:
            self._draining.discard(instance_id)
            self._kick(instance_id)  # the instance may have been replaced while this drain was busy

    async def _episode(self, instance: Instance, message: dict[str, Any]) -> None:
        execution_id = instance.execution_id
        if message["EventType"] == T.EXECUTION_TERMINATED:
            commands = terminate_episode(instance, message, utc_now())
        else:
            new_events, context = begin_episode_context(instance, message, utc_now())
            # The episode's history as finish_episode will see it (no other episode of this instance runs meanwhile).
            history = instance.history + new_events if self._extension_replay else None
            answer = await self._replay(instance, context, history)
            if self._instances.get(instance.instance_id) is not instance or instance.execution_id != execution_id:
                return  # replaced (AnyState restart) or purged while the SDK ran
            commands = finish_episode(instance, new_events, answer, utc_now(),
                                      extension_replay_on=self._extension_replay)
        for command in commands:
            self._perform(instance, command)
        self._notify()

    async def _replay(self, instance: Instance, context: dict[str, Any],
                      history: list[dict[str, Any]] | None) -> SdkAnswer:
        orchestrator = self._index.orchestrators.get(instance.name)
        if orchestrator is None:
            return SdkAnswer(None, error=f"The function '{instance.name}' doesn't exist.")
        context_param, handle = orchestrator
        loop = asyncio.get_running_loop()
        try:
            if isinstance(self._orchestrator_executor, ProcessPoolExecutor):
                # A worker process has the app imported itself: it needs only the orchestrator's name.
                return await loop.run_in_executor(
                    self._orchestrator_executor, replay_worker.replay_by_name, instance.name, context, history)
            # Both replays in the worker thread: on the loop, the extension's blocked every other request under a burst.
            return await loop.run_in_executor(
                self._orchestrator_executor, replay_worker.replay, context_param, handle, context, history)
        except Exception as exc:  # noqa: BLE001 - the orchestrator failed: the SDK encodes its state in the message
            answer = SdkAnswer.from_exception(exc)
            log.warning("orchestrator %s (%s) failed: %s", instance.name, instance.instance_id, answer.error)
            return answer

    def _perform(self, instance: Instance, command: object) -> None:
        instance_id, execution_id = instance.instance_id, instance.execution_id
        if isinstance(command, RunActivity):
            self._spawn(self._activity(instance_id, execution_id, command))
        elif isinstance(command, StartTimer):
            delay = command.delay.total_seconds() * self._time_scale
            fired = h.timer_fired
            handle = asyncio.get_running_loop().call_later(
                delay, lambda: self._deliver(instance_id, execution_id, fired(
                    max(utc_now(), command.fire_at), command.timer_id, h.format_timestamp(command.fire_at))))
            self._timers.setdefault(instance_id, []).append(handle)
        elif isinstance(command, StartSubOrchestration):
            self._start_child(instance, command)
        elif isinstance(command, ContinuedAsNew):
            self._cancel_timers(instance_id)
            continue_as_new(instance, command.input_json, utc_now())
        elif isinstance(command, Finished):
            self._cancel_timers(instance_id)
            self._notify_parent(instance)

    async def _activity(self, instance_id: str, execution_id: str, command: RunActivity) -> None:
        activity = self._index.activities.get(command.name)
        injected = self._activity_faults.get(command.name)
        if injected:
            outcome = ActivityOutcome(failure_reason=f"Activity function '{command.name}' failed: {injected.pop(0)}")
        elif activity is None:
            outcome = ActivityOutcome(failure_reason=(
                f"The function '{command.name}' doesn't exist, is disabled, or is not an activity function."))
        else:
            outcome = await run_activity(activity, command.input_json, self._activity_executor)
        if outcome.failure_reason is None:
            message = h.task_completed(utc_now(), command.task_id, outcome.result_json)
        else:
            message = h.task_failed(utc_now(), command.task_id, reason=outcome.failure_reason,
                                    details=outcome.failure_details)
        self._deliver(instance_id, execution_id, message)

    def _start_child(self, parent: Instance, command: StartSubOrchestration) -> None:
        existing = self._instances.get(command.instance_id)
        if command.name not in self._index.orchestrators or (existing is not None and existing.is_running):
            if existing is not None and command.name in self._index.orchestrators:
                reason = f"An Orchestration instance with the status {existing.runtime_status} already exists."
            else:
                reason = (f"The function '{command.name}' doesn't exist, is disabled, "
                          "or is not an orchestrator function.")
            self._deliver(parent.instance_id, parent.execution_id,
                          h.sub_orchestration_failed(utc_now(), command.task_id, reason=reason, details=None))
            return
        link = ParentLink(parent.instance_id, parent.execution_id, command.task_id)
        child = new_instance(command.instance_id, command.name, command.input_json, utc_now(), parent=link)
        self._instances[command.instance_id] = child
        self._kick(command.instance_id)

    def _notify_parent(self, instance: Instance) -> None:
        link = instance.parent
        if link is None:
            return
        if instance.runtime_status == "Completed":
            message = h.sub_orchestration_completed(utc_now(), link.task_id, instance.output_text)
        else:
            message = h.sub_orchestration_failed(
                utc_now(), link.task_id, reason=f"Sub-orchestration '{instance.name}' {instance.runtime_status}: "
                                               f"{instance.output_text}", details=None)
        self._deliver(link.instance_id, link.execution_id, message)
