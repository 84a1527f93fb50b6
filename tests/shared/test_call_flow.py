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


def test_purposes_are_pinned() -> None:
    from shared import call_flow as flow
    # The purposes show in the timeline and are matched against the flow's phase.
    assert (flow.GREETING, flow.MENU, flow.TRANSFER_PURPOSE, flow.TRANSFER_FALLBACK, flow.SILENCE_PROMPT,
            flow.GOODBYE, flow.RECORDING_CONSENT, flow.RECORDING) == (
        "greeting", "menu", "transfer", "transfer_fallback", "silence_prompt", "goodbye", "recording_consent",
        "recording")


def test_start_needs_settings_and_runs_once_and_the_first_settings_stay() -> None:
    assert start(FlowState(), ids()) == (FlowState(), Plan())
    state, _ = begin(MENU, ids())
    assert start(state, ids()) == (state, Plan())
    assert loaded(state, CallFlowSettings()).settings == MENU
    assert on_outcome(FlowState(), settle(CallAction("t", "transfer", "api", target="+14255550123"), FAILED),
                      ids()) == (FlowState(), Plan())


def test_a_menu_without_greeting_starts_with_the_menu_and_its_timeout() -> None:
    settings = CallFlowSettings(menu_prompt=Prompt(text="Press 0."), menu_options={"0": "continue"},
                                menu_timeout_seconds=9)
    state, plan = begin(settings, ids())
    (menu,) = plan.actions
    assert (state.phase, state.menu_attempts, menu.action_id, menu.purpose, menu.source, menu.timeout_seconds) == (
        "menu", 1, "id-1", "menu", "flow", 9)


def test_recording_consent_is_played_before_the_recording_starts() -> None:
    consent = Prompt(text="This call is recorded.")
    settings = CallFlowSettings(greeting=Prompt(text="Welcome."), record_at_connect=True, recording_consent=consent)
    new_id = ids()
    state, plan = begin(settings, new_id)
    (notice,) = plan.actions
    assert (state.phase, notice.action_id, notice.purpose, notice.prompt) == (
        "recording_consent", "id-1", "recording_consent", consent)
    played, plan = on_outcome(state, settle(notice), new_id)
    assert [(a.action_id, a.kind, a.purpose) for a in plan.actions] == [
        ("id-2", "start_recording", "recording"), ("id-3", "play", "greeting")]
    assert played.phase == "greeting" and plan.notes == ()
    skipped, plan = on_outcome(state, settle(notice, FAILED), ids())
    assert [(a.kind, a.purpose) for a in plan.actions] == [("play", "greeting")]
    assert plan.notes == (("recording_skipped", "the consent notice was not played"),)
    assert skipped.phase == "greeting"


def test_recording_without_a_notice_starts_ahead_of_the_greeting() -> None:
    state, plan = begin(CallFlowSettings(greeting=Prompt(text="Welcome."), record_at_connect=True), ids())
    assert [(a.action_id, a.kind) for a in plan.actions] == [("id-1", "start_recording"), ("id-2", "play")]
    assert state.phase == "greeting"


def test_menu_notes_say_what_was_pressed_or_not() -> None:
    new_id = ids()
    state, plan = begin(MENU, new_id)
    state, plan = on_outcome(state, settle(plan.actions[0]), new_id)
    menu = plan.actions[0]
    retried, retry = on_outcome(state, Outcome(menu, FAILED, "code 408, subCode 8510"), new_id)
    assert retry.notes == (("menu_no_input", "code 408, subCode 8510"),) and retried.menu_attempts == 2
    wrong, plan = on_outcome(state, settle(menu, dtmfTones="71"), new_id)
    assert plan.notes == (("menu_choice", "7: not an option"),) and wrong.phase == "menu"
    first, plan = on_outcome(state, settle(menu, dtmfTones="59"), new_id)
    assert first.phase == "listening" and plan.notes == (("menu_choice", "5: continue"),)
    gave_up, plan = on_outcome(retried, settle(retry.actions[0], FAILED), new_id)
    assert gave_up.phase == "listening"
    assert plan.notes == (("menu_no_input", None), ("menu_gave_up", "no choice after 2 prompt(s)"))
    canceled, plan = on_outcome(state, settle(menu, CANCELED, dtmfTones="5"), new_id)
    assert plan.notes == (("menu_no_input", None),) and canceled.phase == "menu"  # a canceled menu chose nothing


