"""Call control for one call: every callback, requested action and silence report, applied in one place. Pure.

The call machine (shared/call_machine.py) feeds each inbox event to `on_event` (which also runs the
lifecycle's own events through shared/call_lifecycle.py), reports the flow settings with `on_flow_loaded`,
asks `next_dispatch` for the next action to send through the action activity, and reports that activity's
result with `on_request_result`.
Everything lands in the call's timeline: the request (`action_requested`), how ACS took it (`action_sent` /
`action_failed`), and its result callback with code and subCode (`PlayFailed - code 400, subCode 8536, ...`).

Ids for actions the flow plans come from `ids` (counted by the machine), so replay is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from shared import call_action_ledger as ledger_ops
from shared import call_flow as flow
from shared import call_lifecycle as lifecycle
from shared import call_recording as recording_ops
from shared import warm_transfer as handoff_ops
from shared.call_action_ledger import Ledger, Outcome
from shared.call_actions import (
    HANDOFF,
    HANG_UP,
    RECORDING_ACTIONS,
    TRANSFER,
    CallAction,
    action_from_payload,
)
from shared.call_flow_settings import flow_from_dict
from shared.callback_events import KNOWN_CALLBACK_TYPES
from shared.media_dtmf import DTMF_RECEIVED, dtmf_notes
from shared.pii import mask_phone_numbers_in_text

CALL_ACTION_REQUESTED = "CallActionRequested"  # raised by the control API and the media host's action route
CALLER_SILENCE = "CallerSilence"  # raised by the media host's silence report
UNKNOWN_CALLBACK = "UnknownCallback"  # a callback type this code does not know, raised under one name
# Every kind of inbox event (shared/call_inbox.py) the machine reads; any other kind is ignored.
EVENT_NAMES: tuple[str, ...] = (
    *lifecycle.EVENT_NAMES,
    *sorted(KNOWN_CALLBACK_TYPES - set(lifecycle.EVENT_NAMES)),
    UNKNOWN_CALLBACK, CALL_ACTION_REQUESTED, CALLER_SILENCE,
)
MAX_SEEN_EVENT_IDS = 64
# Details worth a word in the timeline, by key of the callback payload's `details`.
_DETAIL_KEYS = ("status", "statusDetails", "participantCount", "tone", "dtmfTones", "failedPlaySourceIndex",
                "transferTarget", "state")  # state: RecordingStateChanged (active / inactive)


@dataclass(frozen=True)
class ControlState:
    flow: flow.FlowState = flow.FlowState()
    ledger: Ledger = ()
    seen_event_ids: tuple[str, ...] = ()  # recent callback ids: an exact redelivery is noted once
    recording: recording_ops.Recording = recording_ops.Recording()
    handoff: handoff_ops.HandOff | None = None  # a consultative hand-off under way (shared/warm_transfer.py)


def begin() -> ControlState:
    return ControlState()


def _at(payload: Mapping[str, object], now: datetime) -> str:
    return lifecycle.iso(lifecycle.parse_time(payload.get("time")) or now)


def event_detail(payload: Mapping[str, object]) -> str | None:
    """The result's code, subCode and message, then a few type-specific details; masked and short."""
    parts: list[str] = []
    result = payload.get("result")
    if isinstance(result, Mapping):
        parts += [f"{key} {result[key]}" for key in ("code", "subCode") if result.get(key) is not None]
        if isinstance(result.get("message"), str) and result["message"]:
            parts.append(str(result["message"]))
    details = payload.get("details")
    if isinstance(details, Mapping):
        parts += [f"{key} {details[key]}" for key in _DETAIL_KEYS
                  if isinstance(details.get(key), str | int) and not isinstance(details.get(key), bool)]
    return mask_phone_numbers_in_text(", ".join(str(part) for part in parts))[:lifecycle.MAX_DETAIL_CHARS] or None


def _ending(record: lifecycle.CallRecord) -> bool:
    return record.stage != "connected" or record.hang_up_wanted or record.hang_up is not None or bool(record.outcome)


def _drop_queued(record: lifecycle.CallRecord, state: ControlState, at: str
                 ) -> tuple[lifecycle.CallRecord, ControlState]:
    """The call is ending (hang-up asked, transfer accepted): actions not yet sent never will be."""
    ledger, dropped = ledger_ops.cancel_queued(state.ledger, "call ending")
    for action in dropped:
        record = lifecycle.note(record, at, "action_canceled", f"{action.describe()}: call ending")
    return record, replace(state, ledger=ledger)


