"""One call's story, built from its Durable status with history (pure: status JSON in, story JSON out).

A raw Durable history is a wall of JSON; ops want to read a call: when it rang, was answered, connected,
what each action did, how and why it ended, how the summary and the email went. `build_call_story` turns the
status document that `get_status(show_history=True, show_history_output=True, show_input=True)` returns into
a timeline of plain-language entries plus the outcome, the durations, the media statistics and the blob names.

The status comes from Durable, but its payloads were written from outside (ACS callbacks, the media host):
every field is type-checked, texts are clipped and phone-number-like text is masked again, so a story never
carries more than the history does, and usually less.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shared import blob_names
from shared.call_activity_names import PREPARE_SUMMARY, SEND_EMAIL
from shared.call_inbox import INBOX_EVENT, KIND, decode_json_object
from shared.call_lifecycle import parse_time
from shared.call_story_meanings import ACTIVITY_MEANINGS, DECISION_MEANINGS, EVENT_MEANINGS
from shared.media_recovery import story_view
from shared.pii import mask_phone_numbers_in_text
from shared.recording_files import stored_in_output
from shared.turn_timeline import story_entries

MAX_TEXT_CHARS = 200
MAX_TIMELINE_ENTRIES = 300
MAX_DETAIL_FIELDS = 6
TRANSFERRED = "transferred"

_CLOSING_ACTIVITIES = frozenset({PREPARE_SUMMARY, SEND_EMAIL})
# Media statistics worth showing, in the order shown.
MEDIA_KEYS = ("sampleRate", "framesReceived", "framesSilent", "framesSent", "framesDropped", "gaps", "maxGapMs",
              "transcriptSegments", "transcriptLinesDropped", "malformedMessages", "closeCode", "closeReason",
              "audioStreams",
              # The voice turns (shared/media_report.py `turn_figures`); each turn is on the timeline too.
              "turns", "turnLatencyP50Ms", "turnLatencyP95Ms", "turnLatencyMaxMs", "greetingMs", "bargeIns",
              "bargeInStopAudioP50Ms", "bargeInStopAudioP95Ms", "bargeInStopAudioMaxMs", "deadAirCount", "deadAirMs")


def _text(value: object, limit: int = MAX_TEXT_CHARS) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = str(value)[:limit]
    return mask_phone_numbers_in_text(text) if text else None


def _seconds_between(start: object, end: object) -> float | None:
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None or last < first:
        return None
    return round((last - first).total_seconds(), 3)


def _result_text(payload: Mapping[str, Any]) -> str | None:
    result = payload.get("result")
    parts: list[str] = []
    if isinstance(result, Mapping):
        parts += [f"{key} {result[key]}" for key in ("code", "subCode") if isinstance(result.get(key), int | str)]
        message = _text(result.get("message"))
        if message:
            parts.append(message)
    details = payload.get("details")
    if isinstance(details, Mapping):
        # The event's own fields (tones recognized, transfer target, streaming status), already compact.
        parts += [f"{_text(key, 40)} {_text(value, 80)}" for key, value in list(details.items())[:MAX_DETAIL_FIELDS]
                  if isinstance(value, str | int | float) and not isinstance(value, bool) and _text(value, 80)]
    return ", ".join(parts) or None


def _is_failure(name: str) -> bool:
    return name.endswith("Failed") or name == "AnswerFailed"


def _event_meaning(name: str, payload: Mapping[str, Any]) -> str:
    meaning = EVENT_MEANINGS.get(name)
    if meaning is None:
        if _is_failure(name):
            meaning = f"ACS reported {name}: an action failed."
        elif name.endswith(("Completed", "Succeeded", "Accepted")):
            meaning = f"ACS reported {name}: an action succeeded."
        else:
            meaning = f"ACS reported {name}."
    if name == "MediaStreamEnded":
        frames, close = payload.get("framesReceived"), payload.get("closeCode")
        if isinstance(frames, int):
            meaning += f" {frames} audio frames received, close code {close}."
    return meaning


def _entry(at: str | None, event: str, meaning: str, detail: str | None = None, *,
           status: str = "info", **extra: object) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": at, "event": event, "meaning": meaning, "detail": detail, "status": status}
    entry.update({key: value for key, value in extra.items() if value is not None})
    return entry


def _activity_entry(event: Mapping[str, Any], failed: bool) -> dict[str, Any]:
    name = _text(event.get("FunctionName") or event.get("Name"), 80) or "activity"
    at = _text(event.get("Timestamp"), 64)
    duration = _seconds_between(event.get("ScheduledTime"), event.get("Timestamp"))
    if failed:
        reason = _text(event.get("Reason")) or _text(event.get("Details")) or "no reason given"
        return _entry(at, name, f"Activity {name} failed.", reason, status="error", durationSeconds=duration)
    result = decode_json_object(event.get("Result"))
    meaning = ACTIVITY_MEANINGS.get(name, f"Activity {name} finished.")
    request = decode_json_object(event.get("Input"))
    parts = [f"action {_text(request['action'], 40)}"] if isinstance(request.get("action"), str) else []
    if isinstance(result.get("status"), str):
        parts.append(f"status {_text(result['status'], 40)}")
    if result.get("operationId"):
        parts.append(f"operation {_text(result['operationId'], 64)}")
    if result.get("summaryBlob"):
        parts.append(f"blob {_text(result['summaryBlob'], 120)}")
    status = "error" if str(result.get("status", "")).lower() in ("failed", "canceled") else "ok"
    return _entry(at, name, meaning, ", ".join(parts) or None, status=status, durationSeconds=duration)


def _raised_event(raw: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """(name, payload) of an EventRaised: an inbox event shows under its own kind (shared/call_inbox.py)."""
    name = _text(raw.get("Name"), 80) or "event"
    payload = decode_json_object(raw.get("Input"))
    if name == INBOX_EVENT:
        name = _text(payload.get(KIND), 80) or "event"
    return name, payload


def _started_entry(raw: Mapping[str, Any], start: Mapping[str, Any]) -> dict[str, Any] | None:
    caller = _text(start.get("caller"), 80)
    at = _text(start.get("ringingAt"), 64) or _text(raw.get("Timestamp"), 64)
    if start.get("direction") == "outbound":
        callee = _text(start.get("callee"), 80)
        return _entry(at, "dialing", "The app placed an outbound call.", f"to {callee}" if callee else None)
    return _entry(at, "ringing", "The call rang and the app took it.", f"from {caller}" if caller else None)


def _raised_entry(raw: Mapping[str, Any], start: Mapping[str, Any]) -> dict[str, Any] | None:
    name, payload = _raised_event(raw)
    at = _text(payload.get("time"), 64) if parse_time(payload.get("time")) else None
    status = "error" if _is_failure(name) else "info"
    return _entry(at or _text(raw.get("Timestamp"), 64), name, _event_meaning(name, payload),
                  _result_text(payload), status=status)


def _task_completed_entry(raw: Mapping[str, Any], start: Mapping[str, Any]) -> dict[str, Any] | None:
    return _activity_entry(raw, failed=False)


def _task_failed_entry(raw: Mapping[str, Any], start: Mapping[str, Any]) -> dict[str, Any] | None:
    return _activity_entry(raw, failed=True)


def _terminated_entry(raw: Mapping[str, Any], start: Mapping[str, Any]) -> dict[str, Any] | None:
    return _entry(_text(raw.get("Timestamp"), 64), "terminated", "An operator terminated the orchestration.",
                  _text(raw.get("Input")), status="error")


def _failed_entry(raw: Mapping[str, Any], start: Mapping[str, Any]) -> dict[str, Any] | None:
    return _entry(_text(raw.get("Timestamp"), 64), "failed", "The orchestration failed.",
                  _text(raw.get("Reason") or raw.get("Result")), status="error")


def _execution_completed_entry(raw: Mapping[str, Any], start: Mapping[str, Any]) -> dict[str, Any] | None:
    return _failed_entry(raw, start) if raw.get("OrchestrationStatus") == "Failed" else None


# The history events that tell something about the call, by EventType; the rest (timers, orchestrator
# episodes, scheduled tasks) are machinery.
_HISTORY_ENTRIES: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any] | None]] = {
    "ExecutionStarted": _started_entry,
    "EventRaised": _raised_entry,
    "TaskCompleted": _task_completed_entry,
    "TaskFailed": _task_failed_entry,
    "ExecutionTerminated": _terminated_entry,
    "ExecutionFailed": _failed_entry,
    "ExecutionCompleted": _execution_completed_entry,
}


def _history_entries(history: Sequence[object], start: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for raw in history:
        if not isinstance(raw, Mapping):
            continue
        kind = raw.get("EventType")
        to_entry = _HISTORY_ENTRIES.get(kind) if isinstance(kind, str) else None
        entry = to_entry(raw, start) if to_entry is not None else None
        if entry is not None:
            entries.append(entry)
    return entries


# Shown from history instead (the ringing, the activities' results), or closing the story already.
_NOT_DECISIONS = frozenset({"ringing", "summarized", "hang_up_result"})
_INFO_DECISIONS = frozenset({"hang_up_requested", "action_requested", "action_sent", "menu_choice",
                             "recording_file_ready", "recording_stored", "dtmf_received"})


def _is_decision(event: str) -> bool:
    # The orchestration's own entries are snake_case; ACS's events (PascalCase) come from history.
    return event not in _NOT_DECISIONS and event == event.lower() and event.replace("_", "").isalnum()


def _decision_entries(output: Mapping[str, Any]) -> list[dict[str, Any]]:
    timeline = output.get("timeline")
    entries = []
    for item in timeline if isinstance(timeline, list) else []:
        if not isinstance(item, Mapping):
            continue
        event = item.get("event")
        if not isinstance(event, str) or not _is_decision(event):
            continue
        meaning = DECISION_MEANINGS.get(event, f"The orchestration recorded {_text(event, 60)}.")
        status = ("error" if event == "action_failed" else
                  "info" if event in _INFO_DECISIONS or event not in DECISION_MEANINGS else "warning")
        entries.append(_entry(_text(item.get("at"), 64), _text(event, 60) or "decision", meaning,
                              _text(item.get("detail")), status=status))
    return entries


_UNDATED = datetime.max.replace(tzinfo=UTC)


def _sort_key(entry: Mapping[str, Any]) -> datetime:
    return parse_time(entry.get("at")) or _UNDATED


def _raised(history: Sequence[object], name: str) -> Mapping[str, Any] | None:
    for raw in history:
        if isinstance(raw, Mapping) and raw.get("EventType") == "EventRaised":
            raised, payload = _raised_event(raw)
            if raised == name:
                return payload
    return None


def _media(history: Sequence[object], output: Mapping[str, Any]) -> dict[str, Any] | None:
    report = _raised(history, "MediaStreamEnded")
    if report is None:
        return None
    return {key: (_text(report[key]) if isinstance(report[key], str) else report[key])
            for key in MEDIA_KEYS if isinstance(report.get(key), int | float | str)
            and not isinstance(report.get(key), bool)}


def _email(history: Sequence[object], output: Mapping[str, Any]) -> dict[str, Any] | None:
    email = output.get("email")
    if not isinstance(email, Mapping):
        for raw in history:
            if isinstance(raw, Mapping) and raw.get("FunctionName") == SEND_EMAIL:
                email = (decode_json_object(raw.get("Result")) if raw.get("EventType") == "TaskCompleted"
                         else {"status": "failed", "error": raw.get("Reason")})
    if not isinstance(email, Mapping):
        return None
    return {key: _text(email.get(key), 120) for key in ("status", "operationId", "reason", "error")
            if email.get(key) is not None}


def _outcome(status: Mapping[str, Any], history: Sequence[object], output: Mapping[str, Any]) -> str | None:
    if _raised(history, "CallTransferAccepted") is not None:
        return TRANSFERRED
    outcome = output.get("outcome") or decode_json_object(status.get("customStatus")).get("outcome")
    return _text(outcome, 40)


def _story_timeline(history: Sequence[object], start: Mapping[str, Any],
                    output: Mapping[str, Any]) -> list[dict[str, Any]]:
    timeline = _history_entries(history, start) + _decision_entries(output)
    timeline += story_entries(_raised(history, "MediaStreamEnded") or {})  # each voice turn, at its own time
    # Sorted by time (history order breaks ties); the summary and the email always come after the call, so
    # they close the story even where timer clocks were accelerated (local runs) or skewed.
    timeline.sort(key=_sort_key)
    timeline.sort(key=lambda entry: entry["event"] in _CLOSING_ACTIVITIES)
    return timeline[:MAX_TIMELINE_ENTRIES]


def _durations(ringing_at: str | None, answered_at: object, connected_at: str | None, ended_at: str | None,
               finished_at: str | None) -> dict[str, float | None]:
    return {
        "answerSeconds": _seconds_between(ringing_at, answered_at),
        "ringSeconds": _seconds_between(ringing_at, connected_at or ended_at),
        "talkSeconds": _seconds_between(connected_at, ended_at) if connected_at else None,
        "totalSeconds": _seconds_between(ringing_at, finished_at or ended_at),
    }


def _end_reason(output: Mapping[str, Any], disconnected: Mapping[str, Any] | None) -> str | None:
    return _text(output.get("endReason")) or (_result_text(disconnected) if disconnected else None)


def _direction(start: Mapping[str, Any]) -> str:
    return "outbound" if start.get("direction") == "outbound" else "inbound"


def build_call_story(status: Mapping[str, Any]) -> dict[str, Any]:
    """The story of one call from its Durable status (with history, history output and input)."""
    history = status.get("historyEvents") or status.get("history") or []
    history = history if isinstance(history, list) else []
    start = decode_json_object(status.get("input"))
    output = decode_json_object(status.get("output"))
    custom = decode_json_object(status.get("customStatus"))
    instance_id = _text(status.get("instanceId"), 256) or ""
    timeline = _story_timeline(history, start, output)

    answered = decode_json_object(_raised(history, "CallAnswered"))
    ringing_at = _text(start.get("ringingAt"), 64)
    connected = decode_json_object(_raised(history, "CallConnected"))
    connected_at = _text(output.get("connectedAt"), 64) or _text(connected.get("time"), 64)
    disconnected = _raised(history, "CallDisconnected")
    ended_at = _text(output.get("endedAt"), 64) or _text(decode_json_object(disconnected).get("time"), 64)
    finished_at = timeline[-1]["at"] if timeline and status.get("runtimeStatus") != "Running" else None
    return {
        "instanceId": instance_id,
        "runtimeStatus": _text(status.get("runtimeStatus"), 40),
        "stage": _text(custom.get("stage"), 40),
        "outcome": _outcome(status, history, output),
        "caller": _text(start.get("caller"), 80),
        "callee": _text(start.get("callee"), 80),
        "direction": _direction(start),
        "correlationId": _text(start.get("correlationId") or custom.get("correlationId"), 128),
        "callConnectionId": _text(custom.get("callConnectionId") or answered.get("callConnectionId"), 128),
        "ringingAt": ringing_at,
        "connectedAt": connected_at,
        "endedAt": ended_at,
        "endReason": _end_reason(output, disconnected),
        "partial": bool(output.get("partial", False)),
        "durations": _durations(ringing_at, answered.get("time"), connected_at, ended_at, finished_at),
        "media": _media(history, output),
        "mediaRecovery": story_view(output.get("mediaRecovery")),
        "transcriptBlob": blob_names.transcript_blob(instance_id) if connected_at and instance_id else None,
        "summaryBlob": _text(output.get("summaryBlob"), 256),
        "recordings": stored_in_output(output),
        "email": _email(history, output),
        "timeline": timeline,
    }


def list_entry(status: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the call list, from a status without history."""
    start = decode_json_object(status.get("input"))
    output = decode_json_object(status.get("output"))
    custom = decode_json_object(status.get("customStatus"))
    return {
        "instanceId": _text(status.get("instanceId"), 256),
        "runtimeStatus": _text(status.get("runtimeStatus"), 40),
        "outcome": _text(output.get("outcome") or custom.get("outcome"), 40),
        "caller": _text(start.get("caller"), 80),
        "direction": _direction(start),
        "ringingAt": _text(start.get("ringingAt"), 64),
        "endedAt": _text(output.get("endedAt"), 64),
        "createdTime": _text(status.get("createdTime"), 64),
    }
