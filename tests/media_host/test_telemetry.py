"""The media socket's span and frame-timing metrics (media_host/telemetry.py), with in-memory OpenTelemetry."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan

from media_host.telemetry import MediaCallTelemetry
from tests.otel_memory import memory_telemetry

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@dataclass
class Stats:
    gaps: int = 0
    call_connection_id: str | None = "conn-1"
    correlation_id: str | None = "corr-1"


def finished(instance_id: str) -> ReadableSpan:
    (span,) = [s for s in memory_telemetry().finished_spans() if s.attributes.get("call.instance_id") == instance_id]
    return span


def test_the_trace_continues_from_the_url_or_else_the_header() -> None:
    memory_telemetry()
    from_url = MediaCallTelemetry(f"/ws/call-url/tok?traceparent={PARENT}", {}, "call-url", Stats())
    from_header = MediaCallTelemetry("/ws/call-header/tok", {"traceparent": PARENT}, "call-header", Stats())
    malformed = MediaCallTelemetry("/ws/call-bad/tok?traceparent=00-zz", {"traceparent": "junk"}, "call-bad",
                                   Stats())
    for telemetry in (from_url, from_header, malformed):
        telemetry.finish({"closeCode": 1000, "framesReceived": 0, "gaps": 0})
    for instance_id in ("call-url", "call-header"):
        span = finished(instance_id)
        assert f"{span.context.trace_id:032x}" == PARENT.split("-")[1]
        assert f"{span.parent.span_id:016x}" == PARENT.split("-")[2]
    assert finished("call-bad").parent is None
    assert from_url.log_fields["traceId"] == PARENT.split("-")[1]


def test_frame_timing_is_recorded_per_window_and_on_finish() -> None:
    telemetry = memory_telemetry()
    before = telemetry.histogram_totals().get("media.frame_latency", (0, 0.0))[0]
    gaps_before = telemetry.counter_totals().get("media.gaps", 0)
    stats = Stats()
    media = MediaCallTelemetry("/ws/call-timing/tok", {}, "call-timing", stats)
    for _ in range(60):  # one full window of 50, then 10 more
        media.on_frame("2020-01-01T00:00:00Z")  # years old: every frame is late
    stats.gaps = 2
    media.finish({"closeCode": 1006, "framesReceived": 60, "gaps": 2})
    assert telemetry.histogram_totals()["media.frame_latency"][0] - before == 2
    assert telemetry.counter_totals()["media.gaps"] - gaps_before == 2
    span = finished("call-timing")
    assert span.attributes["media.late_frames"] == 60 and span.attributes["media.close_code"] == 1006
    assert span.status.status_code.name == "ERROR"
    assert (span.attributes["call.connection_id"], span.attributes["call.correlation_id"]) == ("conn-1", "corr-1")
