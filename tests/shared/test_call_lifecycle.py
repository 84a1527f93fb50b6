"""The call lifecycle decisions, without the Durable SDK."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import call_lifecycle as lc
from shared.call_timeline import TimelineEntry
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
    assert record.timeline[-1] == TimelineEntry("2026-03-01T12:00:03Z", "CallConnected", None)
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
ACTIONS = st.lists(st.tuples(st.sampled_from([*lc.EVENT_NAMES, "timeout", "hang_up_ok", "hang_up_failed",
                                              "hang_up_gone", "ask_hang_up", "transfer"]),
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
        elif what == "ask_hang_up":
            record = lc.request_hang_up(record, "asked")
        elif what == "transfer":
            record = lc.mark_transferred(record, now, "transferred")
            # Accepted on a connected call that had no outcome yet, and never otherwise.
            assert (record.outcome == lc.TRANSFERRED) is (
                before.outcome == lc.TRANSFERRED or (before.stage == "connected" and before.outcome is None))
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
    if record.connected_at is None:
        assert record.outcome in (lc.MISSED, lc.ANSWER_FAILED, lc.MAX_DURATION)
    if record.transferred_at is not None:
        assert record.outcome == lc.TRANSFERRED and record.connected_at is not None


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


def timeline(record: lc.CallRecord) -> list[tuple[str, str, str | None]]:
    return [(entry.at, entry.event, entry.detail) for entry in record.timeline]


def test_wire_names_and_limits_are_pinned() -> None:
    # Outcomes are shown in the summary, the custom status and the KPIs; event names are ACS's callback types
    # and the raisers' own kinds.
    assert (lc.COMPLETED, lc.MISSED, lc.MAX_DURATION, lc.ANSWER_FAILED, lc.TRANSFERRED, lc.REJECTED,
            lc.REDIRECTED) == ("completed", "missed", "max_duration", "answer_failed", "transferred", "rejected",
                               "redirected")
    assert lc.EVENT_NAMES == ("CallAnswered", "AnswerFailed", "CallConnected", "CallDisconnected",
                              "MediaStreamEnded")
    assert (lc.MAX_TIMELINE_ENTRIES, lc.MAX_DETAIL_CHARS) == (200, 200)


def test_iso_writes_utc_with_z_and_reads_naive_times_as_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the machine's own zone: a developer's laptop is not the Functions host.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert lc.iso(datetime(2026, 3, 1, 13, 0, 3, tzinfo=timedelta_zone(1))) == "2026-03-01T12:00:03Z"
        assert lc.iso(datetime(2026, 3, 1, 12, 0, 3)) == "2026-03-01T12:00:03Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def timedelta_zone(hours: int):  # type: ignore[no-untyped-def]
    from datetime import timezone
    return timezone(timedelta(hours=hours))


def test_event_times_up_to_64_characters_are_read() -> None:
    # Python reads any number of fractional digits; the length bound is what stops a huge value.
    at_64 = "2026-03-01T12:00:03." + "1" * 38 + "+00:00"
    assert len(at_64) == 64 and lc.parse_time(at_64) == datetime(2026, 3, 1, 12, 0, 3, 111111, tzinfo=UTC)
    assert lc.parse_time("2026-03-01T12:00:03." + "1" * 39 + "+00:00") is None


def test_ringing_is_noted_with_the_masked_caller() -> None:
    assert timeline(ringing()) == [("2026-03-01T12:00:00Z", "ringing", "from +1555***0100")]
    assert (ringing().stage, ringing().stage_since, ringing().outcome) == ("ringing", T0, None)


@pytest.mark.parametrize(("policy", "outcome", "reason", "detail"), [
    ({"action": "reject", "reason": "blocked_caller", "rejectReason": "forbidden"}, lc.REJECTED,
     "blocked_caller", "forbidden: blocked_caller"),
    ({"action": "redirect", "reason": "after_hours", "target": "+1425***0199"}, lc.REDIRECTED, "after_hours",
     "to +1425***0199: after_hours"),
    ({"action": "redirect"}, lc.REDIRECTED, "policy", "to -: policy"),
    ({"action": "reject"}, lc.REJECTED, "policy", "none: policy"),
])
def test_a_refused_call_ends_where_it_began(policy: dict[str, str], outcome: str, reason: str, detail: str) -> None:
    record = lc.begin(replace(START, policy=policy), later(1))
    assert (record.stage, record.outcome, record.end_reason, record.ended_at) == (
        "ended", outcome, reason, "2026-03-01T12:00:00Z")
    assert timeline(record) == [("2026-03-01T12:00:00Z", "ringing", "from +1555***0100"),
                                ("2026-03-01T12:00:00Z", outcome, detail)]
    assert lc.next_step(record) == lc.Summarize()


def test_the_connection_id_is_kept_from_its_first_appearance_only() -> None:
    record = lc.on_event(ringing(), "SomethingElse", {"callConnectionId": ""}, later(1))
    assert record.call_connection_id is None and record.timeline == ringing().timeline
    record = lc.on_event(record, "SomethingElse", {"callConnectionId": "c" * 300}, later(1))
    assert record.call_connection_id == "c" * 200 and record.timeline == ringing().timeline
    record = lc.on_event(record, lc.CALL_ANSWERED, payload(2, callConnectionId="cc-2"), later(2))
    assert record.call_connection_id == "c" * 200
    assert timeline(record)[-1] == ("2026-03-01T12:00:02Z", "CallAnswered", None)


@pytest.mark.parametrize(("result", "detail"), [
    ({"code": 500, "subCode": 8500, "message": "boom"}, "code 500, subCode 8500, boom"),
    ({"code": 0, "subCode": None, "message": ""}, "code 0"),
    ({"subCode": 7}, "subCode 7"),
    ({"message": "only words"}, "only words"),
    ({"message": 12}, None),
    ({}, None),
    ("code 500", None),
])
def test_answer_failed_reads_acs_result_detail(result: object, detail: str | None) -> None:
    record = lc.on_event(ringing(), lc.ANSWER_FAILED_EVENT, payload(1, result=result), later(2))
    assert (record.stage, record.stage_since, record.outcome, record.end_reason, record.ended_at) == (
        "ended", later(2), lc.ANSWER_FAILED, detail, "2026-03-01T12:00:01Z")
    assert timeline(record)[-1] == ("2026-03-01T12:00:01Z", "AnswerFailed", detail)


def test_answer_failed_after_connect_changes_nothing() -> None:
    assert lc.on_event(connected(), lc.ANSWER_FAILED_EVENT, payload(4), later(4)) == connected()


def test_answer_failed_after_a_ringing_disconnect_keeps_the_disconnect_time() -> None:
    left = lc.on_event(ringing(), lc.CALL_DISCONNECTED, payload(9), later(9))
    record = lc.on_event(left, lc.ANSWER_FAILED_EVENT, payload(10), later(10))
    assert (record.outcome, record.ended_at) == (lc.ANSWER_FAILED, "2026-03-01T12:00:09Z")


def test_connect_and_disconnect_are_noted_with_their_times() -> None:
    record = lc.on_event(connected(), lc.CALL_DISCONNECTED,
                         payload(60, result={"code": 0, "subCode": 0, "message": "bye"}), later(61))
    assert record.stage_since == later(61) and record.end_reason == "code 0, subCode 0, bye"
    assert timeline(record) == [("2026-03-01T12:00:00Z", "ringing", "from +1555***0100"),
                                ("2026-03-01T12:00:03Z", "CallConnected", None),
                                ("2026-03-01T12:01:00Z", "CallDisconnected", "code 0, subCode 0, bye")]
    assert connected().stage_since == later(3)


def test_a_ringing_disconnect_is_noted_and_kept() -> None:
    record = lc.on_event(ringing(), lc.CALL_DISCONNECTED, payload(9, result={"code": 487}), later(10))
    assert (record.stage, record.stage_since, record.ended_at, record.end_reason) == (
        "ringing", later(10), "2026-03-01T12:00:09Z", "code 487")
    assert record.disconnected_while_ringing and record.outcome is None
    assert timeline(record)[-1] == ("2026-03-01T12:00:09Z", "CallDisconnected", "code 487")
    late = lc.on_event(record, lc.CALL_CONNECTED, payload(3), later(11))
    assert (late.stage_since, late.end_reason) == (later(11), "code 487")


@pytest.mark.parametrize("outcome", [lc.MAX_DURATION, lc.TRANSFERRED])
def test_a_disconnect_keeps_an_outcome_already_decided(outcome: str) -> None:
    record = replace(connected(), outcome=outcome, end_reason="why")
    ended_record = lc.on_event(record, lc.CALL_DISCONNECTED, payload(60, result={"code": 0}), later(60))
    assert (ended_record.stage, ended_record.outcome, ended_record.end_reason) == ("ended", outcome, "why")


def test_the_media_report_may_come_before_the_disconnect_but_not_after_the_summary() -> None:
    record = lc.on_event(connected(), lc.MEDIA_STREAM_ENDED, payload(59, audioFrames=5), later(59))
    assert record.stage == "connected" and record.media_report == {"time": "2026-03-01T12:00:59Z", "audioFrames": 5}
    assert timeline(record)[-1] == ("2026-03-01T12:00:59Z", "MediaStreamEnded", None)
    record = lc.on_event(record, lc.CALL_DISCONNECTED, payload(60), later(60))
    assert lc.next_step(record) == lc.Summarize()
    done = lc.mark_summarized(ended(), later(90), {})
    assert lc.on_event(done, lc.MEDIA_STREAM_ENDED, payload(91, audioFrames=5), later(91)) == done


def test_summarized_is_the_last_stage() -> None:
    done = lc.mark_summarized(ended(), later(90), {"status": "sent", "operationId": "op-1"})
    assert (done.stage, done.stage_since) == ("summarized", later(90))
    assert timeline(done)[-1] == ("2026-03-01T12:01:30Z", "summarized", "email sent (operation op-1)")
    assert timeline(lc.mark_summarized(ended(), later(90), {}))[-1][2] == "email unknown (operation -)"
    assert lc.next_step(done) == lc.Summarize()
    assert lc.on_timeout(done, later(1000)) == done
    assert lc.on_event(done, lc.CALL_DISCONNECTED, payload(95), later(95)) == done


def test_each_timeout_is_noted_with_its_time_and_reason() -> None:
    missed = lc.on_timeout(ringing(), later(45))
    assert (missed.stage_since, missed.end_reason) == (later(45), "not connected in time")
    assert timeline(missed)[-1] == ("2026-03-01T12:00:45Z", "missed", "not connected in time")
    left = lc.on_event(ringing(), lc.CALL_DISCONNECTED, payload(9), later(9))
    late = lc.on_timeout(left, later(14))
    assert timeline(late)[-1] == ("2026-03-01T12:00:14Z", "missed", "caller hung up before connect")
    assert late.stage_since == later(14)
    longest = lc.on_timeout(connected(), later(603))
    assert longest.stage_since == later(3) and longest.ended_at is None
    assert timeline(longest)[-1] == ("2026-03-01T12:10:03Z", "max_duration_reached",
                                     "maximum duration of 600 s reached")
    reportless = lc.on_timeout(ended(), later(80))
    assert reportless.media_report_missing and reportless.stage_since == later(60)
    assert timeline(reportless)[-1] == ("2026-03-01T12:01:20Z", "media_report_missing",
                                        "transcript may be incomplete")


def test_maximum_duration_without_a_connection_id_is_noted_and_ends() -> None:
    record = lc.on_event(ringing(), lc.CALL_CONNECTED, payload(3), later(3))
    record = lc.on_timeout(record, later(603))
    assert (record.stage_since, record.ended_at, record.end_reason) == (
        later(603), "2026-03-01T12:10:03Z", "maximum duration of 600 s reached")
    assert timeline(record)[-1] == ("2026-03-01T12:10:03Z", "max_duration_reached",
                                    "maximum duration of 600 s reached")


def test_an_unconfirmed_hang_up_result_is_noted() -> None:
    record = lc.on_hang_up_started(lc.on_timeout(ringing(), later(45)), later(45))
    assert record.ended_at == "2026-03-01T12:00:45Z"
    assert (record.hang_up, record.hang_up_at) == ("requested", later(45))
    assert timeline(record)[-1] == ("2026-03-01T12:00:45Z", "hang_up_requested", None)
    record = lc.on_timeout(record, later(75))
    assert record.hang_up == "unconfirmed" and record.stage == "ended"
    assert timeline(record)[-1] == ("2026-03-01T12:01:15Z", "hang_up_unconfirmed", None)


def test_the_hang_up_deadlines_count_from_the_request() -> None:
    asked = lc.on_hang_up_started(lc.on_timeout(connected(), later(603)), later(610))
    assert lc.next_step(asked) == lc.Wait("disconnect_after_hang_up", later(640))
    assert lc.next_step(replace(asked, hang_up_at=None)) == lc.Wait("disconnect_after_hang_up", later(33))
    missed = lc.on_hang_up_started(lc.on_timeout(replace(ringing(), call_connection_id="cc-1"), later(45)),
                                   later(50))
    assert lc.next_step(missed) == lc.Wait("hang_up_result", later(80))
    assert lc.next_step(replace(missed, hang_up_at=None)) == lc.Wait("hang_up_result", later(75))


@pytest.mark.parametrize(("status", "kept"), [("ok", "ok"), ("failed", "failed"), ("x" * 50, "x" * 40)])
def test_the_hang_up_result_is_kept_short_and_the_call_waits_on(status: str, kept: str) -> None:
    asked = lc.on_hang_up_started(lc.on_timeout(connected(), later(603)), later(603))
    record = lc.on_hang_up_result(asked, {"status": status}, later(604))
    assert (record.stage, record.hang_up) == ("connected", kept)
    assert timeline(record)[-1] == ("2026-03-01T12:10:04Z", "hang_up_result", kept)


def test_a_hang_up_result_without_status_is_unknown_and_gone_only_ends_a_connected_call() -> None:
    asked = lc.on_hang_up_started(lc.on_timeout(connected(), later(603)), later(603))
    assert lc.on_hang_up_result(asked, {}, later(604)).hang_up == "unknown"
    gone = lc.on_hang_up_result(asked, {"status": "gone"}, later(604))
    assert (gone.stage, gone.stage_since) == ("ended", later(604))
    missed = lc.on_hang_up_started(lc.on_timeout(replace(ringing(), call_connection_id="cc-1"), later(45)),
                                   later(45))
    after = lc.on_hang_up_result(missed, {"status": "gone"}, later(50))
    assert (after.stage, after.stage_since, after.ended_at) == ("ended", later(45), "2026-03-01T12:00:45Z")


def test_request_hang_up_only_on_a_connected_call_and_once() -> None:
    asked = lc.request_hang_up(connected(), "caller asked")
    assert asked.hang_up_wanted and asked.end_reason == "caller asked"
    assert lc.next_step(asked) == lc.HangUp("cc-1")
    assert lc.request_hang_up(asked, "again") == asked
    assert lc.request_hang_up(ringing(), "too soon") == ringing()
    assert lc.request_hang_up(ended(), "too late") == ended()
    kept = lc.request_hang_up(replace(connected(), end_reason="first"), "second")
    assert kept.end_reason == "first"
    started = lc.on_hang_up_started(lc.on_timeout(connected(), later(603)), later(603))
    assert lc.request_hang_up(started, "late") == started
    no_id = lc.request_hang_up(lc.on_event(ringing(), lc.CALL_CONNECTED, payload(3), later(3)), "no id")
    assert lc.next_step(no_id) == lc.Wait("disconnect", later(603))


def test_a_transfer_ends_the_leg_through_a_bounded_wait() -> None:
    record = lc.mark_transferred(connected(), later(100), "transferred to +1425***0199")
    assert (record.outcome, record.transferred_at, record.end_reason) == (
        lc.TRANSFERRED, later(100), "transferred to +1425***0199")
    assert lc.next_step(record) == lc.Wait("disconnect_after_transfer", later(130))
    assert lc.next_step(replace(record, transferred_at=None)) == lc.Wait("disconnect_after_transfer", later(33))
    assert lc.mark_transferred(record, later(101), "again") == record
    assert lc.mark_transferred(ringing(), later(1), "too soon") == ringing()
    assert lc.mark_transferred(ended(), later(61), "too late") == ended()
    timed_out = lc.on_timeout(record, later(130))
    assert (timed_out.stage, timed_out.stage_since, timed_out.outcome, timed_out.ended_at) == (
        "ended", later(130), lc.TRANSFERRED, "2026-03-01T12:02:10Z")
    assert timeline(timed_out)[-1] == ("2026-03-01T12:02:10Z", "disconnect_not_confirmed", None)
    left = lc.on_event(record, lc.CALL_DISCONNECTED, payload(101), later(101))
    assert (left.stage, left.outcome, left.end_reason) == ("ended", lc.TRANSFERRED, "transferred to +1425***0199")


def test_timeline_entries_are_clipped_at_200_characters() -> None:
    record = lc.note(ringing(), "t", "e" * 201, "d" * 201)
    assert timeline(record)[-1] == ("t", "e" * 200, "d" * 200)
    assert timeline(lc.note(ringing(), "t", "e" * 200, "d" * 200))[-1] == ("t", "e" * 200, "d" * 200)
    assert timeline(lc.note(ringing(), "t", "e", ""))[-1] == ("t", "e", None)
    full = replace(ringing(), timeline=ringing().timeline * 199)
    assert len(lc.note(full, "t", "last").timeline) == 200
    assert lc.note(lc.note(full, "t", "last"), "t", "dropped").timeline[-1].event == "last"


def test_custom_status_and_summary_fields_are_known_answers() -> None:
    record = lc.on_event(ended(), lc.MEDIA_STREAM_ENDED, payload(61, closeCode=1000), later(61))
    assert lc.custom_status(record) == {"stage": "ended", "since": "2026-03-01T12:01:00Z", "outcome": "completed",
                                        "callConnectionId": "cc-1", "correlationId": "corr-1"}
    assert lc.summary_fields(record) == {
        "instance_id": "call-abc", "caller": "+1555***0100", "callee": "+1555***0199", "outcome": "completed",
        "ringing_at": "2026-03-01T12:00:00Z", "connected_at": "2026-03-01T12:00:03Z",
        "ended_at": "2026-03-01T12:01:00Z", "end_reason": None,
        "timeline": [{"at": "2026-03-01T12:00:00Z", "event": "ringing", "detail": "from +1555***0100"},
                     {"at": "2026-03-01T12:00:03Z", "event": "CallConnected", "detail": None},
                     {"at": "2026-03-01T12:01:00Z", "event": "CallDisconnected", "detail": None},
                     {"at": "2026-03-01T12:01:01Z", "event": "MediaStreamEnded", "detail": None}],
        "media": {"time": "2026-03-01T12:01:01Z", "closeCode": 1000}, "partial": False,
        "transcription": "requested"}
    missed = lc.summary_fields(replace(lc.on_timeout(ringing(), later(45)), outcome=None))
    assert (missed["outcome"], missed["media"], missed["connected_at"]) == ("completed", None, None)


def test_a_call_control_hang_up_ends_completed_even_unconfirmed() -> None:
    # Found by the property test once it asked for hang-ups: these two ends used to leave the outcome unset.
    asked = lc.on_hang_up_started(lc.request_hang_up(connected(), "caller asked"), later(100))
    unconfirmed = lc.on_timeout(asked, later(130))
    assert (unconfirmed.stage, unconfirmed.outcome, unconfirmed.end_reason) == ("ended", lc.COMPLETED, "caller asked")
    gone = lc.on_hang_up_result(asked, {"status": "gone"}, later(101))
    assert (gone.stage, gone.outcome, gone.ended_at) == ("ended", lc.COMPLETED, "2026-03-01T12:01:41Z")
    longest = lc.on_hang_up_started(lc.on_timeout(connected(), later(603)), later(603))
    assert lc.on_hang_up_result(longest, {"status": "gone"}, later(604)).outcome == lc.MAX_DURATION
    assert lc.on_timeout(longest, later(633)).outcome == lc.MAX_DURATION
