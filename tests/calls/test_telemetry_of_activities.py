"""Activity spans and the metrics only activities can know, with the real activities against Azurite:
calls.missed and calls.dropped (with ACS's disconnect code) from the summary activity, email.failed once on
the last attempt of the email activity, and each activity's span continuing the call's trace."""

from __future__ import annotations

import uuid

import pytest

from calls.activity_telemetry import email_attempts_blob
from shared.call_activity_names import RETRIES, SEND_EMAIL
from tests.conftest import FunctionApp
from tests.otel_memory import MemoryTelemetry, memory_telemetry

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def telemetry() -> MemoryTelemetry:
    return memory_telemetry()


def summary_fields(instance_id: str, outcome: str, disconnect: str | None, connected: bool) -> dict[str, object]:
    timeline: list[dict[str, object]] = [{"at": "2026-01-01T00:00:00Z", "event": "ringing", "detail": None}]
    if disconnect:
        timeline.append({"at": "2026-01-01T00:01:00Z", "event": "CallDisconnected", "detail": disconnect})
    return {"instance_id": instance_id, "caller": "4:+1 425 *** **00", "callee": "4:+1 800 *** **99",
            "outcome": outcome, "ringing_at": "2026-01-01T00:00:00Z",
            "connected_at": "2026-01-01T00:00:02Z" if connected else None, "ended_at": "2026-01-01T00:01:00Z",
            "end_reason": disconnect, "timeline": timeline, "media": None, "partial": False,
            "traceparent": TRACEPARENT}


def dropped_points(telemetry: MemoryTelemetry) -> dict[tuple[int, int], float]:
    return {(p.attributes["disconnect.code"], p.attributes["disconnect.sub_code"]): p.value
            for p in telemetry.points("calls.dropped")}


def test_a_dropped_call_counts_with_its_disconnect_code(app_env: pytest.MonkeyPatch, function_app: FunctionApp,
                                                       telemetry: MemoryTelemetry) -> None:
    instance_id = f"call-{uuid.uuid4().hex}"
    before = dropped_points(telemetry).get((500, 8521), 0)
    missed_before = telemetry.counter_totals().get("calls.missed", 0)
    function_app.activity("prepare_call_summary",
                          summary_fields(instance_id, "completed", "code 500, subCode 8521, Media lost.", True))
    assert dropped_points(telemetry)[(500, 8521)] - before == 1
    assert telemetry.counter_totals().get("calls.missed", 0) == missed_before
    (span,) = [s for s in telemetry.finished_spans() if s.attributes.get("call.instance_id") == instance_id]
    assert span.name == "activity prepare_call_summary" and span.attributes["call.outcome"] == "completed"
    assert f"{span.context.trace_id:032x}" == TRACEPARENT.split("-")[1]
    assert f"{span.parent.span_id:016x}" == TRACEPARENT.split("-")[2]


def test_a_missed_call_counts_once_and_a_normal_end_is_no_drop(app_env: pytest.MonkeyPatch,
                                                               function_app: FunctionApp,
                                                               telemetry: MemoryTelemetry) -> None:
    before = telemetry.counter_totals()
    function_app.activity("prepare_call_summary", summary_fields(
        f"call-{uuid.uuid4().hex}", "missed", "code 487, subCode 0, The caller hung up.", False))
    function_app.activity("prepare_call_summary", summary_fields(
        f"call-{uuid.uuid4().hex}", "completed", "code 200, subCode 0, The conversation has ended.", True))
    after = telemetry.counter_totals()
    assert after.get("calls.missed", 0) - before.get("calls.missed", 0) == 1
    assert after.get("calls.dropped", 0) == before.get("calls.dropped", 0)


def test_a_failing_email_counts_once_on_its_last_attempt(app_env: pytest.MonkeyPatch, function_app: FunctionApp,
                                                         telemetry: MemoryTelemetry) -> None:
    # No summary blob: every attempt fails before reaching ACS, as an attempt whose send fails would.
    instance_id = f"call-{uuid.uuid4().hex}"
    payload = {"instanceId": instance_id, "summaryBlob": f"calls/{instance_id}/summary.json",
               "traceparent": TRACEPARENT}
    failed = []
    for _ in range(RETRIES[SEND_EMAIL].max_attempts):
        before = telemetry.counter_totals().get("email.failed", 0)
        with pytest.raises(RuntimeError):
            function_app.activity("send_summary_email", payload)
        failed.append(telemetry.counter_totals().get("email.failed", 0) - before)
    assert failed == [0] * (RETRIES[SEND_EMAIL].max_attempts - 1) + [1]
    spans = [s for s in telemetry.finished_spans() if s.attributes.get("call.instance_id") == instance_id]
    assert len(spans) == RETRIES[SEND_EMAIL].max_attempts
    assert all(s.status.status_code.name == "ERROR" for s in spans)
    assert email_attempts_blob(instance_id).startswith(f"calls/{instance_id}/")


def test_a_summary_written_again_counts_the_call_end_once(app_env: pytest.MonkeyPatch, function_app: FunctionApp,
                                                          telemetry: MemoryTelemetry) -> None:
    # Activities run at least once: a second run after success (a lost completion) must not count again.
    missed_id, dropped_id = f"call-{uuid.uuid4().hex}", f"call-{uuid.uuid4().hex}"
    missed_before = telemetry.counter_totals().get("calls.missed", 0)
    dropped_before = dropped_points(telemetry).get((500, 8521), 0)
    for _ in range(2):
        function_app.activity("prepare_call_summary", summary_fields(missed_id, "missed", None, False))
        function_app.activity("prepare_call_summary",
                              summary_fields(dropped_id, "completed", "code 500, subCode 8521, Media lost.", True))
    assert telemetry.counter_totals().get("calls.missed", 0) - missed_before == 1
    assert dropped_points(telemetry)[(500, 8521)] - dropped_before == 1
