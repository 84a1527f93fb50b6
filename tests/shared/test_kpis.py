from __future__ import annotations

import pytest

from shared.kpis import (
    CALLS_ANSWERED,
    CALLS_DROPPED,
    CALLS_INCOMING,
    EMAIL_FAILED,
    EMAIL_SENT,
    MEDIA_FRAME_LATENCY,
    HistogramTotals,
    call_end,
    compute_kpis,
)


def by_name(counters: dict[str, float], latency: HistogramTotals | None = None) -> dict[str, object]:
    histograms = {MEDIA_FRAME_LATENCY: latency} if latency else {}
    return {kpi.name: kpi for kpi in compute_kpis(counters, histograms)}


def test_kpis_at_and_around_their_targets() -> None:
    kpis = by_name({CALLS_INCOMING: 100, CALLS_ANSWERED: 96, CALLS_DROPPED: 2, EMAIL_SENT: 99, EMAIL_FAILED: 1},
                   HistogramTotals(count=1000, sum=150_000.0))
    assert kpis["answer_rate"].value == pytest.approx(0.96) and kpis["answer_rate"].met is True
    assert kpis["drop_rate"].value == pytest.approx(2 / 96) and kpis["drop_rate"].met is False
    assert kpis["media_latency_ms"].value == pytest.approx(150.0) and kpis["media_latency_ms"].met is True
    # 99 of 100 is not "> 99 %": the target is strict, as in the alert rule (LessThan 0.99 fires only below).
    assert kpis["email_delivery_rate"].value == pytest.approx(0.99) and kpis["email_delivery_rate"].met is False


def test_no_volume_means_no_value() -> None:
    kpis = by_name({})
    assert all(kpi.value is None and kpi.met is None for kpi in kpis.values())


def test_slow_media_misses_the_latency_target() -> None:
    assert by_name({}, HistogramTotals(count=10, sum=2500.0))["media_latency_ms"].met is False


def fields(outcome: str, connected: bool, *details: str, transferred: bool = False) -> dict[str, object]:
    timeline: list[dict[str, object]] = [{"at": "t", "event": "ringing", "detail": "from 4:+1 425 *** **00"}]
    if transferred:
        timeline.append({"at": "t", "event": "CallTransferAccepted", "detail": None})
    timeline += [{"at": "t", "event": "CallDisconnected", "detail": detail} for detail in details]
    return {"outcome": outcome, "connected_at": "2026-01-01T00:00:00Z" if connected else None, "timeline": timeline}


def test_call_end_counts_missed_and_dropped_calls() -> None:
    normal = call_end(fields("completed", True, "code 200, subCode 0, The conversation has ended."))
    assert (normal.missed, normal.dropped, normal.disconnect_code) == (False, False, 200)
    dropped = call_end(fields("completed", True, "code 500, subCode 8500, Media lost."))
    assert (dropped.dropped, dropped.disconnect_code, dropped.disconnect_sub_code) == (True, 500, 8500)
    missed = call_end(fields("missed", False, "code 487, subCode 0, The caller hung up before the call connected."))
    assert (missed.missed, missed.dropped) == (True, False)
    assert not call_end(fields("completed", True, "code 500, subCode 1")).missed
    assert not call_end(fields("completed", True, "code 500, subCode 1", transferred=True)).dropped
    assert not call_end(fields("completed", True)).dropped  # no CallDisconnected code: not counted as a drop
    assert call_end({"timeline": "junk"}) == call_end({})
    # An outbound call was never answered by the app: its drop would skew the drop rate of answered calls.
    outbound = {**fields("completed", True, "code 500, subCode 8500, Media lost."), "direction": "outbound"}
    assert not call_end(outbound).dropped and not call_end({**outbound, "outcome": "not_answered"}).missed
