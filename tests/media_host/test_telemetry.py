"""The media socket's span and frame-timing metrics (media_host/telemetry.py), with in-memory OpenTelemetry."""

from __future__ import annotations

import uuid
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
    url_id, header_id, bad_id = (f"call-{uuid.uuid4().hex}" for _ in range(3))
    from_url = MediaCallTelemetry(f"/ws/{url_id}/tok?traceparent={PARENT}", {}, url_id, Stats())
    from_header = MediaCallTelemetry(f"/ws/{header_id}/tok", {"traceparent": PARENT}, header_id, Stats())
    malformed = MediaCallTelemetry(f"/ws/{bad_id}/tok?traceparent=00-zz", {"traceparent": "junk"}, bad_id,
                                   Stats())
    for telemetry in (from_url, from_header, malformed):
        telemetry.finish({"closeCode": 1000, "framesReceived": 0, "gaps": 0})
    for instance_id in (url_id, header_id):
        span = finished(instance_id)
        assert f"{span.context.trace_id:032x}" == PARENT.split("-")[1]
        assert f"{span.parent.span_id:016x}" == PARENT.split("-")[2]
    assert finished(bad_id).parent is None
    assert from_url.log_fields["traceId"] == PARENT.split("-")[1]


def test_frame_timing_is_recorded_per_window_and_on_finish() -> None:
    telemetry = memory_telemetry()
    before = telemetry.histogram_totals().get("media.frame_latency", (0, 0.0))[0]
    gaps_before = telemetry.counter_totals().get("media.gaps", 0)
    stats = Stats()
    instance_id = f"call-{uuid.uuid4().hex}"
    media = MediaCallTelemetry(f"/ws/{instance_id}/tok", {}, instance_id, stats)
    for _ in range(60):  # one full window of 50, then 10 more
        media.on_frame("2020-01-01T00:00:00Z")  # years old: every frame is late
    stats.gaps = 2
    media.finish({"closeCode": 1006, "framesReceived": 60, "gaps": 2})
    assert telemetry.histogram_totals()["media.frame_latency"][0] - before == 2
    assert telemetry.counter_totals()["media.gaps"] - gaps_before == 2
    span = finished(instance_id)
    assert span.attributes["media.late_frames"] == 60 and span.attributes["media.close_code"] == 1006
    assert span.status.status_code.name == "ERROR"
    assert (span.attributes["call.connection_id"], span.attributes["call.correlation_id"]) == ("conn-1", "corr-1")
