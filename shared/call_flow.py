"""The configured call flow's decisions: greeting, DTMF menu, transfer with fallback, silence handling. Pure.

The flow reacts to three things: the call connecting (`start`), an action settling (`on_outcome`) and a
silence report from the media host (`on_silence`). Each answers a new `FlowState` and a `Plan`: actions to
queue (ids come from `ids`, the orchestration's deterministic `new_guid`), an optional hang-up reason, and
timeline notes. The flow never waits itself: the orchestration carries the plan out and reports back.

Phases: waiting -> (recording_consent) -> greeting -> menu -> (transferring -> transferred | fallback) -> listening
        listening -> silence_prompt -> listening ... -> goodbye -> ending
With the default settings the flow goes straight from waiting to listening and never plans anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from shared.call_action_ledger import COMPLETED, Outcome
from shared.call_actions import (
    CONFIGURED_TARGET,
    HANDOFF,
    PLAY,
    RECOGNIZE_DTMF,
    START_RECORDING,
    TRANSFER,
    CallAction,
    Prompt,
)
from shared.call_flow_settings import CallFlowSettings

IdSource = Callable[[], str]

GREETING, MENU, TRANSFER_PURPOSE = "greeting", "menu", "transfer"
TRANSFER_FALLBACK, SILENCE_PROMPT, GOODBYE = "transfer_fallback", "silence_prompt", "goodbye"
RECORDING_CONSENT, RECORDING = "recording_consent", "recording"
AFTER_HOURS_MESSAGE = "after_hours_message"


@dataclass(frozen=True)
class FlowState:
    settings: CallFlowSettings | None = None  # None until the orchestration has loaded them
    phase: str = "waiting"
    menu_attempts: int = 0
    silence_prompts: int = 0
    utterances_seen: int = 0
    message_only: bool = False  # the answer policy's after-hours message (shared/after_hours_flow.py)


@dataclass(frozen=True)
class Plan:
    actions: tuple[CallAction, ...] = ()
    hang_up: str | None = None  # reason, shown as the call's end reason
    notes: tuple[tuple[str, str | None], ...] = ()  # timeline entries (event, detail)


NOTHING = Plan()


def _play(ids: IdSource, purpose: str, prompt: Prompt) -> CallAction:
    return CallAction(ids(), PLAY, "flow", purpose=purpose, prompt=prompt)


def _menu(state: FlowState, settings: CallFlowSettings, ids: IdSource) -> tuple[FlowState, Plan]:
    action = CallAction(ids(), RECOGNIZE_DTMF, "flow", purpose=MENU, prompt=settings.menu_prompt, max_tones=1,
                        timeout_seconds=settings.menu_timeout_seconds)
    return replace(state, phase=MENU, menu_attempts=state.menu_attempts + 1), Plan((action,))


def _goodbye(state: FlowState, settings: CallFlowSettings, ids: IdSource, *notes: tuple[str, str | None]
             ) -> tuple[FlowState, Plan]:
    return replace(state, phase=GOODBYE), Plan((_play(ids, GOODBYE, settings.goodbye),), notes=notes)


def _listen(state: FlowState, *notes: tuple[str, str | None]) -> tuple[FlowState, Plan]:
    return replace(state, phase="listening"), Plan(notes=notes)


def loaded(state: FlowState, settings: CallFlowSettings) -> FlowState:
    return state if state.settings is not None else replace(state, settings=settings)


def start(state: FlowState, ids: IdSource) -> tuple[FlowState, Plan]:
    """The call is connected and the settings are loaded: the consent notice of a recording at connect
    first, then start the recording, then greet, or offer the menu, or just listen."""
    settings = state.settings
    if settings is None or state.phase != "waiting":
        return state, NOTHING
    if state.message_only:
        # The goodbye prompt holds the message; its own purpose names it in the timeline.
        return replace(state, phase=AFTER_HOURS_MESSAGE), Plan((_play(ids, AFTER_HOURS_MESSAGE, settings.goodbye),))
    if settings.record_at_connect and settings.recording_consent is not None:
        return replace(state, phase=RECORDING_CONSENT), Plan((_play(ids, RECORDING_CONSENT,
                                                                    settings.recording_consent),))
    return _begin(state, settings, ids, record=settings.record_at_connect)


def _begin(state: FlowState, settings: CallFlowSettings, ids: IdSource, *, record: bool,
           notes: tuple[tuple[str, str | None], ...] = ()) -> tuple[FlowState, Plan]:
    # The recording's start is queued ahead of the greeting, so the greeting is on the recording.
    recording = (CallAction(ids(), START_RECORDING, "flow", purpose=RECORDING),) if record else ()
    state, plan = _greet(state, settings, ids)
    return state, replace(plan, actions=(*recording, *plan.actions), notes=(*notes, *plan.notes))


def _greet(state: FlowState, settings: CallFlowSettings, ids: IdSource) -> tuple[FlowState, Plan]:
    if settings.greeting is not None:
        return replace(state, phase=GREETING), Plan((_play(ids, GREETING, settings.greeting),))
    if settings.menu_prompt is not None:
        return _menu(state, settings, ids)
    return _listen(state)


def _after_greeting(state: FlowState, settings: CallFlowSettings, ids: IdSource) -> tuple[FlowState, Plan]:
    if settings.menu_prompt is not None:
        return _menu(state, settings, ids)
    return _listen(state)


def _menu_result(state: FlowState, settings: CallFlowSettings, outcome: Outcome, ids: IdSource
                 ) -> tuple[FlowState, Plan]:
    tones = outcome.details.get("dtmfTones") if outcome.status == COMPLETED else None
    digit = tones[:1] if isinstance(tones, str) else ""
    choice = settings.menu_options.get(digit) if digit else None
    if choice in ("transfer", "handoff") and settings.transfer_target is not None:
        kind = TRANSFER if choice == "transfer" else HANDOFF  # handoff: consultative (shared/warm_transfer.py)
        action = CallAction(ids(), kind, "flow", purpose=TRANSFER_PURPOSE, target=CONFIGURED_TARGET,
                            reason=f"menu choice {digit}")
        return replace(state, phase="transferring"), Plan((action,), notes=(("menu_choice", f"{digit}: {choice}"),))
    if choice == "hang_up":
        return _goodbye(state, settings, ids, ("menu_choice", f"{digit}: hang up"))
    if choice == "continue":
        return _listen(state, ("menu_choice", f"{digit}: continue"))
    note = ("menu_choice", f"{digit}: not an option") if digit else ("menu_no_input", outcome.detail)
    if state.menu_attempts <= settings.menu_max_reprompts:
        next_state, plan = _menu(state, settings, ids)
        return next_state, replace(plan, notes=(note,))
    return _listen(state, note, ("menu_gave_up", f"no choice after {state.menu_attempts} prompt(s)"))


def on_outcome(state: FlowState, outcome: Outcome, ids: IdSource) -> tuple[FlowState, Plan]:
    """An action settled; flow actions move the flow on, and a failed transfer from anyone gets the fallback."""
    settings = state.settings
    if settings is None or state.phase in ("ending", "transferred"):
        return state, NOTHING
    action = outcome.action
    if action.kind in (TRANSFER, HANDOFF):
        if outcome.status == COMPLETED:
            return replace(state, phase="transferred"), NOTHING
        fallback = _play(ids, TRANSFER_FALLBACK, settings.transfer_fallback)
        return replace(state, phase=TRANSFER_FALLBACK), Plan((fallback,))
    if action.source != "flow" or action.purpose != state.phase:
        return state, NOTHING  # not the flow's own prompt, or a late result of a step the flow has left
    step = _FLOW_STEPS.get(state.phase)
    return step(state, settings, outcome, ids) if step is not None else (state, NOTHING)


def _consent_played(state: FlowState, settings: CallFlowSettings, outcome: Outcome,
                    ids: IdSource) -> tuple[FlowState, Plan]:
    # Recorded only once the caller was told: a notice that was not played means no recording.
    if outcome.status == COMPLETED:
        return _begin(state, settings, ids, record=True)
    return _begin(state, settings, ids, record=False,
                  notes=(("recording_skipped", "the consent notice was not played"),))


def _greeted(state: FlowState, settings: CallFlowSettings, outcome: Outcome, ids: IdSource) -> tuple[FlowState, Plan]:
    return _after_greeting(state, settings, ids)


def _prompted(state: FlowState, settings: CallFlowSettings, outcome: Outcome, ids: IdSource) -> tuple[FlowState, Plan]:
    return _listen(state)


def _said_goodbye(state: FlowState, settings: CallFlowSettings, outcome: Outcome,
                  ids: IdSource) -> tuple[FlowState, Plan]:
    # Said or not (a failed goodbye must not keep the call open), the flow ends the call now.
    reason = "no caller speech" if state.silence_prompts else "ended by the call flow"
    return replace(state, phase="ending"), Plan(hang_up=reason)


def _message_played(state: FlowState, settings: CallFlowSettings, outcome: Outcome,
                    ids: IdSource) -> tuple[FlowState, Plan]:
    # Played or not, the call was answered only for the message: it ends now.
    return replace(state, phase="ending"), Plan(hang_up="after-hours message played")


# What settles each of the flow's own steps, by the phase the flow is in (= the purpose of its prompt).
_FLOW_STEPS: dict[str, Callable[[FlowState, CallFlowSettings, Outcome, IdSource], tuple[FlowState, Plan]]] = {
    RECORDING_CONSENT: _consent_played,
    GREETING: _greeted,
    MENU: _menu_result,
    TRANSFER_FALLBACK: _prompted,
    SILENCE_PROMPT: _prompted,
    GOODBYE: _said_goodbye,
    AFTER_HOURS_MESSAGE: _message_played,
}


def on_silence(state: FlowState, silent_ms: int, utterances: int, ids: IdSource) -> tuple[FlowState, Plan]:
    """The media host reports `silent_ms` without caller speech, after `utterances` utterances so far.

    Reports repeat while the silence lasts; a new utterance count means the caller spoke in between, which
    starts the count of re-prompts again.
    """
    settings = state.settings
    if settings is None or settings.silence_seconds == 0:
        return state, Plan(notes=(("silence_ignored", "silence handling is off"),))
    if silent_ms < settings.silence_seconds * 1000:
        return state, Plan(notes=(("silence_ignored", f"shorter than {settings.silence_seconds} s"),))
    if state.phase != "listening":
        return state, Plan(notes=(("silence_ignored", f"while {state.phase}"),))
    if utterances != state.utterances_seen:
        state = replace(state, utterances_seen=utterances, silence_prompts=0)
    if state.silence_prompts < settings.silence_max_prompts:
        prompt = _play(ids, SILENCE_PROMPT, settings.silence_prompt)
        return replace(state, phase=SILENCE_PROMPT, silence_prompts=state.silence_prompts + 1), Plan((prompt,))
    state = replace(state, silence_prompts=state.silence_prompts + 1)
    limit = ("silence_limit", f"no speech after {settings.silence_max_prompts} re-prompt(s)")
    return _goodbye(state, settings, ids, limit)
