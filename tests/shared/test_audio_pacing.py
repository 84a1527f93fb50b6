from __future__ import annotations

import pytest

from shared.audio_pacing import AudioPacer, FrameSlicer


def test_frames_at_real_time_rate_go_out_immediately() -> None:
    pacer: AudioPacer[int] = AudioPacer(max_lead_frames=3)
    assert all(pacer.offer(i, now=i * 0.02) for i in range(100))
    assert pacer.queued == 0 and pacer.sent == 100


def test_a_burst_is_paced_to_real_time_after_the_lead() -> None:
    pacer: AudioPacer[int] = AudioPacer(max_lead_frames=3)
    sent_now = [pacer.offer(i, now=0.0) for i in range(50)]
    assert sent_now[:3] == [True, True, True] and not any(sent_now[3:])
    assert pacer.queued == 47
    times: list[float] = []
    now = 0.0
    while pacer.queued:
        due_at = pacer.next_due()
        assert due_at is not None
        now = max(now, due_at)
        released = pacer.pop_due(now)
        assert len(released) == 1  # never more than one frame per slot: no flooding
        times.append(now)
    # 47 queued frames leave one every 20 ms, the last one 46 slots after the first
    assert times[0] == pytest.approx(0.02) and times[-1] == pytest.approx(0.02 * 47)
    assert pacer.sent == 50


def test_nothing_is_due_before_its_slot() -> None:
    pacer: AudioPacer[int] = AudioPacer(max_lead_frames=1)
    assert pacer.offer(1, 0.0) and not pacer.offer(2, 0.0)
    assert pacer.pop_due(0.019) == [] and pacer.pop_due(0.0201) == [2]


def test_a_full_queue_drops_the_oldest_frame() -> None:
    pacer: AudioPacer[int] = AudioPacer(max_lead_frames=1, max_queued_frames=3)
    for i in range(6):
        pacer.offer(i, 0.0)
    assert pacer.dropped == 2 and pacer.pop_due(10.0) == [3]


def test_clear_empties_the_queue_and_restarts_the_clock() -> None:
    pacer: AudioPacer[int] = AudioPacer(max_lead_frames=2)
    for i in range(10):
        pacer.offer(i, 0.0)
    assert pacer.clear() == 8 and pacer.queued == 0 and pacer.next_due() is None
    assert pacer.offer(99, 0.001)  # after barge-in the next answer starts at once


def test_room_for_producers_that_wait() -> None:
    pacer: AudioPacer[int] = AudioPacer(max_lead_frames=1, max_queued_frames=10, room_frames=4)
    for i in range(4):
        pacer.offer(i, 0.0)
    assert pacer.has_room  # 3 queued
    pacer.offer(4, 0.0)
    assert not pacer.has_room


@pytest.mark.parametrize(("rate", "size"), [(16000, 640), (24000, 960)])
def test_slicer_cuts_whole_frames_and_keeps_the_rest(rate: int, size: int) -> None:
    slicer = FrameSlicer(rate)
    data = (bytes(range(256)) * 11)[:2600]  # not a multiple of either frame size
    first = slicer.push(data[:1000])
    second = slicer.push(data[1000:])
    frames = first + second
    assert all(len(frame) == size for frame in frames)
    assert b"".join(frames) == data[: len(frames) * size]
    rest = slicer.flush()
    assert rest is not None and len(rest) == size and rest.startswith(data[len(frames) * size:])
    assert slicer.flush() is None
