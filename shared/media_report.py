"""The media host's end-of-call report as the orchestration keeps it, and what it says of the transcript (pure).

The report arrives from outside (`POST /api/media/{id}/ended`, media_host/call_session.py) and goes into
Durable history and the summary input, so it is cut down to bounded statistics first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from shared.media_dtmf import DTMF_EVENTS, compact_dtmf
from shared.turn_timeline import TURN_TIMELINE, clean_turn_timeline, turn_timeline_report

MAX_DETAIL_CHARS = 200
MAX_MEDIA_FIELDS = 40
MAX_MEDIA_KEY_CHARS = 64
# socketId and startedAt tell one media socket of a call from the next (shared/media_recovery.py).
MEDIA_TEXT_FIELDS = ("type", "time", "closeReason", "voiceProcessor", "socketId", "startedAt")


def compact_media_report(payload: Mapping[str, object]) -> dict[str, object]:
    """The media host's report as bounded statistics: it goes into history and the summary input.

    Numbers only, plus a few known short texts, so no transcript text can ride along whatever the sender puts
    in it.
    """
    report: dict[str, object] = {}
    for key, value in payload.items():
        if len(report) >= MAX_MEDIA_FIELDS:
            break
        if isinstance(key, str) and len(key) <= MAX_MEDIA_KEY_CHARS and key != TURN_TIMELINE:
            report.update(_compact_field(key, value))
    timeline = _turn_timeline(payload)
    if timeline is not None:
        report[TURN_TIMELINE] = timeline
    return report


def _turn_timeline(payload: Mapping[str, object]) -> dict[str, object] | None:
    # Each turn's place on the timeline (shared/turn_timeline.py): built from media.json's `turns`, or checked
    # again when the report is compacted a second time (the orchestration compacts what the function raised).
    value = payload.get(TURN_TIMELINE)
    if isinstance(value, Mapping):
        return clean_turn_timeline(value)
    turns = payload.get(TURNS_REPORT)
    return turn_timeline_report(turns, payload.get("startedAt")) if isinstance(turns, Mapping) else None


def _compact_field(key: str, value: object) -> dict[str, object]:
    if isinstance(value, str):
        return {key: value[:MAX_DETAIL_CHARS]} if key in MEDIA_TEXT_FIELDS else {}
    if _finite_number(value):
        return {key: value}
    if key == DTMF_EVENTS:
        return {key: compact_dtmf(value)}  # tones and times only (shared/media_dtmf.py)
    if key == TURNS_REPORT and isinstance(value, Mapping):
        return turn_figures(value)
    if key == TRANSCRIPTION_REPORT and isinstance(value, Mapping):
        # The transcription socket's own figures (media_host/call_transcripts.py): numbers and flags only.
        return {key: {name: item for name, item in list(value.items())[:MAX_MEDIA_FIELDS]
                      if isinstance(name, str) and len(name) <= MAX_MEDIA_KEY_CHARS
                      and (_finite_number(item) or isinstance(item, bool))}}
    return {}


TURNS_REPORT = "turns"
# media.json's `turns` section (shared/voice_turns.py) flattened to the few figures the story and email show.
_TURN_DISTRIBUTIONS = {"latencyMs": "turnLatency", "bargeInStopAudioMs": "bargeInStopAudio"}


def turn_figures(turns: Mapping[str, object]) -> dict[str, object]:
    """Voice turn figures as flat numbers: `turns`, `turnLatencyP50Ms`/`P95Ms`/`MaxMs`, `bargeIns`,
    `bargeInStopAudioP95Ms`, `deadAirCount`, `deadAirMs`, `greetingMs` (each only when measured)."""
    figures: dict[str, object] = {}
    for key, name in (("turns", "turns"), ("bargeIns", "bargeIns"), ("greetingMs", "greetingMs")):
        if _finite_number(turns.get(key)):
            figures[name] = turns[key]
    for key, prefix in _TURN_DISTRIBUTIONS.items():
        distribution = turns.get(key)
        if isinstance(distribution, Mapping):
            for part in ("p50", "p95", "max"):
                if _finite_number(distribution.get(part)):
                    figures[f"{prefix}{part.capitalize()}Ms"] = distribution[part]
    dead_air = turns.get("deadAir")
    if isinstance(dead_air, Mapping):
        for key, name in (("count", "deadAirCount"), ("totalMs", "deadAirMs")):
            if _finite_number(dead_air.get(key)):
                figures[name] = dead_air[key]
    return figures


def _finite_number(value: object) -> bool:
    # NaN and infinities are not JSON, and the host parses these payloads.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


TRANSCRIPTION_REPORT = "transcription"
# WebSocket close codes of a stream that ended cleanly (normal closure, going away). Anything else, 1006
# for a connection lost without a close frame above all, means audio after the drop was never heard.
CLEAN_CLOSE_CODES = (1000, 1001)


def _broke(close_code: object) -> bool:
    return isinstance(close_code, int) and close_code not in CLEAN_CLOSE_CODES


def transcript_may_be_incomplete(report: Mapping[str, object]) -> bool:
    """True when the socket the transcript came from broke off before the call ended. ACS's transcription has
    a socket of its own (media_host/call_transcripts.py): when it closed cleanly, a broken media socket loses
    only what the voice processor itself would have written, which the `transcribe` processor never does."""
    media_broke = _broke(report.get("closeCode"))
    transcription = report.get(TRANSCRIPTION_REPORT)
    if not isinstance(transcription, Mapping):
        return media_broke
    if transcription.get("socketOpenAtReport") is True or _broke(transcription.get("closeCode")):
        return True
    return media_broke and report.get("voiceProcessor") != "transcribe"
