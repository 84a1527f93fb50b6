from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.media_frame_timing import LATE_FRAME_MS, FrameTiming


def test_steady_stream_has_constant_latency_and_no_jitter() -> None:
    timing = FrameTiming(window_frames=50)
    windows = []
    for i in range(100):
        if timing.on_frame(1000.0 + 20 * i, 1030.0 + 20 * i):
            windows.append((i, timing.take_window()))
    assert [i for i, _ in windows] == [49, 99]
    for _, window in windows:
        assert window.frames == 50 and window.mean_latency_ms == pytest.approx(30.0)
        assert window.jitter_ms == pytest.approx(0.0) and window.late_frames == 0
    assert timing.take_window() is None


def test_late_and_jittery_frames() -> None:
    timing = FrameTiming(window_frames=10)
    arrivals = [20 * i + (250.0 if i == 5 else 10.0) for i in range(10)]
    for i, arrival in enumerate(arrivals):
        timing.on_frame(20.0 * i, arrival)
    window = timing.take_window()
    assert window.late_frames == 1 and window.max_latency_ms == pytest.approx(250.0)
    assert window.jitter_ms > 0 and timing.late_frames == 1
    assert timing.mean_latency_ms == pytest.approx((9 * 10.0 + 250.0) / 10)


def test_frames_without_timestamp_are_ignored_and_skew_is_clamped() -> None:
    timing = FrameTiming()
    assert timing.on_frame(None, 5.0) is False
    timing.on_frame(1000.0, 900.0)  # our clock behind ACS's
    assert timing.take_window().mean_latency_ms == 0.0


@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 1e6)), max_size=200))
def test_window_means_add_up_to_the_frame_weighted_mean(frames: list[tuple[float, float]]) -> None:
    timing = FrameTiming(window_frames=7)
    total, count = 0.0, 0
    for timestamp, arrival in frames:
        if timing.on_frame(timestamp, arrival):
            window = timing.take_window()
            total += window.mean_latency_ms * window.frames
            count += window.frames
    last = timing.take_window()
    if last is not None:
        total += last.mean_latency_ms * last.frames
        count += last.frames
    assert count == len(frames)
    if frames:
        assert total / count == pytest.approx(timing.mean_latency_ms)
        assert (timing.late_frames > 0) == (timing.max_latency_ms > LATE_FRAME_MS)
