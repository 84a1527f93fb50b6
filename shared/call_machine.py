"""The call, as ONE pure state machine, websockets-style (sans-I/O): `start`, then `receive` per input.

`start(input, now)` and `receive(state, message, now)` each answer the new `CallState` and the commands to
carry out (shared/call_messages.py): start activities, set the custom status, then exactly one of wait
until a moment or finish. The state holds everything about the call: its lifecycle record
(shared/call_lifecycle.py), its control state, i.e. the flow and the action ledger (shared/call_progress.py),
the activities running or waiting to be retried, and the summary and email results. Time comes in as an
argument and ids are counted here, so the same inputs always give the same commands: replay is
deterministic, and the orchestrator (calls/call_orchestration/orchestrator.py) takes no decision at all.

Phases: call -> summarizing -> emailing -> done. Inbox events after the call phase are read and ignored:
the summary is written from what the call phase knew.

Deadlines: each `WaitUntil` is the earliest of the lifecycle's wait, a flow prompt's result deadline, a
retry, and, while an activity runs, a poll `ACTIVITY_POLL_SECONDS` ahead: an activity is raced only in the
wait right after its start, because a task already scheduled is left out of the next race's action when
the extension replays it (see the orchestrator). A timer whose `seq` is not the last wait's is stale and
ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from shared import after_hours_flow, media_recovery
from shared import call_lifecycle as lifecycle
from shared import call_progress as progress
from shared import call_recording as recording_ops
from shared import outbound_call as outbound
from shared import recording_files as files_ops
from shared.call_activity_names import (
    DOWNLOAD_RECORDING,
    HANG_UP,
    LOAD_FLOW,
    PLACE_CALL,
    PREPARE_SUMMARY,
    RESTART_STREAM,
    RETRIES,
    RUN_ACTION,
    SEND_EMAIL,
)
from shared.call_inbox import decode_json_object, read_inbox
from shared.call_messages import (
    ActivityDone,
    Command,
    Finish,
    InboxEvent,
    Input,
    SetStatus,
    StartActivity,
    TimerFired,
    WaitUntil,
)
from shared.call_start import CallStart
from shared.call_state import Activity, CallState, Retry
from shared.recording_file_event import RECORDING_FILE_READY

# While an activity runs unraced, look again this long after its start, doubling, up to the maximum: a
# result is seen within about its own run time, and a stuck activity costs a few timers, not one per poll.
ACTIVITY_POLL_SECONDS = 2
MAX_ACTIVITY_POLL_SECONDS = 60
MAX_ERROR_CHARS = 300
_ID_NAMESPACE = uuid.UUID("0b8a3c1e-5d2f-4f7a-9c61-7e4d2a9b8f10")


class _Ids:
    """Deterministic ids for the flow's actions, counted from the state (no clock, no randomness)."""

    def __init__(self, instance_id: str, serial: int) -> None:
        self.instance_id, self.serial = instance_id, serial

    def __call__(self) -> str:
        self.serial += 1
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.instance_id}/{self.serial}"))


def _trace(raw_input: Mapping[str, object]) -> dict[str, str]:
    # The call's trace context (calls/telemetry.py) rides in every activity input: one call, one trace.
    traceparent = raw_input.get("traceparent")
    return {"traceparent": traceparent} if isinstance(traceparent, str) else {}


def _start_activity(state: CallState, name: str, fields: Mapping[str, object], now: datetime,
                    action_id: str | None = None) -> tuple[CallState, StartActivity]:
    serial = state.serial + 1
    activity = Activity(f"{name}-{serial}", name, {**fields, **state.trace}, now, action_id=action_id)
    state = replace(state, serial=serial, running=(*state.running, activity))
    return state, StartActivity(activity.activity_id, name, activity.input)


def start(raw_input: object, now: datetime) -> tuple[CallState, list[Command]]:
    """The call rang: its record, the flow settings' load, and the first wait."""
    fields = decode_json_object(raw_input)
    call_start = CallStart.from_dict(fields)
    begin = outbound.begin if outbound.is_outbound(call_start) else lifecycle.begin
    state = CallState(begin(call_start, now), progress.begin(), _trace(fields),
                      recovery=media_recovery.begin(fields, call_start.transcription == "requested"))
    if after_hours_flow.is_message(call_start.policy):
        # Answered only to play the after-hours message: that is the whole flow, no settings to load.
        return _advance(replace(state, control=after_hours_flow.control_for(call_start.policy or {})), now)
    if call_start.policy is not None:
        # Refused by the answer policy: no flow to run, straight to its summary and short email.
        return _advance(state, now)
    state, load = _start_activity(state, LOAD_FLOW, {"instanceId": call_start.instance_id}, now)
    dial: list[Command] = []
    if outbound.is_outbound(call_start):
        state, place = _start_activity(state, PLACE_CALL, outbound.place_call_input(call_start), now)
        dial.append(place)
    state, commands = _advance(state, now)
    return state, [load, *dial, *commands]