def test_a_transfer_choice_needs_a_target_and_a_hang_up_choice_says_goodbye() -> None:
    settings = CallFlowSettings(menu_prompt=Prompt(text="Press 0."), menu_options={"0": "transfer", "9": "hang_up"})
    new_id = ids()
    state, plan = begin(settings, new_id)
    _, plan_0 = on_outcome(state, settle(plan.actions[0], dtmfTones="0"), new_id)
    assert plan_0.notes == (("menu_choice", "0: not an option"),)
    bye, plan_9 = on_outcome(state, settle(plan.actions[0], dtmfTones="9"), new_id)
    assert plan_9.notes == (("menu_choice", "9: hang up"),) and plan_9.actions[0].purpose == "goodbye"
    ending, plan = on_outcome(bye, settle(plan_9.actions[0]), new_id)
    assert (ending.phase, plan) == ("ending", Plan(hang_up="ended by the call flow"))
    assert on_outcome(ending, settle(plan_9.actions[0]), new_id) == (ending, Plan())


def test_after_a_transfer_nothing_more_happens() -> None:
    state = FlowState(settings=MENU, phase="transferred")
    transfer = CallAction("t", "transfer", "api", target="+14255550123")
    assert on_outcome(state, settle(transfer, FAILED), ids()) == (state, Plan())
    accepted, plan = on_outcome(FlowState(settings=MENU, phase="listening"), settle(transfer), ids())
    assert (accepted.phase, plan) == ("transferred", Plan())


@pytest.mark.parametrize(("silent_ms", "prompted"), [(7_999, False), (8_000, True)])
def test_silence_threshold_is_exact(silent_ms: int, prompted: bool) -> None:
    state = FlowState(settings=MENU, phase="listening")
    after, plan = on_silence(state, silent_ms, 0, ids())
    if prompted:
        assert (after.phase, after.silence_prompts, plan.actions[0].action_id) == ("silence_prompt", 1, "id-1")
        assert plan.actions[0].prompt == MENU.silence_prompt
    else:
        assert (after, plan) == (state, Plan(notes=(("silence_ignored", "shorter than 8 s"),)))


def test_silence_without_settings_is_off_and_the_limit_is_named() -> None:
    assert on_silence(FlowState(), 60_000, 0, ids()) == (
        FlowState(), Plan(notes=(("silence_ignored", "silence handling is off"),)))
    settings = CallFlowSettings(silence_seconds=5, silence_max_prompts=2)
    state = FlowState(settings=settings, phase="listening", silence_prompts=2, utterances_seen=3)
    after, plan = on_silence(state, 5_000, 3, ids())
    assert (after.phase, after.silence_prompts) == ("goodbye", 3)
    assert plan.notes == (("silence_limit", "no speech after 2 re-prompt(s)"),)
    assert plan.actions[0].prompt == settings.goodbye
    spoke, plan = on_silence(state, 5_000, 4, ids())
    assert (spoke.phase, spoke.silence_prompts, spoke.utterances_seen) == ("silence_prompt", 1, 4)


def test_planned_actions_are_exact() -> None:
    consent = Prompt(text="Recorded.")
    settings = CallFlowSettings(greeting=Prompt(text="Welcome."), menu_prompt=Prompt(text="Press 0."),
                                menu_options={"0": "transfer"}, transfer_target="+14255550123",
                                record_at_connect=True, recording_consent=consent, menu_timeout_seconds=7)
    new_id = ids()
    state, plan = begin(settings, new_id)
    state, plan = on_outcome(state, settle(plan.actions[0]), new_id)
    assert plan.actions == (CallAction("id-2", "start_recording", "flow", purpose="recording"),
                            CallAction("id-3", "play", "flow", purpose="greeting", prompt=Prompt(text="Welcome.")))
    state, plan = on_outcome(state, settle(plan.actions[1]), new_id)
    assert plan.actions == (CallAction("id-4", "recognize_dtmf", "flow", purpose="menu", prompt=Prompt(text="Press 0."),
                                       max_tones=1, timeout_seconds=7),)
    menu_state, plan = on_outcome(state, settle(plan.actions[0], dtmfTones="0"), new_id)
    assert plan.actions == (CallAction("id-5", "transfer", "flow", purpose="transfer", target="configured",
                                       reason="menu choice 0"),)
    late_greeting = CallAction("id-3", "play", "flow", purpose="greeting", prompt=Prompt(text="Welcome."))
    assert on_outcome(state, settle(late_greeting, FAILED), new_id) == (state, Plan())  # the menu ignores it


def test_a_greeting_alone_then_listens_and_an_ending_flow_ignores_a_failed_transfer() -> None:
    new_id = ids()
    state, plan = begin(CallFlowSettings(greeting=Prompt(text="Welcome.")), new_id)
    state, plan = on_outcome(state, settle(plan.actions[0]), new_id)
    assert (state.phase, state.menu_attempts, plan) == ("listening", 0, Plan())
    ending = FlowState(settings=MENU, phase="ending")
    transfer = CallAction("t", "transfer", "api", target="+14255550123")
    assert on_outcome(ending, settle(transfer, FAILED), new_id) == (ending, Plan())
