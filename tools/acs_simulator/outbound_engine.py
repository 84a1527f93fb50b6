"""Plays the dialed party of an outbound call: the app's createCall rings them; they answer after N s, never,
or the call fails with CreateCallFailed, as the scenario's `outbound` section says. Once connected the call
runs exactly as an inbound one (the inherited CallEngine: callbacks, media, transcription, hang-ups).

`run_outbound_scenario(scenario, place=..., simulator=...)` watches for the createCall, then awaits `place()`
(which asks the application to call, e.g. `POST /api/calls`) and plays the call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from tools.acs_simulator import cloud_events as ce
from tools.acs_simulator import identifiers
from tools.acs_simulator.call_engine import CallEngine
from tools.acs_simulator.call_registry import OfferedCall
from tools.acs_simulator.callback_sender import CallbackSender
from tools.acs_simulator.records import CallOperation
from tools.acs_simulator.results import RequestSigner, ScenarioResult
from tools.acs_simulator.runner import scenario_clock, wait_for_emails
from tools.acs_simulator.scenario import OutboundScript, Scenario
from tools.acs_simulator.server import AcsSimulatorServer

CREATE_CALL_FAILED = "create_call_failed"


def _target(body: dict[str, Any]) -> str | None:
    targets = body.get("targets")
    if not isinstance(targets, list) or not targets or not isinstance(targets[0], dict):
        return None
    raw = targets[0].get("rawId")
    return raw if isinstance(raw, str) else None


class OutboundCallEngine(CallEngine):
    def __init__(self, *, scenario: Scenario, simulator: AcsSimulatorServer, callbacks: CallbackSender,
                 result: ScenarioResult, clock: Callable[[], float], progress: Callable[[str], None],
                 signer: RequestSigner | None, audio_base_dir: Path | None) -> None:
        # Until the createCall arrives there is no call: a placeholder for the party that will be dialed.
        waiting = OfferedCall(caller=scenario.callee, callee=scenario.caller, caller_display_name="",
                              server_call_id="", correlation_id="", incoming_call_context="", managed=True)
        super().__init__(scenario=scenario, simulator=simulator, offered=waiting, callbacks=callbacks,
                         result=result, clock=clock, progress=progress, signer=signer,
                         audio_base_dir=audio_base_dir)
        self._script = scenario.outbound or OutboundScript()

    def _mine(self, op: CallOperation) -> bool:
        if op.kind == "create_call":
            # The SDK sends targets with rawId (serialize_identifier); ours is the scenario's callee.
            return self._ids is None and _target(op.body) == identifiers.raw_id(self._scenario.callee)
        return super()._mine(op)

    async def run(self) -> None:
        s = self._scenario
        self._at(s.answer_timeout_s, "never_dialed")
        while True:
            kind, payload = await self._next()
            if kind == "op" and payload.kind == "create_call":
                break
            if kind == "never_dialed":
                self._result.ended_by = "never_dialed"
                self._progress("the application never placed the call")
                return
        self._timeline = []
        connection = self._simulator.call(payload.call_connection_id)
        assert connection is not None
        self._offered = connection.offered
        self._on_answered(payload)
        self._progress("ringing the dialed party")
        if self._script.fail_code is not None:
            self._at(self._script.fail_after_s, "create_failed")
        elif self._script.answer_after_s is not None:
            self._at(self._script.answer_after_s, "connect")
        self._at(s.max_wait_s, "ring_cap")  # a call nobody ends: the simulator gives up (as `max_wait` does)
        await self._call_loop()

    async def _on_timeline(self, kind: str, payload: Any) -> None:
        if kind == "create_failed":
            # CreateCallFailed carries resultInformation and the operationContext of the request
            # (generated model CreateCallFailed; Java/.NET SDK model factories); no CallDisconnected follows.
            result = ce.Result(self._script.fail_code or 0, self._script.fail_sub_code, self._script.fail_message)
            self._callback("CreateCallFailed", result, self._answer.get("operationContext"))
            self._ended_by = CREATE_CALL_FAILED
        elif kind == "ring_cap":
            if not self._result.connected:
                self._ended_by = "timeout"
        else:
            await super()._on_timeline(kind, payload)

    async def _end(self) -> None:
        if self._ended_by != CREATE_CALL_FAILED:
            await super()._end()
            return
        assert self._ids is not None
        self._result.ended_by = self._ended_by
        self._result.timings["ended"] = self._clock()
        self._simulator.set_call_state(self._ids.call_connection_id, "disconnected")
        self._progress("call failed: CreateCallFailed sent")


async def run_outbound_scenario(scenario: Scenario, *, place: Callable[[], Awaitable[object]],
                                simulator: AcsSimulatorServer, progress: Callable[[str], None] | None = None,
                                signer: RequestSigner | None = None, audio_base_dir: Path | None = None
                                ) -> tuple[ScenarioResult, object]:
    """Play one outbound call: `place()` makes the application dial; returns the result and what `place` gave."""
    clock, say = scenario_clock(progress)

    result = ScenarioResult(scenario=scenario.name, validation_ok=True)
    emails_before = len(simulator.emails)
    async with aiohttp.ClientSession() as session:
        callbacks = CallbackSender(session, clock, signer=signer, duplicate=scenario.faults.duplicate_callbacks,
                                   reorder=scenario.faults.reorder_callbacks)
        engine = OutboundCallEngine(scenario=scenario, simulator=simulator, callbacks=callbacks, result=result,
                                    clock=clock, progress=say, signer=signer, audio_base_dir=audio_base_dir)
        simulator.add_observer(engine.observe)
        try:
            call = asyncio.create_task(engine.run())
            placed = await place()
            await call
        finally:
            simulator.remove_observer(engine.observe)
            with contextlib.suppress(Exception):
                await callbacks.close()
        result.callbacks = list(callbacks.deliveries)
    await wait_for_emails(simulator, emails_before, scenario.expect_emails, scenario.email_wait_s)
    result.emails = list(simulator.emails[emails_before:])
    say(f"done: ended_by={result.ended_by} emails={len(result.emails)}")
    return result, placed
