"""shared.caller_silence: a report every threshold of continued silence; speech starts the count again."""

from __future__ import annotations

import pytest

from shared.caller_silence import CallerSilenceTracker, SilenceReport


def test_reports_every_threshold_until_the_caller_speaks() -> None:
    tracker = CallerSilenceTracker(5_000, started_ms=0)
    assert tracker.due(4_999) is None
    assert tracker.due(5_000) == SilenceReport(5_000, 0)
    assert tracker.due(6_000) is None
    assert tracker.due(10_100) == SilenceReport(10_100, 0)
    tracker.on_utterance(11_000)
    assert tracker.due(15_999) is None
    assert tracker.due(16_000) == SilenceReport(5_000, 1)
    assert SilenceReport(5_000, 1).to_json() == {"silentMs": 5_000, "utterances": 1}


def test_late_speech_timestamps_do_not_move_back() -> None:
    tracker = CallerSilenceTracker(1_000, started_ms=10_000)
    tracker.on_speech(5_000)
    assert tracker.due(10_999) is None and tracker.due(11_000) is not None


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CallerSilenceTracker(0, started_ms=0)
