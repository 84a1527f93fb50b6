"""The ring deadline against an answer the REST API already took: the call engine hears of an answer after the REST
thread has registered it, so a deadline due in between must not drop a call whose answer got a 200 (a silent
miss under a burst), and a late answer is refused as ACS refuses it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from azure.communication.callautomation import CallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.call_engine import CallEngine
from tools.acs_simulator.callback_sender import CallbackSender
from tools.acs_simulator.results import ScenarioResult
from tools.acs_simulator.scenario import load_scenario

ACCESS_KEY = "c2ltdWxhdG9yLWtleQ=="
CALLER = "+14255550100"
CALLEE = "+18005550199"
DEADLINE_S = 0.2


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


def _client(simulator: AcsSimulatorServer) -> CallAutomationClient:
    return CallAutomationClient(simulator.endpoint, AzureKeyCredential(ACCESS_KEY))


async def _ring(simulator: AcsSimulatorServer, answer_after_s: float,
                publish_delay_s: float) -> tuple[ScenarioResult, bool, tuple[float, float]]:
    """One ringing call that the app answers after `answer_after_s`; the REST thread takes `publish_delay_s` more
    to tell the engine (a busy process). Returns the engine's result, whether the answer request succeeded, and
    the scenario clock around that request."""
    scenario = dataclasses.replace(load_scenario("happy_path"), answer_timeout_s=DEADLINE_S)
    offered = simulator.offer_call(CALLER, CALLEE, managed=True)
    result = ScenarioResult(scenario=scenario.name)
    loop = asyncio.get_running_loop()
    started = loop.time()

    def clock() -> float:
        return loop.time() - started

    def answer() -> bool:
        try:
            _client(simulator).answer_call(offered.incoming_call_context, "http://127.0.0.1:9/cb")
            return True
        except HttpResponseError:
            return False

    async with aiohttp.ClientSession() as session:
        callbacks = CallbackSender(session, clock)
        engine = CallEngine(scenario=scenario, simulator=simulator, offered=offered, callbacks=callbacks,
                            result=result, clock=clock, progress=lambda _: None, signer=None, audio_base_dir=None)
        # Observers run in order on the REST thread, after the answer is registered and before the engine hears.
        simulator.add_observer(lambda _: time.sleep(publish_delay_s))
        simulator.add_observer(engine.observe)
        run = asyncio.create_task(engine.run())
        try:
            await asyncio.sleep(answer_after_s)
            asked = clock()
            answered = await asyncio.to_thread(answer)
            returned = clock()
            for _ in range(100):
                if result.connected or run.done():
                    break
                await asyncio.sleep(0.02)
        finally:
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            simulator.remove_observer(engine.observe)
            await callbacks.close()
    return result, answered, (asked, returned)


def test_an_answer_taken_before_the_deadline_connects_though_the_engine_sees_it_late(
        simulator: AcsSimulatorServer) -> None:
    result, answered, (asked, returned) = asyncio.run(_ring(simulator, answer_after_s=DEADLINE_S / 4,
                                                            publish_delay_s=DEADLINE_S * 2))

    assert answered and result.connected and result.ended_by != "never_answered"
    # When ACS took the answer, not when the engine heard of it (after the deadline).
    assert asked <= result.timings["answered"] < DEADLINE_S <= returned


def test_an_answer_after_the_deadline_is_refused_and_the_call_is_not_answered(simulator: AcsSimulatorServer) -> None:
    result, answered, _ = asyncio.run(_ring(simulator, answer_after_s=DEADLINE_S * 2, publish_delay_s=0.0))

    assert not answered  # ACS's 400: the app sees the failure and records it (answer_failed)
    assert result.ended_by == "never_answered" and not result.connected
