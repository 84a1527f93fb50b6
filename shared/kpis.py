"""The four service KPIs, computed from metric totals exactly as the alert rules do (pure).

infra/modules/alerts.bicep runs the same arithmetic in KQL over Application Insights' customMetrics:
- answer rate = calls.answered / calls.incoming                       (target > 95 %)
- drop rate = calls.dropped / calls.answered                          (target < 2 %)
- media stream latency = sum(media.frame_latency) / count(media.frame_latency), in ms  (target < 200 ms)
- email delivery rate = email.sent / (email.sent + email.failed)      (target > 99 %)

A KPI with no volume has no value (None) rather than a misleading 0 % or 100 %.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

CALLS_INCOMING = "calls.incoming"
CALLS_ANSWERED = "calls.answered"
CALLS_MISSED = "calls.missed"
CALLS_DROPPED = "calls.dropped"
# Refused by the answer policy before answering (shared/answer_policy.py); not in calls.incoming, so the
# answer rate counts only calls the app meant to answer.
CALLS_REJECTED = "calls.rejected"
CALLS_REDIRECTED = "calls.redirected"
# Placed by POST /api/calls (shared/outbound_call.py): neither incoming nor answered, so no KPI ratio counts
# them; a dropped outbound call is not a dropped answered call either.
CALLS_OUTBOUND = "calls.outbound"
# Answered only to play the after-hours message (shared/after_hours_flow.py); also in calls.answered.
CALLS_AFTER_HOURS_MESSAGE = "calls.after_hours_message"
CALL_ANSWER_LATENCY = "call.answer_latency"
MEDIA_FRAME_LATENCY = "media.frame_latency"
MEDIA_FRAME_JITTER = "media.frame_jitter"
MEDIA_GAPS = "media.gaps"
MEDIA_LATE_FRAMES = "media.late_frames"
REALTIME_FAILURES = "media.realtime_failures"  # error events, failed transcriptions, failed responses
# Per-turn voice figures (shared/voice_turns.py), histograms in ms with the `voice.processor` attribute.
VOICE_TURN_LATENCY = "voice.turn_latency"
VOICE_MODEL_TO_ACS = "voice.model_to_acs"
VOICE_CALLER_TO_MODEL = "voice.caller_to_model"
VOICE_BARGE_IN_STOP_AUDIO = "voice.barge_in_stop_audio"
VOICE_BARGE_IN_AUDIO_STOPPED = "voice.barge_in_audio_stopped"
VOICE_DEAD_AIR = "voice.dead_air"
VOICE_GREETING_LATENCY = "voice.greeting_latency"
EMAIL_SENT = "email.sent"
EMAIL_FAILED = "email.failed"

ANSWER_RATE_TARGET = 0.95
DROP_RATE_TARGET = 0.02
MEDIA_LATENCY_TARGET_MS = 200.0
EMAIL_DELIVERY_RATE_TARGET = 0.99


@dataclass(frozen=True)
class HistogramTotals:
    count: int
    sum: float


@dataclass(frozen=True)
class Kpi:
    name: str
    value: float | None
    target: float
    direction: Literal["above", "below"]  # the value must stay above (or below) the target

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value > self.target if self.direction == "above" else self.value < self.target


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def answer_rate(incoming: float, answered: float) -> Kpi:
    return Kpi("answer_rate", ratio(answered, incoming), ANSWER_RATE_TARGET, "above")


def drop_rate(answered: float, dropped: float) -> Kpi:
    return Kpi("drop_rate", ratio(dropped, answered), DROP_RATE_TARGET, "below")


def media_latency(latency: HistogramTotals) -> Kpi:
    return Kpi("media_latency_ms", ratio(latency.sum, latency.count), MEDIA_LATENCY_TARGET_MS, "below")


def email_delivery_rate(sent: float, failed: float) -> Kpi:
    return Kpi("email_delivery_rate", ratio(sent, sent + failed), EMAIL_DELIVERY_RATE_TARGET, "above")


def compute_kpis(counters: Mapping[str, float], histograms: Mapping[str, HistogramTotals]) -> list[Kpi]:
    """All four KPIs from counter totals and histogram totals keyed by metric name (missing means 0)."""
    def total(name: str) -> float:
        return float(counters.get(name, 0))

    return [
        answer_rate(total(CALLS_INCOMING), total(CALLS_ANSWERED)),
        drop_rate(total(CALLS_ANSWERED), total(CALLS_DROPPED)),
        media_latency(histograms.get(MEDIA_FRAME_LATENCY, HistogramTotals(0, 0.0))),
        email_delivery_rate(total(EMAIL_SENT), total(EMAIL_FAILED)),
    ]


@dataclass(frozen=True)
class CallEnd:
    """How a finished call counts for the KPIs, from the summary fields of its orchestration."""

    missed: bool
    dropped: bool
    disconnect_code: int | None
    disconnect_sub_code: int | None


_NORMAL_DISCONNECT_CODES = range(200, 300)


def _code(detail: str, label: str) -> int | None:
    for part in detail.split(","):
        words = part.split()
        if len(words) == 2 and words[0] == label and words[1].lstrip("-").isdigit():
            return int(words[1])
    return None


def call_end(fields: Mapping[str, object]) -> CallEnd:
    """Missed: the call ended without connecting. Dropped: it connected, was not transferred, and ACS's
    CallDisconnected carried a result code outside 2xx (an unexpected disconnect rather than a hang-up)."""
    timeline = fields.get("timeline")
    entries = [entry for entry in timeline if isinstance(entry, Mapping)] if isinstance(timeline, list) else []
    events = [str(entry.get("event")) for entry in entries]
    disconnects = [str(entry.get("detail") or "") for entry in entries if entry.get("event") == "CallDisconnected"]
    detail = disconnects[-1] if disconnects else ""
    code, sub_code = _code(detail, "code"), _code(detail, "subCode")
    connected = bool(fields.get("connected_at"))
    dropped = (connected and "CallTransferAccepted" not in events and code is not None
               and code not in _NORMAL_DISCONNECT_CODES and fields.get("direction") != "outbound")
    return CallEnd(missed=fields.get("outcome") == "missed", dropped=dropped, disconnect_code=code,
                   disconnect_sub_code=sub_code)
