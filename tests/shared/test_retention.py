"""shared.retention: the cutoff and which call blobs it selects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.retention import expired_blob_names, retention_cutoff

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_cutoff_is_days_before_now() -> None:
    assert retention_cutoff(NOW, 30) == NOW - timedelta(days=30)
    with pytest.raises(ValueError):
        retention_cutoff(datetime(2026, 1, 1), 1)


def test_only_old_call_blobs_are_selected() -> None:
    cutoff = retention_cutoff(NOW, 1)
    blobs = [("calls/a/transcript.jsonl", NOW - timedelta(days=2)), ("calls/b/summary.json", NOW),
             ("other/x", NOW - timedelta(days=9)), ("calls/c/media.json", None)]
    assert expired_blob_names(blobs, cutoff) == ["calls/a/transcript.jsonl"]


def test_table_rows_of_whole_days_before_the_cutoffs_day_expire() -> None:
    from shared.retention import expired_partitions_query

    cutoff = datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))  # still 28 February in UTC
    assert expired_partitions_query(cutoff) == ("PartitionKey lt @before", {"before": "20260228"})
    with pytest.raises(ValueError):
        expired_partitions_query(datetime(2026, 3, 1))