def receive(state: CallState, messages: Sequence[Input], now: datetime) -> tuple[CallState, list[Command]]:
    """Apply what happened since the last wait, in order; the commands end with one `WaitUntil` or `Finish`."""
    if state.phase == "done":
        return state, []
    ids = _Ids(state.record.start.instance_id, state.serial)
    started: list[Command] = []
    for message in messages:
        state, more = _apply(state, message, now, ids)
        state = replace(state, serial=max(state.serial, ids.serial))
        ids.serial = state.serial
        started += more
    state, commands = _advance(state, now)
    return state, [*started, *commands]


def _apply(state: CallState, message: Input, now: datetime, ids: _Ids) -> tuple[CallState, list[Command]]:
    if isinstance(message, InboxEvent):
        if state.phase == "call" and read_inbox(message.raw)[0] == RECORDING_FILE_READY:
            return _on_recording_file(state, read_inbox(message.raw)[1], now)
        return _on_inbox(state, message, now, ids), []
    if isinstance(message, TimerFired):
        return _on_timer(state, message.seq, now, ids)
    return _on_activity(state, message, now, ids)


def _on_inbox(state: CallState, event: InboxEvent, now: datetime, ids: _Ids) -> CallState:
    kind, payload = read_inbox(event.raw)
    if state.phase != "call" or kind not in progress.EVENT_NAMES:
        return state  # a late event, or a kind no raiser of ours sends
    event_id = payload.get("id")
    if state.recovery is not None and not (isinstance(event_id, str) and event_id in state.control.seen_event_ids):
        recovery, record, consumed = media_recovery.on_event(state.recovery, state.record, kind, payload, now)
        state = replace(state, recovery=recovery, record=record)
        if consumed:
            return state  # a drop's or an earlier socket's media report: not the call's final one
    record, control = progress.on_event(state.record, state.control, kind, payload, now, ids)
    if kind == outbound.CREATE_CALL_FAILED:
        record = outbound.on_create_call_failed(record, payload, now)
    return replace(state, record=record, control=control)


def _on_timer(state: CallState, seq: int, now: datetime, ids: _Ids) -> tuple[CallState, list[Command]]:
    if seq != state.wait_seq:
        return state, []  # a timer of an earlier wait: its deadline moved on
    if state.phase == "call":
        step = lifecycle.next_step(state.record)
        record, control = state.record, state.control
        if isinstance(step, lifecycle.Wait) and step.deadline <= now:
            record = lifecycle.on_timeout(record, now)
        due = progress.result_deadline(control)
        if due is not None and due <= now:
            record, control = progress.on_result_deadline(record, control, now, ids)
        files, gave_up = files_ops.on_wait_over(state.recording_files, now)
        if gave_up:
            record = lifecycle.note(record, lifecycle.iso(now), "recording_file_missing",
                                    f"no RecordingFileStatusUpdated within {files_ops.FILE_WAIT_SECONDS} s")
        state = replace(state, record=record, control=control, recording_files=files)
    due_now = tuple(retry for retry in state.retries if retry.due <= now)
    state = replace(state, retries=tuple(retry for retry in state.retries if retry.due > now),
                    running=(*state.running, *(retry.activity for retry in due_now)))
    return state, [StartActivity(r.activity.activity_id, r.activity.name, r.activity.input) for r in due_now]


def _outcome(done: ActivityDone) -> Mapping[str, object]:
    if done.error is not None:
        return {"status": "failed", "error": done.error[:MAX_ERROR_CHARS]}
    return decode_json_object(done.output)


def _on_activity(state: CallState, done: ActivityDone, now: datetime, ids: _Ids) -> tuple[CallState, list[Command]]:
    activity = next((item for item in state.running if item.activity_id == done.activity_id), None)
    if activity is None:
        return state, []  # not ours, or reported already
    state = replace(state, running=tuple(item for item in state.running if item is not activity))
    policy = RETRIES[activity.name]
    if done.error is not None and activity.attempt < policy.max_attempts:
        # The orchestration's own retry: a timer step, then the same activity again.
        due = now + timedelta(seconds=policy.interval_seconds)
        retry = Retry(due, replace(activity, attempt=activity.attempt + 1, started=due))
        return replace(state, retries=(*state.retries, retry)), []
    return _on_result(state, activity, _outcome(done), now, ids)


