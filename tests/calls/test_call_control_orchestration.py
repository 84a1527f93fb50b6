"""Call control inside `call_lifecycle`, replayed through the real Durable SDK: the flow's actions run as
activities racing with events, results are matched by operation context, and every replay decides the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import pytest

from calls import call_orchestration
from shared import call_action_ledger as ledger
from shared.call_actions import CallAction, Prompt
from shared.call_flow_settings import load_call_flow_settings
from tests.calls.test_lifecycle_orchestrator import (
    EMAIL,
    HANG_UP,
    MAX_DURATION,
    SUMMARY,
    T0,
    connected_call,
    event,
    finish,
    stage,
    start_input,
    timeline_events,
)
from tests.durable_history import DurableHistory

pytestmark = pytest.mark.filterwarnings("ignore:Potential duplicate Task completion")

FLOW, ACTION = "load_call_flow", "run_call_action"


@pytest.fixture(scope="module")
def handle() -> Callable[[str], str]:
    app = df.DFApp()
    app.register_functions(call_orchestration.bp)
    functions = {function.get_function_name(): function for function in app.get_functions()}
    return functions["call_lifecycle"].get_user_function()


@pytest.fixture
def call(handle: Callable[[str], str]) -> DurableHistory:
    history = DurableHistory(handle, "call_lifecycle", "call-abc", start_input(), T0)
    history.start()
    return history


def with_flow(call: DurableHistory, **environ: str) -> DurableHistory:
    call.deliver(call.complete(FLOW, load_call_flow_settings(environ).to_dict()))
    return call


def sent_actions(call: DurableHistory) -> list[dict[str, Any]]:
    return call.scheduled_inputs(ACTION)


def accept_last(call: DurableHistory) -> dict[str, Any]:
    call.deliver(call.complete(ACTION, {"status": "accepted"}), after=0.1)
    return sent_actions(call)[-1]


def test_default_flow_sends_no_action(call: DurableHistory) -> None:
    assert call.scheduled_inputs(FLOW) == [{"instanceId": "call-abc"}]
    connected_call(with_flow(call))
    assert sent_actions(call) == [] and call.state["customStatus"]["flow"] == "listening"


def test_greeting_then_menu_then_transfer_accepted(call: DurableHistory) -> None:
    connected_call(with_flow(call, CALL_GREETING_TEXT="Welcome.", CALL_MENU_PROMPT_TEXT="Press 0.",
                             CALL_MENU_OPTIONS="0:transfer", CALL_TRANSFER_TARGET="+14255550123"))
    greeting = accept_last(call)
    assert (greeting["action"], greeting["purpose"], greeting["callConnectionId"]) == ("play", "greeting", "cc-1")
    assert greeting["prompt"]["text"] == "Welcome."
    call.deliver(event(call, "PlayCompleted", 5, operationContext=greeting["actionId"]))
    menu = accept_last(call)
    assert menu["action"] == "recognize_dtmf" and menu["actionId"] != greeting["actionId"]
    call.deliver(event(call, "RecognizeCompleted", 8, operationContext=menu["actionId"],
                       details={"dtmfTones": "0"}))
    transfer = accept_last(call)
    assert (transfer["action"], transfer["target"]) == ("transfer", "configured")
    call.deliver(event(call, "CallTransferAccepted", 9, operationContext=transfer["actionId"]))
    call.deliver(event(call, "CallTransferAccepted", 9, operationContext=transfer["actionId"]))  # twice
    assert stage(call) == ("connected", "transferred")
    call.deliver(event(call, "CallDisconnected", 10), after=1)
    call.deliver(event(call, "MediaStreamEnded", 11), after=1)
    [summary] = call.scheduled_inputs(SUMMARY)
    assert summary["outcome"] == "transferred" and call.scheduled_inputs(HANG_UP) == []
    assert timeline_events(summary).count("CallTransferAccepted") == 1
    assert "menu_choice" in timeline_events(summary)
    assert finish(call)["outcome"] == "transferred"


def test_control_api_hang_up_and_a_failed_play_with_its_code(call: DurableHistory) -> None:
    connected_call(with_flow(call))
    play = CallAction("a-1", "play", "api", prompt=Prompt(text="One moment.")).to_payload()
    call.deliver(event(call, "CallActionRequested", 4, **play))
    sent = accept_last(call)
    assert sent["actionId"] == "a-1"
    call.deliver(event(call, "PlayFailed", 5, operationContext="a-1",
                       result={"code": 400, "subCode": 8536, "message": "file could not be downloaded"}))
    call.deliver(event(call, "CallActionRequested", 6, **CallAction("a-2", "hang_up", "api").to_payload()))
    assert call.scheduled_inputs(HANG_UP) == [{"callConnectionId": "cc-1"}]
    call.deliver(call.complete(HANG_UP, {"status": "ok"}), event(call, "CallDisconnected", 7), after=1)
    call.deliver(event(call, "MediaStreamEnded", 8), after=1)
    [summary] = call.scheduled_inputs(SUMMARY)
    failed = next(entry for entry in summary["timeline"] if entry["event"] == "PlayFailed")
    assert failed["detail"].startswith("code 400, subCode 8536")
    assert summary["end_reason"] == "hang-up requested (api)"
    assert finish(call)["outcome"] == "completed" and call.scheduled_inputs(EMAIL)


def test_action_refused_by_acs_is_recorded_and_the_flow_goes_on(call: DurableHistory) -> None:
    connected_call(with_flow(call, CALL_GREETING_AUDIO_URL="https://cdn.example/hello.wav"))
    call.deliver(call.complete(ACTION, {"status": "rejected", "code": 400, "message": "bad file"}))
    status = call.state["customStatus"]
    assert (status["flow"], status["pendingActions"]) == ("listening", 0)


def test_silence_then_goodbye_then_hang_up(call: DurableHistory) -> None:
    connected_call(with_flow(call, CALLER_SILENCE_SECONDS="5"))
    call.deliver(event(call, "CallerSilence", 9, silentMs=5000, utterances=0))
    prompt = accept_last(call)
    assert prompt["purpose"] == "silence_prompt"
    call.deliver(event(call, "PlayCompleted", 10, operationContext=prompt["actionId"]))
    call.deliver(event(call, "CallerSilence", 14, silentMs=10000, utterances=0))
    goodbye = accept_last(call)
    assert goodbye["purpose"] == "goodbye" and call.scheduled_inputs(HANG_UP) == []
    call.deliver(event(call, "PlayCompleted", 15, operationContext=goodbye["actionId"]))
    assert call.scheduled_inputs(HANG_UP) == [{"callConnectionId": "cc-1"}]


def test_flow_settings_failing_for_good_leaves_the_default_flow(call: DurableHistory) -> None:
    call.fail_for_good(FLOW)
    connected_call(call)
    assert sent_actions(call) == [] and call.state["customStatus"]["flow"] == "listening"
    call.deliver(event(call, "CallDisconnected", 20), after=1)
    call.deliver(event(call, "MediaStreamEnded", 21), after=1)
    [summary] = call.scheduled_inputs(SUMMARY)
    assert "flow_settings_failed" in timeline_events(summary)


def test_a_lost_goodbye_result_still_ends_the_call(call: DurableHistory) -> None:
    connected_call(with_flow(call, CALLER_SILENCE_SECONDS="5", CALL_SILENCE_MAX_PROMPTS="0"))
    call.deliver(event(call, "CallerSilence", 9, silentMs=5000, utterances=0))
    goodbye = accept_last(call)
    assert goodbye["purpose"] == "goodbye" and call.scheduled_inputs(HANG_UP) == []
    call.advance(ledger.FLOW_RESULT_WAIT_SECONDS + 1)  # PlayCompleted never comes
    assert call.scheduled_inputs(HANG_UP) == [{"callConnectionId": "cc-1"}]
    call.deliver(event(call, "PlayCompleted", 200, operationContext=goodbye["actionId"]))  # far too late
    call.deliver(call.complete(HANG_UP, {"status": "ok"}), event(call, "CallDisconnected", 201), after=1)
    call.deliver(event(call, "MediaStreamEnded", 202), after=1)
    [summary] = call.scheduled_inputs(SUMMARY)
    assert timeline_events(summary).count("action_timed_out") == 1
    assert summary["end_reason"] == "no caller speech"
    assert call.scheduled_inputs(HANG_UP) == [{"callConnectionId": "cc-1"}]


def test_a_prompt_answered_in_time_needs_no_deadline(call: DurableHistory) -> None:
    connected_call(with_flow(call, CALL_GREETING_TEXT="Welcome."))
    greeting = accept_last(call)
    call.deliver(event(call, "PlayCompleted", 5, operationContext=greeting["actionId"]))
    call.advance(ledger.FLOW_RESULT_WAIT_SECONDS + 1)  # the old deadline's timer fires unraced: nothing happens
    assert call.state["customStatus"]["flow"] == "listening"
    assert call.timers[-1].fire_at == T0 + timedelta(seconds=3 + MAX_DURATION)  # only the call's own deadline
    assert sent_actions(call) == [greeting]
