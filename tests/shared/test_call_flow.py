"""shared.call_flow: greeting, menu with bounded re-prompts, transfer with fallback, silence handling."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from shared.call_action_ledger import CANCELED, COMPLETED, FAILED, Outcome
from shared.call_actions import CallAction, Prompt
from shared.call_flow import FlowState, Plan, loaded, on_outcome, on_silence, start
from shared.call_flow_settings import CallFlowSettings

MENU = CallFlowSettings(greeting=Prompt(text="Welcome."), menu_prompt=Prompt(text="Press 0."),
                        menu_options={"0": "transfer", "9": "hang_up", "5": "continue"}, menu_max_reprompts=1,
                        transfer_target="configured", silence_seconds=8, silence_max_prompts=1)


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"id-{next(counter)}"


def begin(settings: CallFlowSettings, new_id: Callable[[], str]) -> tuple[FlowState, Plan]:
    return start(loaded(FlowState(), settings), new_id)


def settle(action: CallAction, status: str = COMPLETED, **details: object) -> Outcome:
    return Outcome(action, status, None, details)


def test_default_flow_plans_nothing() -> None:
    state, plan = begin(CallFlowSettings(), ids())
    assert state.phase == "listening" and plan == Plan()
    state, plan = on_silence(state, 60_000, 0, ids())
    assert plan.actions == () and plan.notes == (("silence_ignored", "silence handling is off"),)


def test_greeting_then_menu_then_transfer() -> None:
    new_id = ids()
    state, plan = begin(MENU, new_id)
    (greeting,) = plan.actions
    assert (state.phase, greeting.kind, greeting.purpose) == ("greeting", "play", "greeting")
    assert greeting.action_id == "id-1"
    state, plan = on_outcome(state, settle(greeting), new_id)
    (menu,) = plan.actions
    assert (state.phase, menu.kind, menu.max_tones) == ("menu", "recognize_dtmf", 1)
    assert menu.prompt == Prompt(text="Press 0.")
    state, plan = on_outcome(state, settle(menu, dtmfTones="0"), new_id)
    (transfer,) = plan.actions
    assert (state.phase, transfer.kind, transfer.target) == ("transferring", "transfer", "configured")
    assert plan.notes == (("menu_choice", "0: transfer"),)
    state, plan = on_outcome(state, settle(transfer), new_id)
    assert state.phase == "transferred" and plan == Plan()


def test_failed_greeting_still_offers_the_menu() -> None:
    new_id = ids()
    state, plan = begin(MENU, new_id)
    state, plan = on_outcome(state, settle(plan.actions[0], FAILED), new_id)
    assert state.phase == "menu" and plan.actions[0].kind == "recognize_dtmf"


def test_menu_reprompts_a_bounded_number_of_times() -> None:
    new_id = ids()
    state, plan = start(loaded(FlowState(), MENU), new_id)
    state, plan = on_outcome(state, settle(plan.actions[0]), new_id)  # greeting done
    state, plan = on_outcome(state, settle(plan.actions[0], FAILED), new_id)  # no input: re-prompt 1
    assert state.phase == "menu" and state.menu_attempts == 2 and plan.actions[0].kind == "recognize_dtmf"
    state, plan = on_outcome(state, settle(plan.actions[0], COMPLETED, dtmfTones="7"), new_id)
    assert state.phase == "listening" and plan.actions == ()
    assert [event for event, _ in plan.notes] == ["menu_choice", "menu_gave_up"]


@pytest.mark.parametrize(("digit", "phase", "kinds"), [("9", "goodbye", ["play"]), ("5", "listening", [])])
def test_menu_choices(digit: str, phase: str, kinds: list[str]) -> None:
    new_id = ids()
    state, plan = begin(MENU, new_id)
    state, plan = on_outcome(state, settle(plan.actions[0]), new_id)
    state, plan = on_outcome(state, settle(plan.actions[0], dtmfTones=digit), new_id)
    assert state.phase == phase and [action.kind for action in plan.actions] == kinds


def test_failed_transfer_plays_the_fallback_then_listens() -> None:
    new_id = ids()
    state = FlowState(settings=MENU, phase="transferring")
    transfer = CallAction("t", "transfer", "api", target="+14255550123")
    state, plan = on_outcome(state, settle(transfer, FAILED), new_id)
    (fallback,) = plan.actions
    assert state.phase == "transfer_fallback" and fallback.purpose == "transfer_fallback"
    assert fallback.prompt == MENU.transfer_fallback
    state, plan = on_outcome(state, settle(fallback), new_id)
    assert state.phase == "listening"


def test_silence_reprompts_then_says_goodbye_and_hangs_up() -> None:
    new_id = ids()
    state = FlowState(settings=MENU, phase="listening")
    state, plan = on_silence(state, 8_000, 0, new_id)
    (prompt,) = plan.actions
    assert state.phase == "silence_prompt" and prompt.purpose == "silence_prompt"
    state, plan = on_silence(state, 16_000, 0, new_id)  # still playing the prompt
    assert plan.actions == () and plan.notes == (("silence_ignored", "while silence_prompt"),)
    state, _ = on_outcome(state, settle(prompt), new_id)
    state, plan = on_silence(state, 24_000, 0, new_id)
    (goodbye,) = plan.actions
    assert state.phase == "goodbye" and goodbye.purpose == "goodbye" and plan.notes[0][0] == "silence_limit"
    state, plan = on_outcome(state, settle(goodbye, CANCELED), new_id)
    assert state.phase == "ending" and plan.hang_up == "no caller speech"


def test_speech_between_silences_starts_the_count_again() -> None:
    new_id = ids()
    state = FlowState(settings=MENU, phase="listening")
    state, plan = on_silence(state, 8_000, 0, new_id)
    state, _ = on_outcome(state, settle(plan.actions[0]), new_id)
    state, plan = on_silence(state, 8_000, 2, new_id)  # the caller said two things since
    assert plan.actions[0].purpose == "silence_prompt"


def test_short_silence_and_late_outcomes_change_nothing() -> None:
    new_id = ids()
    state = FlowState(settings=MENU, phase="listening")
    assert on_silence(state, 7_999, 0, new_id)[0] == state
    stale = CallAction("old", "play", "flow", purpose="greeting", prompt=Prompt(text="Welcome."))
    assert on_outcome(state, settle(stale), new_id) == (state, Plan())
    api_play = CallAction("api", "play", "api", prompt=Prompt(text="Hi"))
    assert on_outcome(state, settle(api_play), new_id) == (state, Plan())
