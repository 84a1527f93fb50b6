"""The consultative hand-off to a human agent, as a small pure state machine that call control delegates to.

A `handoff` request (control API, or the flow's menu choice `handoff`) runs these steps, each a `CallAction`
the action activity performs (calls/handoff_steps.py) and the ledger settles:

    holding  -> hold the caller with music          (SDK `hold(caller, play_source=...)`; settled by the request)
    inviting -> add the agent as a participant      (`add_participant`; AddParticipantSucceeded / Failed /
                                                     CancelAddParticipantSucceeded, or the machine's deadline:
                                                     the invitation timeout plus the ledger's margin, so a lost
                                                     callback never leaves the caller on hold)
    briefing -> a short spoken brief, to the agent   (`play_media(play_to=[agent])`; PlayCompleted / Failed)
    leaving  -> take the caller off hold, leave      (`unhold`, then `hang_up(is_for_everyone=False)`: our leg
                                                     only, so caller and agent stay connected)

If the hold or the add fails, declines or times out, the caller comes off hold (when they were put on it) and
the hand-off ends `failed`. When it is the machine's deadline that gave up on the add, ACS may still be ringing
the agent: the invitation is withdrawn first (`cancel_add_participant_operation` with the invitationId of the
add's answer). An agent whose AddParticipantSucceeded comes after the hand-off gave up (the cancel lost the race,
or the result was late) is removed (`remove_participant`), so no agent is left alone with the voice agent.
Either way the hand-off ends `failed`: call control then plays the transfer fallback through the flow, and the call goes
on with the voice agent. Step ids are derived from the request's id, so replay gives the same ids. No I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

from shared import call_lifecycle as lifecycle
from shared.call_action_ledger import (
    CANCELED,
    COMPLETED,
    SENDING,
    SENT,
    Ledger,
    LedgerEntry,
    Outcome,
    cancel_open,
    find,
)
from shared.call_action_ledger import FAILED as STEP_FAILED
from shared.call_actions import (
    ADD_AGENT,
    BRIEF_AGENT,
    CANCEL_ADD,
    HOLD,
    LEAVE,
    MAX_TEXT_CHARS,
    REMOVE_AGENT,
    UNHOLD,
    CallAction,
    Prompt,
)
from shared.call_flow_settings import DEFAULT_HOLD_TEXT, CallFlowSettings

PURPOSE = "handoff"
HANDED_OFF, FAILED = "handed_off", "failed"
MAX_BRIEF_LINES = 3
_STEP_NAMESPACE = uuid.UUID("9a4e0c6b-3f1d-4d7e-8b52-1c0e6f2a7d93")


@dataclass(frozen=True)
class HandOff:
    request: CallAction  # the `handoff` action: sealed target, its mask, reason and headers
    phase: str  # holding | inviting | briefing | leaving
    step_id: str  # the step whose result moves the hand-off on
    answer_seconds: int = 30
    on_hold: bool = False
    invitation_id: str | None = None  # from the add's answer (AddParticipantResponse.invitationId)


@dataclass(frozen=True)
class Step:
    """What a hand-off event means: the hand-off after it (None when over), steps to queue, notes, result."""

    handoff: HandOff | None
    request: CallAction
    actions: tuple[CallAction, ...] = ()
    notes: tuple[tuple[str, str | None], ...] = ()
    result: str | None = None  # HANDED_OFF or FAILED when the hand-off is over
    detail: str | None = None


def _step(request: CallAction, kind: str, **fields: object) -> CallAction:
    step_id = str(uuid.uuid5(_STEP_NAMESPACE, f"{request.action_id}/{kind}"))
    return CallAction(step_id, kind, request.source, purpose=PURPOSE, **fields)  # type: ignore[arg-type]


def _to_agent(request: CallAction, kind: str, **fields: object) -> CallAction:
    return _step(request, kind, target=request.target, target_mask=request.target_mask, **fields)


def begin(request: CallAction, settings: CallFlowSettings | None) -> Step:
    """Start a hand-off: the caller goes on hold first, with the configured music or words."""
    hold_music = settings.hold_music if settings is not None else Prompt(text=DEFAULT_HOLD_TEXT)
    answer_seconds = settings.handoff_answer_seconds if settings is not None else 30
    hold = _step(request, HOLD, prompt=hold_music)
    handoff = HandOff(request, "holding", hold.action_id, answer_seconds)
    return Step(handoff, request, (hold,), (("handoff_started", f"to {request.shown_target()}"),))


def brief_text(reason: str | None, caller: str, lines: tuple[str, ...]) -> str:
    """What the agent hears before the caller joins: the reason and the first lines of what we know so far."""
    parts = [f"Call handed over by the voice agent. Reason: {reason or 'not given'}.", f"Caller {caller}."]
    parts += [line.rstrip(".") + "." for line in lines[:MAX_BRIEF_LINES]]
    text = " ".join(" ".join(parts).split())  # one line: TTS text holds no line breaks
    return text[:MAX_TEXT_CHARS]


def on_outcome(record: lifecycle.CallRecord, handoff: HandOff | None, outcome: Outcome) -> Step | None:
    """A step settled; None when there is no hand-off or the outcome is not the step it waits for."""
    if handoff is None or outcome.action.action_id != handoff.step_id:
        return None
    return _advance(handoff, outcome, brief_text(handoff.request.reason, record.start.caller, _lines(record)))


# Timeline events whose detail says something about the caller's request, for the brief.
_BRIEF_EVENTS = ("menu_choice", "CallerSilence")


def _lines(record: lifecycle.CallRecord) -> tuple[str, ...]:
    since = record.connected_at[11:16] + " UTC" if record.connected_at else "the start"
    lines = [f"On the line since {since}"]
    lines += [f"{entry.event.replace('_', ' ')}: {entry.detail}" for entry in record.timeline
              if entry.event in _BRIEF_EVENTS and entry.detail]
    return tuple(lines)


def on_invitation(handoff: HandOff | None, action_id: str, result: Mapping[str, object]) -> HandOff | None:
    """ACS took the add: keep the invitation's id, which withdrawing it needs."""
    invitation = result.get("invitationId")
    if handoff is None or handoff.phase != "inviting" or action_id != handoff.step_id:
        return handoff
    if not isinstance(invitation, str):
        return handoff
    return replace(handoff, invitation_id=invitation)


