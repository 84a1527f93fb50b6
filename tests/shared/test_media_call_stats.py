from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.media_call_stats import MediaCallStats, parse_timestamp_ms


def test_gaps_are_measured_on_frame_timestamps() -> None:
    stats = MediaCallStats("call-1", "conn", "corr", datetime(2024, 1, 1, tzinfo=UTC))
    for ms in (0, 20, 40, 60, 160, 180, 230):
        stats.on_audio(f"2024-05-27T10:00:00.{ms:03d}Z", False, 640)
    assert stats.frames_received == 7 and stats.bytes_received == 7 * 640
    assert (stats.gaps, stats.max_gap_ms) == (2, 100.0)


def test_frames_without_timestamps_count_but_do_not_make_gaps() -> None:
    stats = MediaCallStats("call-1", None, None, datetime(2024, 1, 1, tzinfo=UTC))
    stats.on_audio(None, True, 640)
    stats.on_audio("garbage", False, 640)
    assert (stats.frames_received, stats.frames_silent, stats.gaps) == (2, 1, 0)


def test_summary_has_the_documented_keys() -> None:
    started = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    stats = MediaCallStats("call-1", "conn", "corr", started)
    stats.on_dtmf("1")
    summary = stats.summary(started + timedelta(seconds=3), 1000, "")
    assert {"instanceId", "callConnectionId", "correlationId", "sampleRate", "framesReceived", "framesSilent",
            "bytesReceived", "framesSent", "gaps", "maxGapMs", "dtmfTones", "transcriptSegments", "startedAt",
            "endedAt", "closeCode", "closeReason"} <= set(summary)
    assert summary["startedAt"] == "2024-01-01T12:00:00.000Z" and summary["endedAt"] == "2024-01-01T12:00:03.000Z"
    assert summary["dtmfTones"] == ["1"] and summary["closeReason"] is None


def test_timestamp_parsing() -> None:
    assert parse_timestamp_ms("1970-01-01T00:00:01.5Z") == 1500.0
    assert parse_timestamp_ms("1970-01-01T00:00:01.2500000+00:00") == 1250.0
    assert parse_timestamp_ms("") is None and parse_timestamp_ms("nope") is None


def _at(ms: int) -> str:
    return f"2024-05-27T10:00:{ms // 1000:02d}.{ms % 1000:03d}Z"


def test_a_gap_is_a_step_longer_than_the_earlier_frame_plus_one_frame() -> None:
    stats = MediaCallStats("call-1", None, None, datetime(2024, 1, 1, tzinfo=UTC), sample_rate=16000)
    # 20 ms frames: a step of exactly 40 ms is not a gap, 41 ms is.
    for ms in (0, 40, 81):
        assert stats.on_audio(_at(ms), False, 640) == 20.0
    assert (stats.gaps, stats.max_gap_ms) == (1, 41.0)
    # A 60 ms frame (1920 bytes at 16 kHz) may be followed 80 ms later without a gap; 81 ms is one.
    assert stats.on_audio(_at(101), False, 1920) == 60.0
    stats.on_audio(_at(181), False, 640)
    assert stats.gaps == 1
    stats.on_audio(_at(201), False, 1920)
    stats.on_audio(_at(282), False, 640)
    assert (stats.gaps, stats.max_gap_ms) == (2, 81.0)


def test_audio_is_counted_by_its_duration() -> None:
    stats = MediaCallStats("call-1", None, None, datetime(2024, 1, 1, tzinfo=UTC))
    assert stats.on_audio(None, False, 1000) == 20.0  # the rate is not known yet: one frame's worth
    stats.sample_rate = 24000
    assert stats.on_audio(None, False, 960) == 20.0
    assert stats.on_audio(None, False, 480) == 10.0
    assert stats.on_audio(None, False, 2) == 1000 / 24000
    assert stats.summary(datetime(2024, 1, 1, tzinfo=UTC), None, None)["audioMs"] == 50


def test_unmixed_streams_are_measured_apart() -> None:
    from datetime import UTC, datetime

    from shared.media_call_stats import MediaCallStats

    stats = MediaCallStats("call-1", None, None, datetime(2026, 12, 4, tzinfo=UTC))
    stats.sample_rate = 16000
    # Two participants' streams interleave, the second 500 ms apart from the first: no gap in either.
    for caller_ms, agent_ms in ((0, 500), (20, 520), (40, 540)):
        stats.on_audio(f"2026-12-04T10:00:00.{caller_ms:03d}Z", False, 640, "4:+14255550100")
        stats.on_audio(f"2026-12-04T10:00:00.{agent_ms:03d}Z", False, 640, "8:acs:agent")
    stats.on_audio("2026-12-04T10:00:00.140Z", False, 640, "4:+14255550100")  # the caller's stream lost 80 ms
    summary = stats.summary(datetime(2026, 12, 4, 0, 1, tzinfo=UTC), 1000, None)
    assert (summary["gaps"], summary["maxGapMs"], summary["audioStreams"]) == (1, 100.0, 2)
