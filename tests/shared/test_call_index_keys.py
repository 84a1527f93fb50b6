"""The call index's keys, rows and continuation tokens: exact known answers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.call_index_keys import (
    BadCursor,
    Cursor,
    day_partition,
    days_newest_first,
    decode_cursor,
    encode_cursor,
    ended_entity,
    inverted_time,
    list_row,
    partition_query,
    row_key,
    started_entity,
)

RINGING = datetime(2026, 1, 31, 8, 0, 0, 123456, tzinfo=UTC)  # 1769846400.123456 s after the epoch
KEY = "8230153599876543_call-abc"


def test_keys_of_a_known_moment() -> None:
    assert day_partition(RINGING) == "20260131"
    assert inverted_time(RINGING) == "8230153599876543"  # 9999999999999999 - 1769846400123456
    assert row_key(RINGING, "call-abc") == KEY
    assert inverted_time(datetime(1970, 1, 1, tzinfo=UTC)) == "9999999999999999"


def test_keys_use_the_utc_day() -> None:
    late_in_new_york = datetime(2026, 1, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert day_partition(late_in_new_york) == "20260131"
    assert day_partition(datetime(2026, 1, 31, 0, 0, 0)) == "20260131"  # naive means UTC


def test_later_calls_sort_first_and_same_microsecond_calls_stay_distinct() -> None:
    keys = [row_key(RINGING + timedelta(microseconds=step), "call-b") for step in (0, 1, 10**6, 10**9)]
    assert sorted(keys) == keys[::-1]
    assert row_key(RINGING, "call-a") < row_key(RINGING, "call-b")


@pytest.mark.parametrize("instance_id", ["", "a/b", "a#b", "a?b", "a\\b", "a\nb"])
def test_instance_ids_table_storage_refuses_are_refused(instance_id: str) -> None:
    with pytest.raises(ValueError):
        row_key(RINGING, instance_id)


def test_entities_written_at_start_and_end() -> None:
    assert started_entity("call-abc", RINGING, "4:+1 425 *** **23") == {
        "PartitionKey": "20260131", "RowKey": KEY, "instanceId": "call-abc",
        "ringingAt": "2026-01-31T08:00:00.123456Z", "caller": "4:+1 425 *** **23", "direction": "inbound"}
    assert started_entity("out-abc", RINGING, "4:+1 425 *** **23", "outbound")["direction"] == "outbound"
    assert ended_entity("call-abc", RINGING, "missed", "2026-01-31T08:00:30Z") == {
        "PartitionKey": "20260131", "RowKey": KEY, "instanceId": "call-abc",
        "ringingAt": "2026-01-31T08:00:00.123456Z", "outcome": "missed", "endedAt": "2026-01-31T08:00:30Z",
        "reason": "", "dropped": ""}
    assert ended_entity("call-abc", RINGING, "answer_failed", None)["endedAt"] == ""
    ended = ended_entity("call-abc", RINGING, "rejected", None, "blocked_caller" + "x" * 200, dropped=True)
    assert (ended["reason"], ended["dropped"]) == ("blocked_caller" + "x" * 106, "yes")  # bounded for the digest


def test_list_row_has_nulls_while_running() -> None:
    running = {**started_entity("call-abc", RINGING, "4:+1 425 *** **23"), "outcome": None}
    assert list_row(running) == {"instanceId": "call-abc", "outcome": None, "caller": "4:+1 425 *** **23",
                                 "ringingAt": "2026-01-31T08:00:00.123456Z", "endedAt": None,
                                 "direction": "inbound"}
    ended = {**running, **ended_entity("call-abc", RINGING, "completed", "2026-01-31T08:05:00Z")}
    assert list_row(ended)["outcome"] == "completed" and list_row(ended)["endedAt"] == "2026-01-31T08:05:00Z"
    before_outbound = {key: value for key, value in running.items() if key != "direction"}
    assert list_row(before_outbound)["direction"] == "inbound"


def test_cursor_tokens_are_known_strings_and_round_trip() -> None:
    assert encode_cursor(Cursor("20260130")) == "MToyMDI2MDEzMDo"  # base64url of "1:20260130:"
    token = encode_cursor(Cursor("20260131", KEY))
    assert base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)) == b"1:20260131:" + KEY.encode()
    assert decode_cursor(token) == Cursor("20260131", KEY)
    assert decode_cursor("MToyMDI2MDEzMDo") == Cursor("20260130", "")


def _token(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("token", [
    "", "!!!!", "a" * 401, "MToyMDI2MDEzMDo=",  # padded: not what encode_cursor gives
    _token("2:20260130:"), _token("1:2026013:"), _token("1:20261301:"), _token("1:20260130"),
    _token("1:20260130:123_call-abc"),  # row key too short
    _token(f"1:20260130:{KEY}"),  # the row key's day is the 31st
    _token("1:20260131:8230153599876543_call/abc"),
    base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),
])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(token)


def test_days_are_walked_from_to_back_to_from() -> None:
    since, to = datetime(2026, 1, 29, 23, tzinfo=UTC), datetime(2026, 2, 1, 1, tzinfo=UTC)
    assert list(days_newest_first(since, to)) == ["20260201", "20260131", "20260130", "20260129"]
    assert list(days_newest_first(since, to, Cursor("20260130", ""))) == ["20260130", "20260129"]
    assert list(days_newest_first(to, to)) == ["20260201"]
    with pytest.raises(BadCursor):
        list(days_newest_first(since, to, Cursor("20260202")))
    with pytest.raises(BadCursor):
        list(days_newest_first(since, to, Cursor("20260128")))


def test_partition_query_bounds_the_window_and_takes_the_outcome_as_a_parameter() -> None:
    since = datetime(2026, 1, 30, tzinfo=UTC)
    assert partition_query("20260131", since, RINGING) == (
        "PartitionKey eq @day and RowKey ge @newest and RowKey lt @past",
        {"day": "20260131", "newest": "8230153599876543", "past": "8230268799999999`"})
    query, parameters = partition_query("20260131", since, RINGING, KEY, "missed")
    assert query.endswith("RowKey gt @after and outcome eq @outcome")
    assert parameters["after"] == KEY and parameters["outcome"] == "missed"
    # The bounds keep a call ringing exactly at `since` or at `to`, and nothing outside.
    at_since, at_to = row_key(since, "call-x"), row_key(RINGING, "call-x")
    assert parameters["newest"] <= at_to < parameters["past"] and parameters["newest"] <= at_since < parameters["past"]
    assert not row_key(since - timedelta(microseconds=1), "call-x") < parameters["past"]
    assert not row_key(RINGING + timedelta(microseconds=1), "call-x") >= parameters["newest"]