def _apply_plan(record: lifecycle.CallRecord, state: ControlState, plan: flow.Plan, at: str
                ) -> tuple[lifecycle.CallRecord, ControlState]:
    for event, detail in plan.notes:
        record = lifecycle.note(record, at, event, detail)
    if _ending(record):
        return record, state  # a late result must not start new prompts on a call that is going away
    for action in plan.actions:
        record, state = _enqueue(record, state, action, at)
    if plan.hang_up is not None:
        record = lifecycle.request_hang_up(record, plan.hang_up)
        record, state = _drop_queued(record, state, at)
    return record, state


def _enqueue(record: lifecycle.CallRecord, state: ControlState, action: CallAction, at: str
             ) -> tuple[lifecycle.CallRecord, ControlState]:
    ledger, refused = ledger_ops.enqueue(state.ledger, action)
    if refused == "duplicate action id":
        return record, state  # the same request raised twice (a retried POST): already recorded
    if refused is None and action.kind in (TRANSFER, HANDOFF) and state.handoff is not None:
        refused = "a hand-off is under way"
    if refused is not None:
        return lifecycle.note(record, at, "action_refused", f"{action.describe()}: {refused}"), state
    record = lifecycle.note(record, at, "action_requested", action.describe())
    state = replace(state, ledger=ledger)
    if action.kind == HANDOFF:
        step = handoff_ops.begin(action, state.flow.settings)
        return _handoff_step(record, state, step, at)
    if action.kind == HANG_UP:
        record = lifecycle.request_hang_up(record, f"hang-up requested ({action.source})")
        record, state = _drop_queued(record, state, at)
    return record, state


def _start_flow(record: lifecycle.CallRecord, state: ControlState, at: str, ids: flow.IdSource
                ) -> tuple[lifecycle.CallRecord, ControlState]:
    if record.stage != "connected" or state.flow.phase != "waiting" or state.flow.settings is None:
        return record, state
    flow_state, plan = flow.start(state.flow, ids)
    return _apply_plan(record, replace(state, flow=flow_state), plan, at)


def on_flow_loaded(record: lifecycle.CallRecord, state: ControlState, result: Mapping[str, object], now: datetime,
                   ids: flow.IdSource) -> tuple[lifecycle.CallRecord, ControlState]:
    """The flow-settings activity finished (its output, or {"status": "failed"}: the default flow then)."""
    settings = flow_from_dict(result)
    if result.get("status") == "failed":
        record = lifecycle.note(record, lifecycle.iso(now), "flow_settings_failed", "default flow")
    state = replace(state, flow=flow.loaded(state.flow, settings))
    return _start_flow(record, state, lifecycle.iso(now), ids)


def _settled(record: lifecycle.CallRecord, state: ControlState, outcome: Outcome, at: str, now: datetime,
             ids: flow.IdSource) -> tuple[lifecycle.CallRecord, ControlState]:
    action = outcome.action
    step = handoff_ops.on_outcome(record, state.handoff, outcome)
    if step is not None:
        record, state = _handoff_step(record, state, step, at)
        if step.result is None:
            return record, state
        outcome = handoff_ops.request_outcome(step)  # the hand-off as a whole, for the flow and the record
        action = outcome.action
        if outcome.status == ledger_ops.COMPLETED:
            record = lifecycle.mark_transferred(record, now, f"handed off to {action.shown_target()}",
                                                outcome=lifecycle.HANDED_OFF)
            record, state = _drop_queued(record, state, at)
    if action.kind == TRANSFER and outcome.status == ledger_ops.COMPLETED:
        record = lifecycle.mark_transferred(record, now, f"transferred to {action.shown_target()}")
        record, state = _drop_queued(record, state, at)
    flow_state, plan = flow.on_outcome(state.flow, outcome, ids)
    return _apply_plan(record, replace(state, flow=flow_state), plan, at)


def _handed_off(record: lifecycle.CallRecord, state: ControlState, at: str, now: datetime
                ) -> tuple[lifecycle.CallRecord, ControlState]:
    """Our leg left and the disconnect came before the hang-up's own result: the hand-off succeeded."""
    assert state.handoff is not None
    request = state.handoff.request
    record = lifecycle.note(record, at, "handed_off", f"to {request.shown_target()}")
    record = lifecycle.mark_transferred(record, now, f"handed off to {request.shown_target()}",
                                        outcome=lifecycle.HANDED_OFF)
    return record, replace(state, handoff=None)


