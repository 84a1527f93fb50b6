"""The call lifecycle decisions, without the Durable SDK."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import call_lifecycle as lc
from shared.media_report import MAX_MEDIA_FIELDS, compact_media_report

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TIMEOUTS = lc.CallTimeouts(connect_seconds=45, max_duration_seconds=600, reorder_grace_seconds=5,
                           hang_up_wait_seconds=30, media_report_wait_seconds=20)
START = lc.CallStart(instance_id="call-abc", caller="+1555***0100", callee="+1555***0199",
                     correlation_id="corr-1", server_call_id="server-1", ringing_at="2026-03-01T12:00:00Z",
                     timeouts=TIMEOUTS)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def payload(seconds: float, **data: object) -> dict[str, object]:
    return {"time": lc.iso(later(seconds)), **data}


def ringing() -> lc.CallRecord:
    return lc.begin(START, T0)


def connected() -> lc.CallRecord:
    return lc.on_event(ringing(), lc.CALL_CONNECTED, payload(3, callConnectionId="cc-1"), later(3))


def ended() -> lc.CallRecord:
    return lc.on_event(connected(), lc.CALL_DISCONNECTED, payload(60), later(60))


def test_call_start_round_trips_through_its_dict() -> None:
    assert lc.CallStart.from_dict(START.to_dict()) == START
    assert lc.CallStart.from_dict({"instanceId": "i", "ringingAt": "r"}).timeouts == lc.CallTimeouts()


def test_ringing_waits_for_the_connect_deadline() -> None:
    assert lc.next_step(ringing()) == lc.Wait("answer", later(45))
    assert lc.custom_status(ringing()) == {"stage": "ringing", "since": "2026-03-01T12:00:00Z", "outcome": None,
                                           "callConnectionId": None, "correlationId": "corr-1"}


def test_answered_keeps_ringing_and_the_same_deadline() -> None:
    record = lc.on_event(ringing(), lc.CALL_ANSWERED, payload(2, callConnectionId="cc-1"), later(2))
    assert record.stage == "ringing" and record.call_connection_id == "cc-1"
    assert lc.next_step(record) == lc.Wait("answer", later(45))


def test_connected_waits_for_the_maximum_duration() -> None:
    record = connected()
    assert (record.stage, record.connected_at) == ("connected", "2026-03-01T12:00:03Z")
    assert lc.next_step(record) == lc.Wait("disconnect", later(603))


def test_disconnect_ends_the_call_and_waits_for_the_media_report() -> None:
    record = ended()
    assert (record.stage, record.outcome, record.ended_at) == ("ended", lc.COMPLETED, "2026-03-01T12:01:00Z")
    assert lc.next_step(record) == lc.Wait("media_report", later(80))
    reported = lc.on_event(record, lc.MEDIA_STREAM_ENDED, payload(61, audioFrames=10), later(61))
    assert lc.next_step(reported) == lc.Summarize()
    assert lc.summary_fields(reported)["media"] == {"time": "2026-03-01T12:01:01Z", "audioFrames": 10}


def test_media_report_timeout_makes_the_summary_partial() -> None:
    record = lc.on_timeout(ended(), later(80))
    assert lc.next_step(record) == lc.Summarize() and lc.is_partial(record)
    assert lc.summary_fields(record)["partial"] is True


@pytest.mark.parametrize(("report", "partial"), [
    ({"closeCode": 1000}, False),
    ({"closeCode": 1001}, False),
    ({"closeCode": 1006}, True),  # the media socket broke and the transcript came from it
    ({"closeCode": 1011}, True),
    ({}, False),  # no close code: nothing says the stream broke
    # ACS's transcription on its own socket: a broken media socket loses nothing the transcribe processor keeps
    ({"closeCode": 1006, "voiceProcessor": "transcribe", "transcription": {"closeCode": 1000}}, False),
    ({"closeCode": 1006, "voiceProcessor": "realtime", "transcription": {"closeCode": 1000}}, True),
    ({"closeCode": 1000, "voiceProcessor": "transcribe", "transcription": {"closeCode": 1006}}, True),
    ({"closeCode": 1000, "voiceProcessor": "transcribe", "transcription": {"socketOpenAtReport": True}}, True),
    ({"closeCode": 1000, "voiceProcessor": "transcribe", "transcription": {"closeCode": 1001,
                                                                        "socketOpenAtReport": False}}, False),
])
def test_partial_follows_the_socket_the_transcript_came_from(report: dict[str, object], partial: bool) -> None:
    reported = lc.on_event(ended(), lc.MEDIA_STREAM_ENDED, payload(61, **report), later(61))
    assert lc.is_partial(reported) is partial
    assert lc.summary_fields(reported)["partial"] is partial


def test_a_call_that_never_connected_is_never_partial() -> None:
    record = lc.on_timeout(ringing(), later(50))
    assert record.connected_at is None and lc.is_partial(record) is False


@pytest.mark.parametrize("name", [lc.CALL_ANSWERED, lc.CALL_CONNECTED, lc.CALL_DISCONNECTED,
                                  lc.ANSWER_FAILED_EVENT])
def test_events_after_the_call_ended_change_nothing(name: str) -> None:
    record = ended()
    assert lc.on_event(record, name, payload(70, callConnectionId="cc-2"), later(70)) == record


def test_duplicates_change_nothing() -> None:
    record = connected()
    assert lc.on_event(record, lc.CALL_CONNECTED, payload(4), later(4)) == record
    answered = lc.on_event(ringing(), lc.CALL_ANSWERED, payload(2), later(2))
    assert lc.on_event(answered, lc.CALL_ANSWERED, payload(2), later(3)) == answered
    reported = lc.on_event(ended(), lc.MEDIA_STREAM_ENDED, payload(61, audioFrames=1), later(61))
    assert lc.on_event(reported, lc.MEDIA_STREAM_ENDED, payload(62, audioFrames=2), later(62)) == reported
    left = lc.on_event(ringing(), lc.CALL_DISCONNECTED, payload(9), later(9))
    assert lc.on_event(left, lc.CALL_DISCONNECTED, payload(9), later(10)) == left


def test_disconnect_before_connect_is_a_completed_call() -> None:
    record = lc.on_event(ringing(), lc.CALL_DISCONNECTED, payload(30), later(30))
    assert record.stage == "ringing" and lc.next_step(record) == lc.Wait("late_connect", later(35))
    record = lc.on_event(record, lc.CALL_CONNECTED, payload(3), later(31))
    assert (record.stage, record.outcome) == ("ended", lc.COMPLETED)
    assert (record.connected_at, record.ended_at) == ("2026-03-01T12:00:03Z", "2026-03-01T12:00:30Z")


def test_disconnect_alone_while_ringing_is_missed_without_hang_up() -> None:
    record = lc.on_event(ringing(), lc.CALL_ANSWERED, payload(2, callConnectionId="cc-1"), later(2))
    record = lc.on_event(record, lc.CALL_DISCONNECTED, payload(30), later(30))
    record = lc.on_timeout(record, later(35))
    assert (record.outcome, record.ended_at, record.end_reason) == (
        lc.MISSED, "2026-03-01T12:00:30Z", "caller hung up before connect")
    assert lc.next_step(record) == lc.Summarize()


def test_missed_answered_call_is_hung_up_and_waits_for_the_result() -> None:
    record = lc.on_event(ringing(), lc.CALL_ANSWERED, payload(2, callConnectionId="cc-1"), later(2))
    record = lc.on_timeout(record, later(45))
    assert record.outcome == lc.MISSED and lc.next_step(record) == lc.HangUp("cc-1")
    record = lc.on_hang_up_started(record, later(45))
    assert lc.next_step(record) == lc.Wait("hang_up_result", later(75))
    assert lc.next_step(lc.on_hang_up_result(record, {"status": "ok"}, later(46))) == lc.Summarize()
    assert lc.next_step(lc.on_timeout(record, later(75))) == lc.Summarize()


def test_missed_call_never_answered_goes_straight_to_the_summary() -> None:
    record = lc.on_timeout(ringing(), later(45))
    assert (record.stage, record.outcome, record.ended_at) == ("ended", lc.MISSED, "2026-03-01T12:00:45Z")
    assert lc.next_step(record) == lc.Summarize()


def test_maximum_duration_hangs_up_then_waits_for_the_disconnect() -> None:
    record = lc.on_timeout(connected(), later(603))
    assert (record.stage, record.outcome) == ("connected", lc.MAX_DURATION)
    assert lc.next_step(record) == lc.HangUp("cc-1")
    record = lc.on_hang_up_started(record, later(603))
    assert lc.next_step(record) == lc.Wait("disconnect_after_hang_up", later(633))
    # The disconnect may come before the activity reports back: both orders end the same way.
    first = lc.on_event(record, lc.CALL_DISCONNECTED, payload(604), later(604))
    first = lc.on_hang_up_result(first, {"status": "ok"}, later(605))
    assert (first.stage, first.outcome, first.ended_at) == ("ended", lc.MAX_DURATION, "2026-03-01T12:10:04Z")
    assert first.end_reason == "maximum duration of 600 s reached"


def test_hang_up_reporting_the_call_gone_ends_it() -> None:
    record = lc.on_hang_up_started(lc.on_timeout(connected(), later(603)), later(603))
    record = lc.on_hang_up_result(record, {"status": "gone"}, later(604))
    assert (record.stage, record.ended_at) == ("ended", "2026-03-01T12:10:04Z")


def test_unconfirmed_disconnect_ends_at_the_deadline() -> None:
    record = lc.on_hang_up_started(lc.on_timeout(connected(), later(603)), later(603))
    record = lc.on_hang_up_result(record, {"status": "failed"}, later(606))
    record = lc.on_timeout(record, later(633))
    assert (record.stage, record.ended_at) == ("ended", "2026-03-01T12:10:33Z")
    assert [entry.event for entry in record.timeline][-2:] == ["hang_up_result", "disconnect_not_confirmed"]


def test_maximum_duration_without_a_connection_id_ends_at_once() -> None:
    record = lc.on_event(ringing(), lc.CALL_CONNECTED, payload(3), later(3))
    record = lc.on_timeout(record, later(603))
    assert (record.stage, record.outcome) == ("ended", lc.MAX_DURATION)


def test_answer_failed_ends_with_its_reason() -> None:
    failure = payload(1, result={"code": 409, "subCode": 5, "message": "already answered"})
    record = lc.on_event(ringing(), lc.ANSWER_FAILED_EVENT, failure, later(1))
    assert (record.stage, record.outcome) == ("ended", lc.ANSWER_FAILED)
    assert record.end_reason == "code 409, subCode 5, already answered"
    assert lc.next_step(record) == lc.Summarize()


def test_event_times_are_normalised_and_bad_ones_fall_back_to_now() -> None:
    assert lc.parse_time("2026-03-01T13:00:03.1234567+01:00") == datetime(2026, 3, 1, 12, 0, 3, 123456,
                                                                          tzinfo=UTC)
    assert lc.parse_time("2026-03-01T12:00:03") == later(3)
    for bad in ("yesterday", 7, None, "", "2026-03-01T12:00:03Z" + " " * 100):
        assert lc.parse_time(bad) is None
    record = lc.on_event(ringing(), lc.CALL_CONNECTED, {"time": "soon"}, later(4))
    assert record.connected_at == "2026-03-01T12:00:04Z"


def test_media_report_keeps_bounded_statistics_only() -> None:
    report = compact_media_report({"type": "MediaStreamEnded", "time": "t", "closeReason": "x" * 500,
                                      "audioFrames": 10, "gapMs": 1.5, "transcript": "private words",
                                      "nested": {"a": 1}, "flag": True, "nan": float("nan"), "k" * 65: 1,
                                      **{f"n{index}": index for index in range(100)}})
    assert report["closeReason"] == "x" * lc.MAX_DETAIL_CHARS
    assert report["audioFrames"] == 10 and report["gapMs"] == 1.5
    assert not {"transcript", "nested", "flag", "nan", "k" * 65} & report.keys()
    assert len(report) == MAX_MEDIA_FIELDS


def test_timeline_is_bounded() -> None:
    record = ringing()
    for index in range(lc.MAX_TIMELINE_ENTRIES + 10):
        record = replace(record, answered=False)
        record = lc.on_event(record, lc.CALL_ANSWERED, payload(index, result={"message": "m" * 500}), later(1))
    assert len(record.timeline) == lc.MAX_TIMELINE_ENTRIES
    assert all(len(entry.detail or "") <= lc.MAX_DETAIL_CHARS for entry in record.timeline)


def test_summary_fields_describe_the_call() -> None:
    fields = lc.summary_fields(lc.on_event(ended(), lc.MEDIA_STREAM_ENDED, payload(61), later(61)))
    assert fields["instance_id"] == "call-abc" and fields["outcome"] == lc.COMPLETED
    assert (fields["connected_at"], fields["ended_at"]) == ("2026-03-01T12:00:03Z", "2026-03-01T12:01:00Z")
    assert [entry["event"] for entry in fields["timeline"]] == [
        "ringing", "CallConnected", "CallDisconnected", "MediaStreamEnded"]


STAGE_ORDER = {"ringing": 0, "connected": 1, "ended": 2, "summarized": 3}
ACTIONS = st.lists(st.tuples(st.sampled_from([*lc.EVENT_NAMES, "timeout", "hang_up_ok", "hang_up_failed"]),
                             st.integers(min_value=0, max_value=4000)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(ACTIONS)
def test_any_order_of_events_moves_forward_and_always_finishes(actions: list[tuple[str, int]]) -> None:
    record = ringing()
    for what, seconds in actions:
        before = record
        now = later(seconds)
        if what == "timeout":
            record = lc.on_timeout(record, now) if isinstance(lc.next_step(record), lc.Wait) else record
        elif what.startswith("hang_up_"):
            if record.hang_up == "requested":
                record = lc.on_hang_up_result(record, {"status": what.removeprefix("hang_up_")}, now)
        else:
            record = lc.on_event(record, what, payload(seconds, callConnectionId="cc-1"), now)
        if isinstance(lc.next_step(record), lc.HangUp):
            record = lc.on_hang_up_started(record, now)
        assert STAGE_ORDER[record.stage] >= STAGE_ORDER[before.stage]
        assert before.connected_at is None or record.connected_at == before.connected_at
        assert before.outcome is None or record.outcome == before.outcome
    # With no more events, deadlines alone end the call within a handful of steps.
    for _ in range(6):
        step = lc.next_step(record)
        if isinstance(step, lc.Summarize):
            break
        if isinstance(step, lc.HangUp):
            record = lc.on_hang_up_started(record, record.stage_since)
        else:
            record = lc.on_timeout(record, step.deadline)
    assert lc.next_step(record) == lc.Summarize()
    assert record.stage == "ended" and record.outcome is not None and record.ended_at is not None


def test_voice_turns_are_kept_as_a_few_flat_figures() -> None:
    turns = {"turns": 3, "latencyMs": {"p50": 410.5, "p95": 620.0, "max": 700.2, "count": 3}, "greetingMs": 250,
             "bargeIns": 1, "bargeInStopAudioMs": {"p50": 1.0, "p95": 2.5, "max": 2.5, "count": 1},
             "deadAir": {"count": 2, "totalMs": 9000.0, "thresholdMs": 3000.0},
             "entries": {"turns": [{"latencyMs": 410.5, "text": "never kept"}]}, "modelToAcsMs": None}
    report = compact_media_report({"closeCode": 1000, "turns": turns})
    assert report == {"closeCode": 1000, "turns": 3, "bargeIns": 1, "greetingMs": 250, "turnLatencyP50Ms": 410.5,
                      "turnLatencyP95Ms": 620.0, "turnLatencyMaxMs": 700.2, "bargeInStopAudioP50Ms": 1.0,
                      "bargeInStopAudioP95Ms": 2.5, "bargeInStopAudioMaxMs": 2.5, "deadAirCount": 2,
                      "deadAirMs": 9000.0}
    assert compact_media_report({"turns": {"turns": "3", "latencyMs": [1, 2]}}) == {}