def _on_result(state: CallState, activity: Activity, result: Mapping[str, object], now: datetime, ids: _Ids
               ) -> tuple[CallState, list[Command]]:
    record, control = state.record, state.control
    if activity.name == HANG_UP:
        record = lifecycle.on_hang_up_result(record, result, now)
    elif activity.name == LOAD_FLOW:
        result = outbound.flow_result(record.start, result)
        record, control = progress.on_flow_loaded(record, control, result, now, ids)
    elif activity.name == PLACE_CALL:
        record = outbound.on_placed(record, result, now)
    elif activity.name == RUN_ACTION:
        record, control = progress.on_request_result(record, control, activity.action_id or "", result, now, ids)
    elif activity.name == PREPARE_SUMMARY:
        return _summarized(state, result, now)
    elif activity.name == SEND_EMAIL:
        return replace(state, email=result), []
    elif activity.name == DOWNLOAD_RECORDING:
        files, blob = files_ops.on_downloaded(state.recording_files, result)
        detail = blob or f"download failed: {str(result.get('error') or 'unknown')[:MAX_ERROR_CHARS]}"
        record = lifecycle.note(record, lifecycle.iso(now), "recording_stored" if blob else "recording_failed", detail)
        return replace(state, record=record, recording_files=files), []
    elif activity.name == RESTART_STREAM and state.recovery is not None:
        stream: media_recovery.StreamName = (media_recovery.TRANSCRIPTION if activity.input.get("stream")
                                              == media_recovery.TRANSCRIPTION else media_recovery.MEDIA)
        recovery, record = media_recovery.on_restart_result(state.recovery, record, stream, result, now)
        return replace(state, record=record, recovery=recovery), []
    return replace(state, record=record, control=control), []


def _summarized(state: CallState, summary: Mapping[str, object], now: datetime) -> tuple[CallState, list[Command]]:
    blob = summary.get("summaryBlob")
    email_input: dict[str, object] = {"instanceId": state.record.start.instance_id}
    if blob:
        email_input["summaryBlob"] = blob
    else:
        # Every call gets its email: when the summary failed on every attempt, the email activity renders the
        # call's own record (no transcript) and says why.
        # The failure's first line: Durable appends the activity's stack trace, which has no place in an email.
        error = (str(summary.get("error") or "").strip().splitlines() or ["unknown error"])[0]
        error = error.strip()[:MAX_SUMMARY_ERROR_CHARS]
        email_input["call"] = {**_summary_fields(state), "summary_error": error}
    state = replace(state, summary=summary, phase="emailing")
    state, send = _start_activity(state, SEND_EMAIL, email_input, now)
    return state, [send]


MAX_SUMMARY_ERROR_CHARS = 300


def _on_recording_file(state: CallState, payload: Mapping[str, object], now: datetime
                       ) -> tuple[CallState, list[Command]]:
    """ACS said a recording file is ready: one download per chunk not taken yet (a redelivery starts none)."""
    if state.control.recording.external_storage:
        # ACS wrote the file into our `recordings` container itself: nothing to download.
        return replace(state, record=lifecycle.note(state.record, lifecycle.iso(now), "recording_file_ready",
                                                    "in the recordings container")), []
    files, downloads = files_ops.on_file_ready(state.recording_files, payload)
    detail = f"{len(downloads)} new chunk(s)" if downloads else "already taken"
    state = replace(state, recording_files=files,
                    record=lifecycle.note(state.record, lifecycle.iso(now), "recording_file_ready", detail))
    started: list[Command] = []
    for download in downloads:
        state, command = _start_activity(state, DOWNLOAD_RECORDING,
                                         download.to_input(state.record.start.instance_id), now)
        started.append(command)
    return state, started


def _busy(state: CallState, name: str) -> bool:
    return any(item.name == name for item in state.running) or any(r.activity.name == name for r in state.retries)


def _step_call(state: CallState, now: datetime) -> tuple[CallState, StartActivity | None]:
    """One thing the call phase starts now, if any: the summary, a hang-up, or the next queued action."""
    record = state.record
    step = lifecycle.next_step(record)
    if isinstance(step, lifecycle.Summarize):
        if _busy(state, PLACE_CALL):
            return state, None  # an outbound call still being placed may yet need its hang-up
        files, hold = files_ops.holds_summary(state.recording_files, state.control.recording.expects_file, now)
        if hold:
            return replace(state, recording_files=files), None
        state = replace(state, recording_files=files, phase="summarizing")
        return _start_activity(state, PREPARE_SUMMARY, _summary_fields(state), now)
    if isinstance(step, lifecycle.HangUp):
        # Raced with the inbox, not awaited alone: CallDisconnected typically arrives while it runs.
        state = replace(state, record=lifecycle.on_hang_up_started(record, now))
        return _start_activity(state, HANG_UP, {"callConnectionId": step.call_connection_id}, now)
    if not record.call_connection_id or _busy(state, RUN_ACTION):
        return state, None
    control, queued = progress.next_dispatch(record, state.control)
    if queued is None:
        return state, None
    # The instance id: a sealed target or caller opens only for the call it was sealed for.
    fields = {"callConnectionId": record.call_connection_id, "instanceId": record.start.instance_id,
              **queued.to_payload(), **_caller_ref(record),
              **recording_ops.activity_fields(control.recording, queued, record.start.server_call_id,
                                             record.start.instance_id)}
    return _start_activity(replace(state, control=control), RUN_ACTION, fields, now, queued.action_id)