def _handoff_step(record: lifecycle.CallRecord, state: ControlState, step: handoff_ops.Step, at: str
                  ) -> tuple[lifecycle.CallRecord, ControlState]:
    for event, detail in step.notes:
        record = lifecycle.note(record, at, event, detail)
    state = replace(state, handoff=step.handoff)
    if _ending(record):
        return record, state
    for action in step.actions:
        ledger, _ = ledger_ops.enqueue(state.ledger, action, bounded=False)  # ids are unique per hand-off
        state = replace(state, ledger=ledger)
        record = lifecycle.note(record, at, "action_requested", action.describe())
    return record, state


def _on_callback(record: lifecycle.CallRecord, state: ControlState, name: str, payload: Mapping[str, object],
                 now: datetime, ids: flow.IdSource) -> tuple[lifecycle.CallRecord, ControlState]:
    at, detail = _at(payload, now), event_detail(payload)
    ledger, match = ledger_ops.on_callback(state.ledger, name, payload, detail)
    if match.repeated:
        # A late or second result of a settled action: it was recorded the first time, unless it is an agent
        # joining after their hand-off gave up.
        return _late_agent(record, state, handoff_ops.late_agent(match.entry, name), at)
    state = replace(state, ledger=ledger)
    if match.entry is not None:
        detail = f"{detail} ({match.entry.action.describe()})" if detail else match.entry.action.describe()
    if name not in lifecycle.EVENT_NAMES:
        record = lifecycle.note(record, at, name, detail)
    if match.outcome is not None and record.stage != "summarized":
        return _settled(record, state, match.outcome, at, now, ids)
    return record, state


def _late_agent(record: lifecycle.CallRecord, state: ControlState, remove: CallAction | None, at: str
                ) -> tuple[lifecycle.CallRecord, ControlState]:
    if remove is None or _ending(record) or ledger_ops.find(state.ledger, remove.action_id) is not None:
        return record, state  # an ending call is terminated for everyone, the agent with it
    record = lifecycle.note(record, at, "handoff_late_answer", f"{remove.shown_target()} joined after the hand-off "
                            "gave up: removed")
    ledger, _ = ledger_ops.enqueue(state.ledger, remove, bounded=False)
    return lifecycle.note(record, at, "action_requested", remove.describe()), replace(state, ledger=ledger)


def _on_action_requested(record: lifecycle.CallRecord, state: ControlState, payload: Mapping[str, object],
                         at: str) -> tuple[lifecycle.CallRecord, ControlState]:
    action = action_from_payload(payload)
    if action is None:
        return lifecycle.note(record, at, "action_refused", "invalid action"), state
    if ledger_ops.find(state.ledger, action.action_id) is not None:
        return record, state
    if _ending(record):
        reason = f"call is {record.stage}" if record.stage != "connected" else "call is ending"
        return lifecycle.note(record, at, "action_refused", f"{action.describe()}: {reason}"), state
    return _enqueue(record, state, action, at)


