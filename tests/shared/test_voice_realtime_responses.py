from __future__ import annotations

from shared.voice_realtime_responses import ResponseTracker


def test_response_create_waits_while_a_response_is_active() -> None:
    tracker = ResponseTracker()
    tracker.on_created("r1")
    assert tracker.want_create() is False  # only one response writes at a time
    finished = tracker.on_done("r1", "completed")
    assert finished.send_create is True and tracker.create_sent
    assert tracker.want_create() is False  # already asked for: not twice
    tracker.on_created("r2")
    assert tracker.on_done("r2", "completed").send_create is False
    assert tracker.want_create() is True


def test_tool_calls_run_only_for_completed_responses() -> None:
    tracker = ResponseTracker()
    tracker.on_created("r1")
    tracker.on_tool_call("r1", {"call_id": "c1"})
    finished = tracker.on_done("r1", "cancelled")
    assert finished.tool_calls == () and finished.dropped_tool_calls == 1
    tracker.on_created("r2")
    tracker.on_tool_call("r2", {"call_id": "c2"})
    assert tracker.on_done("r2", "completed").tool_calls == ({"call_id": "c2"},)
    tracker.on_created("r3")
    tracker.on_tool_call("r3", {"call_id": "c3"})
    assert tracker.on_done("r3", "incomplete").tool_calls == ()


def test_audio_of_an_interrupted_response_is_not_played() -> None:
    tracker = ResponseTracker()
    tracker.on_created("r1")
    assert tracker.plays("r1")
    tracker.on_speech_started()
    assert not tracker.plays("r1")  # deltas still in flight after the service's own cancel
    finished = tracker.on_done("r1", "cancelled")
    assert finished.had_audio and not tracker.interrupted


def test_an_error_after_response_create_retries_at_the_next_done() -> None:
    tracker = ResponseTracker()
    assert tracker.want_create() is True
    tracker.on_error()
    tracker.on_created("r9")  # one created by VAD meanwhile
    assert tracker.on_done("r9", "completed").send_create is True