def _caller_ref(record: lifecycle.CallRecord) -> dict[str, object]:
    # Opaque and sealed by the events function for this instance: handed to the action activity as it came,
    # with the instance id it was sealed for.
    ref = record.start.caller_ref
    return {"callerRef": ref, "instanceId": record.start.instance_id} if ref is not None else {}


def _summary_fields(state: CallState) -> dict[str, object]:
    recovered = media_recovery.summary(state.recovery) if state.recovery is not None else None
    return {**lifecycle.summary_fields(state.record), **files_ops.summary_fields(state.recording_files),
            **({"media_recovery": recovered} if recovered else {})}


def _recover(state: CallState, now: datetime) -> tuple[CallState, list[Command]]:
    """Restarts of lost streams that are due now (shared/media_recovery.py), as activities."""
    if state.recovery is None or state.phase != "call":
        return state, []
    recovery, record, restarts = media_recovery.step(state.recovery, state.record, now)
    state = replace(state, recovery=recovery, record=record)
    started: list[Command] = []
    for restart in restarts:
        fields = {"callConnectionId": record.call_connection_id, "instanceId": record.start.instance_id,
                  "stream": restart.stream, "attempt": restart.attempt, "operationContext": restart.operation_context,
                  "gapMarker": restart.gap_marker}
        state, command = _start_activity(state, RESTART_STREAM, fields, now)
        started.append(command)
    return state, started


def _advance(state: CallState, now: datetime) -> tuple[CallState, list[Command]]:
    state, started = _recover(state, now)
    while state.phase == "call":
        state, command = _step_call(state, now)
        if command is None:
            break
        started.append(command)
    if state.email is not None:
        return _finish(state, now, started)
    status = SetStatus(status_of(state))
    return replace(state, wait_seq=state.wait_seq + 1), [status, *started, WaitUntil(_deadline(state, now),
                                                                                     state.wait_seq + 1)]


def _deadline(state: CallState, now: datetime) -> datetime:
    candidates = [retry.due for retry in state.retries]
    if state.phase == "call":
        step = lifecycle.next_step(state.record)
        if isinstance(step, lifecycle.Wait):
            candidates.append(step.deadline)
        due = progress.result_deadline(state.control)
        if due is not None:
            candidates.append(due)
        files_due = files_ops.deadline(state.recording_files)
        if files_due is not None:
            candidates.append(files_due)
        restart_due = media_recovery.next_due(state.recovery) if state.recovery is not None else None
        if restart_due is not None:
            candidates.append(restart_due)
    if state.running or not candidates:
        candidates.append(now + _poll(state, now))
    return min(candidates)


def _poll(state: CallState, now: datetime) -> timedelta:
    oldest = min((activity.started for activity in state.running), default=now)
    seconds = (now - oldest).total_seconds()
    return timedelta(seconds=min(max(seconds, ACTIVITY_POLL_SECONDS), MAX_ACTIVITY_POLL_SECONDS))


def status_of(state: CallState) -> dict[str, object]:
    """The custom status: what ops see without reading history."""
    return {**lifecycle.custom_status(state.record), **progress.status_fields(state.control)}


def _finish(state: CallState, now: datetime, started: list[Command]) -> tuple[CallState, list[Command]]:
    email = state.email or {"status": "skipped", "reason": "no summary"}
    summary = state.summary or {}
    record = lifecycle.mark_summarized(state.record, now, email)
    state = replace(state, record=record, phase="done")
    output = {
        "outcome": record.outcome,
        "connectedAt": record.connected_at,
        "endedAt": record.ended_at,
        "endReason": record.end_reason,
        "partial": lifecycle.is_partial(record),
        "summaryBlob": summary.get("summaryBlob"),
        "summary": {key: summary[key] for key in ("status", "error") if key in summary} or {"status": "ok"},
        "email": dict(email),
        "timeline": [entry.to_dict() for entry in record.timeline],
        **files_ops.output_fields(state.recording_files),
    }
    recovered = media_recovery.summary(state.recovery) if state.recovery is not None else None
    if recovered:
        output["mediaRecovery"] = recovered
    return state, [*started, SetStatus(status_of(state)), Finish(output)]
