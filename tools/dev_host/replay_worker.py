"""Orchestrator replays in processes of their own: the Durable group of a Flex Consumption app, in miniature.

On Flex Consumption (the plan infra/ deploys) functions scale in groups: the HTTP triggers run on the "http"
group's instances and every Durable trigger (orchestration, activity, entity) on the "durable" group's, so an
IncomingCall's HTTP function never shares a CPU or a GIL with the replays of the calls already answered
(Microsoft Learn, "Azure Functions Flex Consumption plan hosting", Per-function scaling). In one dev host
process they share both, and under a burst the replays take most of the GIL. `DevHost(replay_processes=N)`
(`python -m tools.dev_host --replay-processes N`) runs the replays in N spawned processes instead, each of
which imports the app itself, as a worker would. Known difference: the activities still run in the dev host's
own process, where the real durable group runs them beside the replays.

`replay` is the pure work of one episode (the SDK's replay, then the extension's replay of its answer), the
same in a thread of the dev host and in a worker process; `replay_by_name` is its entry in a worker process.
"""

from __future__ import annotations

import json
from typing import Any

from . import extension_replay
from .episode import SdkAnswer
from .functions import FunctionIndex, index_functions, run_orchestrator

_worker_index: FunctionIndex | None = None


def replay(context_param: str, handle: Any, context: dict[str, Any], history: list[dict[str, Any]] | None) -> SdkAnswer:
    """The SDK's replay, then (given the history) the extension's replay of its answer; pure."""
    state = json.loads(run_orchestrator(context_param, handle, json.dumps(context)))
    try:
        replayed = extension_replay.replay(history, state) if history is not None else None
    except Exception:  # noqa: BLE001 - a dev host bug, not the orchestrator's: the loop replays again and reports it
        replayed = None
    return SdkAnswer(state, replayed=replayed)


def load_app(app_spec: str, log_level: str) -> None:
    """A worker process's initializer: import the app, as the worker does at start (settings from the environment
    the dev host passed on)."""
    global _worker_index
    from .__main__ import configure_logging
    from .__main__ import load_app as import_app  # the CLI's own loader: module[:attribute] from the working dir

    configure_logging(log_level, " [replay worker]")
    _worker_index = index_functions(import_app(app_spec))


def ready() -> bool:
    """Submitted once at start-up, so that the first call's replay does not wait for the process to spawn."""
    return _worker_index is not None


def replay_by_name(orchestrator: str, context: dict[str, Any], history: list[dict[str, Any]] | None) -> SdkAnswer:
    if _worker_index is None:
        raise RuntimeError("the replay worker has not loaded the app")
    context_param, handle = _worker_index.orchestrators[orchestrator]
    return replay(context_param, handle, context, history)
