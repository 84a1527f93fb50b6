"""Each voice turn's place on the call's timeline (pure): carried compactly in the media report, told in the story.

media.json's `turns.entries` (shared/voice_turns.py) date each turn, barge-in and dead air in milliseconds from
the media socket's start (`startedAt`, wall clock; the offsets are on the host's monotonic clock, so the end of
the caller's speech is where the audio clock put it). The report keeps them as short number lists, capped
(`MAX_TURNS`, `MAX_BARGE_INS`, `MAX_DEAD_AIR`: the first ones of the call; `omitted` counts the rest), because
it goes into Durable history: about 1.5 KB at most. The story turns them back into timeline entries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

TURN_TIMELINE = "turnTimeline"
MAX_TURNS = 20
MAX_BARGE_INS = 10
MAX_DEAD_AIR = 10
MAX_OFFSET_MS = 7 * 24 * 3600 * 1000  # longer than any call: a wilder offset is not a time on this call
# Each kind: (media.json entry fields, the report's list name, its cap). A report row is the fields in order.
_KINDS: dict[str, tuple[tuple[str, ...], int]] = {
    "turns": (("atMs", "latencyMs", "modelToAcsMs", "callerToModelMs"), MAX_TURNS),
    "bargeIns": (("atMs", "stopAudioMs", "audioStoppedMs"), MAX_BARGE_INS),
    "deadAir": (("atMs", "durationMs"), MAX_DEAD_AIR),
}
_COUNTS = {"turns": "turns", "bargeIns": "bargeIns"}  # media.json's totals, to count what was left out


def _number(value: object) -> float | int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value if 0 <= value <= MAX_OFFSET_MS else None
    return None


def _started(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if moment.tzinfo is not None else None


def _rows(entries: object, fields: Sequence[str], cap: int, *, from_report: bool) -> list[list[float | int | None]]:
    rows: list[list[float | int | None]] = []
    for entry in entries if isinstance(entries, list) else []:
        if len(rows) >= cap:
            break
        if from_report:
            values = list(entry[:len(fields)]) if isinstance(entry, list) and len(entry) == len(fields) else None
        else:
            values = [entry.get(name) for name in fields] if isinstance(entry, Mapping) else None
        if values is None:
            continue
        row = [_number(value) for value in values]
        if row[0] is not None:  # an entry without its time has no place on the timeline
            rows.append(row)
    return rows


def turn_timeline_report(turns: Mapping[str, object], started_at: object) -> dict[str, Any] | None:
    """media.json's `turns` (and its `startedAt`) as the report's compact timeline; None with nothing to place."""
    start = _started(started_at)
    entries = turns.get("entries")
    if start is None or not isinstance(entries, Mapping):
        return None
    report: dict[str, Any] = {"startedAt": start}
    omitted = 0
    for kind, (fields, cap) in _KINDS.items():
        rows = _rows(entries.get(kind), fields, cap, from_report=False)
        total = turns.get(_COUNTS[kind]) if kind in _COUNTS else (_mapping(turns.get(kind)).get("count"))
        total = total if isinstance(total, int) and not isinstance(total, bool) else len(rows)
        omitted += max(0, total - len(rows))
        report[kind] = rows
    report["omitted"] = omitted
    return report if any(report[kind] for kind in _KINDS) else None


def clean_turn_timeline(value: Mapping[str, object]) -> dict[str, Any] | None:
    """A timeline already in the report's form, checked again (the report is compacted at each hop)."""
    start = _started(value.get("startedAt"))
    if start is None:
        return None
    report: dict[str, Any] = {"startedAt": start}
    for kind, (fields, cap) in _KINDS.items():
        report[kind] = _rows(value.get(kind), fields, cap, from_report=True)
    omitted = value.get("omitted")
    report["omitted"] = omitted if isinstance(omitted, int) and not isinstance(omitted, bool) and omitted >= 0 else 0
    return report


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


# --- the story ---------------------------------------------------------------------------------------------


def _at(start: datetime, offset_ms: float | int | None) -> str:
    moment = start + timedelta(milliseconds=offset_ms or 0)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g} ms"


def _turn(start: datetime, row: Sequence[float | int | None]) -> dict[str, Any]:
    at, latency, model_to_acs, caller_to_model = row
    return {"at": _at(start, at), "event": "turn", "status": "info", "latencyMs": latency,
            "meaning": f"The caller stopped speaking; the agent's first audio reached ACS after {_ms(latency)}.",
            "detail": f"turn latency {_ms(latency)}, ours: model to ACS {_ms(model_to_acs)}, "
                      f"caller to model {_ms(caller_to_model)}"}


def _barge_in(start: datetime, row: Sequence[float | int | None]) -> dict[str, Any]:
    at, stop_audio, audio_stopped = row
    return {"at": _at(start, at), "event": "barge_in", "status": "info", "stopAudioMs": stop_audio,
            "meaning": "The caller spoke over the agent; the agent stopped talking.",
            "detail": f"StopAudio sent after {_ms(stop_audio)}, agent audio stopped after {_ms(audio_stopped)}"}


def _dead_air(start: datetime, row: Sequence[float | int | None]) -> dict[str, Any]:
    at, duration = row
    return {"at": _at(start, at), "event": "dead_air", "status": "warning", "durationMs": duration,
            "meaning": "Dead air: a reply was expected and neither side spoke.",
            "detail": f"silent for {_ms(duration)}"}


_STORY = {"turns": _turn, "bargeIns": _barge_in, "deadAir": _dead_air}


def story_entries(report: Mapping[str, object]) -> list[dict[str, Any]]:
    """Timeline entries (story form: at, event, meaning, detail, status, and the figure) from a media report's
    turn timeline, at their wall-clock times; one more entry says how many were left out."""
    value = report.get(TURN_TIMELINE)
    timeline = clean_turn_timeline(value) if isinstance(value, Mapping) else None
    if timeline is None:
        return []
    start = datetime.fromisoformat(timeline["startedAt"].replace("Z", "+00:00"))
    entries = [_STORY[kind](start, row) for kind in _KINDS for row in timeline[kind]]
    if timeline["omitted"]:
        last = max((entry["at"] for entry in entries), default=_at(start, 0))
        entries.append({"at": last, "event": "turns_omitted", "status": "info", "detail": None,
                        "meaning": f"{timeline['omitted']} later turn(s), barge-in(s) or silence(s) are not shown "
                                   "(the story keeps the first of each; the figures above count them all)."})
    return entries