def on_event(record: lifecycle.CallRecord, state: ControlState, name: str, payload: Mapping[str, object],
             now: datetime, ids: flow.IdSource) -> tuple[lifecycle.CallRecord, ControlState]:
    """Apply one external event of any name in `EVENT_NAMES`; redeliveries and late events change nothing."""
    at = _at(payload, now)
    event_id = payload.get("id")
    if isinstance(event_id, str) and event_id and name not in (CALL_ACTION_REQUESTED, CALLER_SILENCE):
        if event_id[:200] in state.seen_event_ids:  # kept clipped, so compared clipped
            return record, state  # the same callback delivered twice
        state = replace(state, seen_event_ids=(*state.seen_event_ids, event_id[:200])[-MAX_SEEN_EVENT_IDS:])
    if name == lifecycle.CALL_DISCONNECTED and handoff_ops.leaving(state.handoff, state.ledger):
        record, state = _handed_off(record, state, at, now)
    if name in lifecycle.EVENT_NAMES:
        reported = record.media_report is not None
        record = lifecycle.on_event(record, name, payload, now)
        if name == lifecycle.MEDIA_STREAM_ENDED and not reported and record.media_report is not None:
            for pressed_at, tone in dtmf_notes(record.media_report):  # key presses on the socket, at their time
                record = lifecycle.note(record, pressed_at, DTMF_RECEIVED, tone)
        handoff = state.handoff
        if record.stage != "connected" and handoff is not None:
            # The caller hung up during the hand-off: its open steps never run, their late results are noted only.
            record, state = _drop_queued(record, state, at)
            ledger, notes = handoff_ops.abandon(state.ledger, handoff)
            record = lifecycle.note(record, at, *notes)
            state = replace(state, ledger=ledger, handoff=None)
    if name == CALL_ACTION_REQUESTED:
        return _on_action_requested(record, state, payload, at)
    if name == CALLER_SILENCE:
        silent_ms, utterances = payload.get("silentMs"), payload.get("utterances")
        if not isinstance(silent_ms, int) or not isinstance(utterances, int):
            return lifecycle.note(record, at, "silence_ignored", "malformed report"), state
        record = lifecycle.note(record, at, CALLER_SILENCE, f"{silent_ms // 1000} s without caller speech")
        if record.stage != "connected":
            return record, state
        flow_state, plan = flow.on_silence(state.flow, silent_ms, utterances, ids)
        return _apply_plan(record, replace(state, flow=flow_state), plan, at)
    if name == UNKNOWN_CALLBACK:
        kind = payload.get("type")
        shown = kind[:80] if isinstance(kind, str) and kind else "unknown"
        return lifecycle.note(record, at, shown, "callback type not known to this version"), state
    record, state = _on_callback(record, state, name, payload, now, ids)
    if name == lifecycle.CALL_CONNECTED:
        record, state = _start_flow(record, state, at, ids)
    return record, state


def next_dispatch(record: lifecycle.CallRecord, state: ControlState) -> tuple[ControlState, CallAction | None]:
    """The next queued action to send now, if the call can still take one."""
    if _ending(record):
        return state, None
    action = ledger_ops.next_queued(state.ledger)
    if action is None:
        return state, None
    return replace(state, ledger=ledger_ops.mark_sending(state.ledger, action.action_id)), action


def on_request_result(record: lifecycle.CallRecord, state: ControlState, action_id: str,
                      result: Mapping[str, object], now: datetime, ids: flow.IdSource
                      ) -> tuple[lifecycle.CallRecord, ControlState]:
    """The action activity finished: ACS accepted the request, or refused it (which settles the action)."""
    at = lifecycle.iso(now)
    ledger, outcome = ledger_ops.on_request_result(state.ledger, action_id, result, now)
    state = replace(state, ledger=ledger, handoff=handoff_ops.on_invitation(state.handoff, action_id, result))
    entry = ledger_ops.find(ledger, action_id)
    if entry is None:
        return record, state
    if outcome is None or outcome.status == ledger_ops.COMPLETED:
        record = lifecycle.note(record, at, "action_sent", entry.action.describe())
        if entry.action.kind in RECORDING_ACTIONS:
            state = replace(state, recording=recording_ops.on_accepted(state.recording, entry.action, result))
    else:
        record = lifecycle.note(record, at, "action_failed", f"{entry.action.describe()}: {outcome.detail}")
    if outcome is not None:
        return _settled(record, state, outcome, at, now, ids)
    return record, state


def result_deadline(state: ControlState) -> datetime | None:
    """When the orchestration should call `on_result_deadline`: a flow prompt's result is then overdue."""
    return ledger_ops.next_result_due(state.ledger)


def on_result_deadline(record: lifecycle.CallRecord, state: ControlState, now: datetime, ids: flow.IdSource
                       ) -> tuple[lifecycle.CallRecord, ControlState]:
    """No result came for a flow prompt in time: it counts as failed, and the flow goes on."""
    ledger, outcomes = ledger_ops.on_overdue(state.ledger, now)
    state = replace(state, ledger=ledger)
    at = lifecycle.iso(now)
    for outcome in outcomes:
        record = lifecycle.note(record, at, "action_timed_out", outcome.action.describe())
        if record.stage == "connected":
            record, state = _settled(record, state, outcome, at, now, ids)
    return record, state


def status_fields(state: ControlState) -> dict[str, object]:
    """Added to the orchestration's custom status."""
    fields: dict[str, object] = {"flow": state.flow.phase, "pendingActions": ledger_ops.pending_count(state.ledger)}
    if state.recording.state is not None:
        fields["recording"] = state.recording.state  # the control API's up-front check reads it
    if state.handoff is not None:
        fields["handoff"] = state.handoff.phase
    return fields