def late_agent(entry: LedgerEntry | None, name: str) -> CallAction | None:
    """An agent answered after their hand-off gave up (its add settled failed or canceled): remove them."""
    if entry is None or name != "AddParticipantSucceeded" or entry.action.kind != ADD_AGENT \
            or entry.state not in (STEP_FAILED, CANCELED):
        return None
    add = entry.action
    return CallAction(str(uuid.uuid5(_STEP_NAMESPACE, f"{add.action_id}/{REMOVE_AGENT}")), REMOVE_AGENT, add.source,
                      purpose=PURPOSE, target=add.target, target_mask=add.target_mask)


def request_outcome(step: Step) -> Outcome:
    """The hand-off as a whole, once over: completed (handed off) or failed, as the flow reads a transfer's."""
    status = COMPLETED if step.result == HANDED_OFF else "failed"
    return Outcome(step.request, status, step.detail)


def leaving(handoff: HandOff | None, ledger: Ledger) -> bool:
    """Our leg's hang-up is out: the disconnect that follows (it may overtake the request's own result) is the
    hand-off succeeding, not the caller leaving."""
    if handoff is None or handoff.phase != "leaving":
        return False
    entry = find(ledger, handoff.step_id)
    return entry is not None and entry.state in (SENDING, SENT, COMPLETED)


def abandon(ledger: Ledger, handoff: HandOff) -> tuple[Ledger, tuple[str, str]]:
    """The call ended under the hand-off: its open steps are settled canceled, so late results do nothing."""
    return (cancel_open(ledger, step_ids(handoff), "call ended"),
            ("handoff_abandoned", f"call ended while {handoff.phase}"))


def _advance(handoff: HandOff, outcome: Outcome, brief: str) -> Step:
    request, ok = handoff.request, outcome.status == COMPLETED
    if handoff.phase == "holding":
        if not ok:
            return Step(None, request, notes=(("handoff_failed", f"hold: {outcome.detail or outcome.status}"),),
                        result=FAILED, detail="the caller could not be put on hold")
        add = _to_agent(request, ADD_AGENT, timeout_seconds=handoff.answer_seconds, reason=request.reason,
                        headers=request.headers)
        return Step(replace(handoff, phase="inviting", step_id=add.action_id, on_hold=True), request, (add,))
    if handoff.phase == "inviting":
        if not ok:
            # Withdrawn before the caller comes off hold, so the agent cannot join the caller unannounced.
            withdraw = (_to_agent(request, CANCEL_ADD, invitation_id=handoff.invitation_id),) \
                if outcome.overdue and handoff.invitation_id else ()
            unhold = _step(request, UNHOLD)
            why = outcome.detail or outcome.status
            return Step(None, request, (*withdraw, unhold), (("handoff_failed", f"agent not added: {why}"),),
                        result=FAILED, detail=f"agent not added: {why}")
        play = _to_agent(request, BRIEF_AGENT, prompt=Prompt(text=brief))
        return Step(replace(handoff, phase="briefing", step_id=play.action_id), request, (play,),
                    (("handoff_agent_joined", request.shown_target()),))
    if handoff.phase == "briefing":
        # Briefed or not (a failed brief is no reason to keep the caller waiting), the caller joins the agent.
        notes = () if ok else (("handoff_brief_failed", outcome.detail or outcome.status),)
        unhold, leave = _step(request, UNHOLD), _step(request, LEAVE)
        return Step(replace(handoff, phase="leaving", step_id=leave.action_id), request, (unhold, leave), notes)
    if ok:
        return Step(None, request, notes=(("handed_off", f"to {request.shown_target()}"),), result=HANDED_OFF)
    # Our leg could not leave; caller and agent are connected all the same, and our hang-up ends the call.
    return Step(None, request, notes=(("handoff_leave_failed", outcome.detail or outcome.status),), result=HANDED_OFF)


def step_ids(handoff: HandOff) -> frozenset[str]:
    """Every step id this hand-off can have (open ones are cancelled when the call ends under it)."""
    request = handoff.request
    return frozenset(str(uuid.uuid5(_STEP_NAMESPACE, f"{request.action_id}/{kind}"))
                     for kind in (HOLD, ADD_AGENT, BRIEF_AGENT, UNHOLD, LEAVE, CANCEL_ADD))
