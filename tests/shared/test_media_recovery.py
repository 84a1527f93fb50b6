"""shared.media_recovery through the call machine: a lost stream is restarted, bounded, with backoff, and never
after hang-up or after a stop of our own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import call_machine as machine
from shared import media_recovery as recovery
from shared.call_activity_names import HANG_UP, LOAD_FLOW, PREPARE_SUMMARY, RESTART_STREAM
from shared.call_messages import TimerFired
from shared.media_recovery_settings import MediaRecoverySettings, load_media_recovery_settings
from shared.settings import SettingsError
from tests.shared.test_call_machine import START, T0, Driver

ATTEMPTS, BACKOFF = 3, 2


def connected(transcription: str = "requested", attempts: int = ATTEMPTS) -> Driver:
    start = {**START, "transcription": transcription,
             "mediaRecovery": {"attempts": attempts, "backoffSeconds": BACKOFF}}
    driver = Driver()
    driver.state, commands = machine.start(start, driver.now)
    driver._take(commands)
    driver.done(LOAD_FLOW, {})
    driver.event("CallConnected", after=1, callConnectionId="cc-1")
    driver.event("MediaStreamingStarted", after=0.2, callConnectionId="cc-1", id="ms-1")
    return driver


def lost(driver: Driver, kind: str = "MediaStreamingFailed", after: float = 0, **extra: object) -> None:
    driver.event(kind, after=after, callConnectionId="cc-1", id=f"ev-{driver.now.timestamp()}-{kind}",
                 details={"status": "mediaStreamingFailed", "statusDetails": "streamConnectionInterrupted"}, **extra)


def restarts(driver: Driver) -> list[dict[str, Any]]:
    return [dict(a.input) for a in driver.names(RESTART_STREAM)]


def events(driver: Driver) -> list[str]:
    return [entry.event for entry in driver.state.record.timeline]


def test_an_unexpected_failed_callback_restarts_streaming_after_the_backoff() -> None:
    driver = connected()
    dropped = driver.now
    lost(driver, after=3)
    assert restarts(driver) == []  # not at once: the first attempt waits the backoff
    assert driver.wait.at == dropped + timedelta(seconds=3 + BACKOFF)
    driver.fire()
    [restart] = restarts(driver)
    assert restart["stream"] == "media" and restart["attempt"] == 1 and restart["gapMarker"] is True
    assert restart["callConnectionId"] == "cc-1" and restart["operationContext"] == "media-recovery:media:1"
    driver.done(RESTART_STREAM, {"status": "accepted"})
    driver.event("MediaStreamingStarted", after=0.5, callConnectionId="cc-1", id="ms-2")
    assert "media_stream_recovered" in events(driver)
    assert driver.state.recovery.media.recovered_after == (BACKOFF + 0.5,)


def test_attempts_double_their_wait_and_stop_at_the_bound() -> None:
    driver = connected()
    lost(driver, after=1)
    waits = []
    for _ in range(ATTEMPTS):
        before = driver.now
        driver.fire()
        waits.append((driver.now - before).total_seconds())
        driver.done(RESTART_STREAM, {"status": "accepted"})
        lost(driver, after=0.1)  # ACS: MediaStreamingFailed, the socket could not be opened
    assert waits == [BACKOFF, BACKOFF * 2, BACKOFF * 4]  # each counted from the failure before it
    assert len(restarts(driver)) == ATTEMPTS
    assert driver.state.recovery.media.status == "given_up" and "media_recovery_gave_up" in events(driver)
    driver.fire()
    assert len(restarts(driver)) == ATTEMPTS


def test_a_refused_start_counts_as_an_attempt() -> None:
    driver = connected(attempts=1)
    lost(driver, after=1)
    driver.fire()
    driver.done(RESTART_STREAM, {"status": "rejected", "code": 400, "message": "Call is not established"})
    assert driver.state.recovery.media.status == "given_up"
    assert "media_restart_failed" in events(driver)


def test_no_result_in_time_counts_as_a_failed_attempt() -> None:
    driver = connected(attempts=2)
    lost(driver, after=1)
    driver.fire()
    driver.done(RESTART_STREAM, {"status": "accepted"})
    driver.fire()  # START_RESULT_SECONDS later: neither Started nor Failed came
    assert driver.now >= T0 + timedelta(seconds=recovery.START_RESULT_SECONDS)
    assert "media_restart_failed" in events(driver)
    driver.fire()
    assert len(restarts(driver)) == 2


def test_our_own_stop_is_not_restarted() -> None:
    driver = connected()
    lost(driver, "MediaStreamingStopped", after=1, operationContext=f"{recovery.STOP_CONTEXT}:api-1")
    assert driver.state.recovery.media.status == "stopped"
    driver.fire()
    assert restarts(driver) == []


def test_streams_stopping_at_hang_up_are_not_restarted() -> None:
    driver = connected()
    driver.event("CallDisconnected", after=2, callConnectionId="cc-1")
    lost(driver, "MediaStreamingStopped")
    lost(driver, "TranscriptionStopped")
    assert restarts(driver) == [] and driver.state.recovery.media.drops == 0


def test_a_redelivered_callback_is_one_drop() -> None:
    driver = connected()
    for _ in range(3):
        driver.event("MediaStreamingFailed", after=0.1, callConnectionId="cc-1", id="same-id")
    assert driver.state.recovery.media.drops == 1


def test_the_transcription_stream_restarts_with_start_transcription() -> None:
    driver = connected()
    lost(driver, "TranscriptionFailed", after=1)
    driver.fire()
    [restart] = restarts(driver)
    # A transcription-only drop loses ACS's segments: the transcript marks the gap too.
    assert restart["stream"] == "transcription" and restart["gapMarker"] is True
    driver.done(RESTART_STREAM, {"status": "rejected", "code": 400, "message": "no"})
    driver.fire()
    assert restarts(driver)[-1]["attempt"] == 2 and restarts(driver)[-1]["gapMarker"] is False  # once per drop


def test_media_and_transcription_lost_together_mark_one_gap() -> None:
    driver = connected()
    lost(driver, "MediaStreamingFailed", after=1)
    lost(driver, "TranscriptionFailed", after=0.1)
    while len(restarts(driver)) < 2:
        driver.fire()
    markers = {restart["stream"]: restart["gapMarker"] for restart in restarts(driver)}
    assert markers == {"media": True, "transcription": False}


def test_no_transcription_stream_when_none_was_requested() -> None:
    driver = connected(transcription="off")
    lost(driver, "TranscriptionFailed", after=1)
    driver.fire()
    assert restarts(driver) == []


def report(socket_id: str, started: str, close_code: int, **figures: object) -> dict[str, object]:
    return {"socketId": socket_id, "startedAt": started, "closeCode": close_code, "framesReceived": 100,
            "gaps": 0, **figures}


def test_a_broken_socket_report_restarts_and_an_old_sockets_late_report_is_not_a_new_drop() -> None:
    driver = connected(transcription="off")
    driver.event("MediaStreamEnded", after=5, **report("h1-1", "2026-03-01T12:00:01Z", 1006))
    assert driver.state.recovery.media.drops == 1 and driver.state.record.media_report is None
    driver.fire()
    driver.done(RESTART_STREAM, {"status": "accepted"})
    driver.event("MediaStreamingStarted", after=0.3, callConnectionId="cc-1", id="ms-2")
    # Socket 1's report delivered again, late: not a second drop, not the call's final report.
    driver.event("MediaStreamEnded", after=20, **report("h1-1", "2026-03-01T12:00:01Z", 1006))
    assert driver.state.recovery.media.drops == 1 and driver.state.record.media_report is None
    driver.event("CallDisconnected", after=1, callConnectionId="cc-1")
    driver.event("MediaStreamEnded", after=1, **report("h1-2", "2026-03-01T12:00:09Z", 1000))
    assert driver.state.record.media_report is not None and driver.state.record.media_report["socketId"] == "h1-2"
    [summary] = driver.names(PREPARE_SUMMARY)
    media_recovery = summary.input["media_recovery"]
    assert media_recovery["recovered"] is True and media_recovery["drops"] == 1
    assert [socket["n"] for socket in media_recovery["sockets"]] == [1, 2]
    assert media_recovery["sockets"][0]["closeCode"] == 1006 and media_recovery["sockets"][1]["closeCode"] == 1000
    assert summary.input["partial"] is False


def test_the_drops_report_is_final_when_no_socket_followed() -> None:
    driver = connected(transcription="off", attempts=1)
    driver.event("MediaStreamEnded", after=5, **report("h1-1", "2026-03-01T12:00:01Z", 1006))
    driver.fire()
    driver.done(RESTART_STREAM, {"status": "rejected", "code": 500})
    driver.event("CallDisconnected", after=1, callConnectionId="cc-1")
    [summary] = driver.names(PREPARE_SUMMARY)
    assert summary.input["partial"] is True and summary.input["media"]["closeCode"] == 1006
    assert summary.input["media_recovery"]["recovered"] is False


STEP = st.one_of(
    st.tuples(st.sampled_from(["MediaStreamingFailed", "MediaStreamingStopped", "TranscriptionFailed",
                               "MediaStreamingStarted", "TranscriptionStarted", "OurStop", "MediaStreamEnded",
                               "CallDisconnected", "HangUpRequested"]), st.integers(0, 40)),
    st.tuples(st.just("timer"), st.just(0)),
    st.tuples(st.sampled_from(["accepted", "rejected", "error"]), st.integers(0, 3)),
)


def _apply(driver: Driver, what: str, after: int, serial: int) -> None:
    if what == "timer":
        driver.fire()
    elif what in ("accepted", "rejected", "error"):
        if any(a.name == RESTART_STREAM for a in driver.running.values()):
            if what == "error":
                driver.done(RESTART_STREAM, error="boom", after=after)
            else:
                driver.done(RESTART_STREAM, {"status": what}, after=after)
    elif what == "OurStop":
        driver.event("MediaStreamingStopped", after=after, callConnectionId="cc-1", id=f"e{serial}",
                     operationContext=f"{recovery.STOP_CONTEXT}:1")
    elif what == "HangUpRequested":
        driver.event("CallActionRequested", after=after, actionId=f"hang-{serial}", action="hang_up", source="api")
    elif what == "MediaStreamEnded":
        driver.event(what, after=after, **report(f"s{serial}", "2026-03-01T12:00:01Z", 1006))
    else:
        driver.event(what, after=after, callConnectionId="cc-1", id=f"e{serial}")


def _live(driver: Driver) -> bool:
    record = driver.state.record
    return record.stage == "connected" and not record.hang_up_wanted and record.hang_up is None and not record.outcome


@settings(max_examples=400, deadline=None)
@given(st.lists(STEP, max_size=40))
def test_never_more_than_the_bound_never_after_hang_up_never_after_our_stop(steps: list[tuple[str, int]]) -> None:
    driver = connected()
    ending = stopped = False
    for serial, (what, after) in enumerate(steps):
        if driver.output is not None:
            break
        before = len(restarts(driver))
        _apply(driver, what, after, serial)
        ending = ending or not _live(driver)
        stopped = stopped or (what == "OurStop" and driver.state.recovery.media.status == "stopped")
        new = restarts(driver)[before:]
        if ending:
            assert new == []  # never once the call is ending, nor in the step that ended it
        if stopped:
            assert [r for r in new if r["stream"] == "media"] == []  # a stop of ours is final
        for stream in ("media", "transcription"):
            started = [r["attempt"] for r in restarts(driver) if r["stream"] == stream]
            assert started == list(range(1, len(started) + 1)) and len(started) <= ATTEMPTS


def test_after_our_stop_a_later_report_or_failure_does_not_restart() -> None:
    driver = connected()
    driver.event("MediaStreamingStopped", after=1, callConnectionId="cc-1", id="stop-1",
                 operationContext=f"{recovery.STOP_CONTEXT}:1")
    lost(driver, "MediaStreamingFailed", after=1)
    driver.event("MediaStreamEnded", after=1, **report("h1-1", "2026-03-01T12:00:01Z", 1006))
    driver.fire()
    assert [r for r in restarts(driver) if r["stream"] == "media"] == []


def test_settings_are_read_and_bounded() -> None:
    assert load_media_recovery_settings({}) == MediaRecoverySettings(3, 2)
    assert load_media_recovery_settings({"MEDIA_RECOVERY_ATTEMPTS": "0",
                                         "MEDIA_RECOVERY_BACKOFF_SECONDS": "10"}) == MediaRecoverySettings(0, 10)
    with pytest.raises(SettingsError, match="MEDIA_RECOVERY_ATTEMPTS"):
        load_media_recovery_settings({"MEDIA_RECOVERY_ATTEMPTS": "11"})
    assert MediaRecoverySettings.from_input({"mediaRecovery": {"attempts": True, "backoffSeconds": -1}}) == \
        MediaRecoverySettings()


def test_unused_timer_seq_is_ignored() -> None:
    driver = connected()
    before = driver.state
    driver.feed(TimerFired(-1))
    assert driver.state.recovery == before.recovery
    assert HANG_UP not in [a.name for a in driver.started]


def test_the_story_page_lists_each_socket_escaped() -> None:
    from shared.call_story_page import render_call_story_page

    view = recovery.story_view({"drops": 1, "recovered": True, "recoveredAfterSeconds": [3.2, "x"],
                                "sockets": [{"n": 1, "startedAt": "2026-03-01T12:00:01Z", "lostAt": "<b>",
                                             "framesReceived": 250, "evil": "<script>"},
                                            {"n": 2, "closeCode": 1000, "gaps": True}, "junk"]})
    assert view is not None and view["recoveredAfterSeconds"] == [3.2]
    assert view["sockets"] == [{"n": 1, "startedAt": "2026-03-01T12:00:01Z", "lostAt": "<b>", "framesReceived": 250},
                               {"n": 2, "closeCode": 1000}]
    page = render_call_story_page({"instanceId": "call-1", "timeline": [], "mediaRecovery": view})
    assert "Media sockets (recovered after 3.2 s)" in page and "&lt;b&gt;" in page and "<b>" not in page
    assert page.count("<tr><td>") == 2 and "<script>" not in page
    assert recovery.story_view(None) is None


def test_the_email_says_recovered_and_orders_each_stretch_of_the_transcript_on_its_own() -> None:
    from shared.summary_render import in_order, recovery_note
    from shared.transcript_lines import gap_marker_line, parse_transcript

    before = '{"speaker":"a","text":"second","offsetMs":5000,"source":"acs"}\n' \
             '{"speaker":"a","text":"first","offsetMs":400,"source":"acs"}\n'
    after = '{"speaker":"a","text":"third","offsetMs":300,"source":"acs"}\n'
    parsed = parse_transcript(before + gap_marker_line("2026-03-01T12:00:05Z") + after)
    assert parsed.skipped_lines == 0
    assert [segment.text for segment in in_order(parsed.segments)][:2] == ["first", "second"]
    assert in_order(parsed.segments)[2].source == "gap" and in_order(parsed.segments)[3].text == "third"
    assert recovery_note({"drops": 1, "recovered": True, "recoveredAfterSeconds": [3.4]}) == (
        "The media connection was lost 1 time(s) and recovered after 3 s; speech in the gap is missing from "
        "the transcript.")
    assert "could not be restarted (3 attempt(s))" in str(recovery_note({"drops": 1, "recovered": False,
                                                                          "attempts": 3}))
    assert recovery_note(None) is None
