"""run_scenario: place one scripted call against an events endpoint (a local `func start` or a test
stand-in) with an AcsSimulatorServer playing ACS. Event Grid handshake, IncomingCall delivery, then the
call engine; returns a ScenarioResult."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tools.acs_simulator import event_grid_events as eg
from tools.acs_simulator.call_engine import CallEngine
from tools.acs_simulator.callback_sender import CallbackSender, post_json
from tools.acs_simulator.masking import mask_text
from tools.acs_simulator.results import HttpDelivery, RequestSigner, ScenarioResult
from tools.acs_simulator.scenario import Scenario
from tools.acs_simulator.server import AcsSimulatorServer

EMAIL_POLL_S = 0.1


def _apply_faults(scenario: Scenario, simulator: AcsSimulatorServer) -> None:
    for operation, fault in (("answer", scenario.faults.answer), ("email", scenario.faults.email)):
        if fault is not None:
            simulator.faults.fail_next(operation, status=fault.status, times=fault.times,
                                       retry_after=fault.retry_after_s)


async def _validate(session: aiohttp.ClientSession, events_url: str, result: ScenarioResult,
                    clock: Callable[[], float]) -> bool:
    code, validation = eg.subscription_validation(events_url)
    status, body, error = await post_json(session, events_url, validation, dict(eg.VALIDATION_HEADERS))
    result.events.append(HttpDelivery("SubscriptionValidation", str(validation[0]["id"]), events_url, status,
                                      error, clock()))
    result.validation_ok = eg.validation_succeeded(code, status or 0, body)
    if not result.validation_ok:
        result.errors.append(f"subscription validation failed: status {status} {error}".strip())
    return result.validation_ok


async def _deliver_incoming_call(session: aiohttp.ClientSession, scenario: Scenario, events_url: str,
                                 offered_event: list[dict[str, object]], result: ScenarioResult,
                                 clock: Callable[[], float]) -> None:
    result.timings["incoming_sent"] = clock()
    # Event Grid delivers at least once: duplicates of one event carry the same id, possibly at once.
    deliveries = await asyncio.gather(*(
        post_json(session, events_url, offered_event, dict(eg.NOTIFICATION_HEADERS))
        for _ in range(scenario.incoming_call_deliveries)))
    for status, _, error in deliveries:
        result.incoming_call_statuses.append(status)
        result.events.append(HttpDelivery("IncomingCall", str(offered_event[0]["id"]), events_url, status, error,
                                          clock()))


async def wait_for_emails(simulator: AcsSimulatorServer, before: int, expected: int, wait_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while len(simulator.emails) - before < expected and loop.time() < deadline:
        await asyncio.sleep(EMAIL_POLL_S)


def scenario_clock(progress: Callable[[str], None] | None
                   ) -> tuple[Callable[[], float], Callable[[str], None]]:
    """Seconds since the scenario began, and a progress line stamped with them (numbers masked)."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    def clock() -> float:
        return round(loop.time() - started, 3)

    def say(message: str) -> None:
        if progress is not None:
            progress(f"[{clock():7.2f}s] {mask_text(message)}")

    return clock, say


async def run_scenario(
    scenario: Scenario,
    *,
    events_url: str,
    simulator: AcsSimulatorServer,
    progress: Callable[[str], None] | None = None,
    signer: RequestSigner | None = None,
    audio_base_dir: Path | None = None,
) -> ScenarioResult:
    """Place one call. `simulator` must be started; the application under test must use
    `simulator.endpoint` and its access key for Call Automation and Email."""
    if scenario.outbound is not None:
        raise ValueError(f"{scenario.name} is an outbound call: play it with outbound_engine.run_outbound_scenario")
    clock, say = scenario_clock(progress)

    result = ScenarioResult(scenario=scenario.name)
    _apply_faults(scenario, simulator)
    emails_before = len(simulator.emails)
    offered = simulator.offer_call(scenario.caller, scenario.callee, scenario.caller_display_name, managed=True)
    event = eg.incoming_call(offered, event_id=str(uuid.uuid4()))
    say(f"scenario {scenario.name}: call from {scenario.caller} to {scenario.callee}")
    async with aiohttp.ClientSession() as session:
        callbacks = CallbackSender(session, clock, signer=signer, duplicate=scenario.faults.duplicate_callbacks,
                                   reorder=scenario.faults.reorder_callbacks)
        engine = CallEngine(scenario=scenario, simulator=simulator, offered=offered, callbacks=callbacks,
                            result=result, clock=clock, progress=say, signer=signer, audio_base_dir=audio_base_dir)
        simulator.add_observer(engine.observe)
        try:
            if await _validate(session, events_url, result, clock):
                # The engine runs while IncomingCall is delivered: an app answers inside that request.
                call = asyncio.create_task(engine.run())
                await _deliver_incoming_call(session, scenario, events_url, event, result, clock)
                say(f"IncomingCall delivered x{scenario.incoming_call_deliveries}: "
                    f"statuses {result.incoming_call_statuses}")
                await call
            else:
                result.ended_by = "validation_failed"
                say("Event Grid validation failed; no call placed")
        finally:
            simulator.remove_observer(engine.observe)
            with contextlib.suppress(Exception):
                await callbacks.close()
        result.callbacks = list(callbacks.deliveries)
    result.answer_statuses = [r.status for r in simulator.requests_for("answer")
                              if isinstance(r.json, dict)
                              and r.json.get("incomingCallContext") == offered.incoming_call_context]
    if scenario.expect_emails and result.validation_ok:
        say(f"waiting up to {scenario.email_wait_s:.0f}s for {scenario.expect_emails} email(s)")
        await wait_for_emails(simulator, emails_before, scenario.expect_emails, scenario.email_wait_s)
    result.emails = list(simulator.emails[emails_before:])
    result.timings["done"] = clock()
    say(f"done: ended_by={result.ended_by} callbacks={len(result.callbacks)} "
        f"frames sent/received={result.media.frames_sent}/{result.media.frames_received} "
        f"emails={len(result.emails)}")
    return result
