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
