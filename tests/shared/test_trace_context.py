from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.trace_context import (
    TraceParent,
    parse_traceparent,
    traceparent_from_mapping,
    traceparent_from_url,
    with_traceparent,
)

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_parse_and_format_round_trip() -> None:
    parsed = parse_traceparent(VALID)
    assert parsed == TraceParent(0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, True)
    assert parsed.to_header() == VALID


def test_invalid_values_are_dropped() -> None:
    for bad in (None, 5, "", VALID.upper(), VALID + "x", "01" + VALID[2:], "00-" + "0" * 32 + VALID[35:],
                VALID[:36] + "0" * 16 + "-01", VALID.replace("-", "_")):
        assert parse_traceparent(bad) is None, bad


def test_url_round_trip_keeps_the_existing_query() -> None:
    url = with_traceparent("wss://media.example/ws/call-1/tok?processor=echo", VALID)
    assert url.startswith("wss://media.example/ws/call-1/tok?processor=echo&traceparent=")
    assert traceparent_from_url(url).to_header() == VALID
    assert traceparent_from_url("/ws/call-1/tok?traceparent=" + VALID) == parse_traceparent(VALID)
    assert with_traceparent("https://x/api?token=a", "garbage") == "https://x/api?token=a"
    assert traceparent_from_url("/ws/a/b") is None


def test_from_mapping() -> None:
    assert traceparent_from_mapping({"traceparent": VALID}) == parse_traceparent(VALID)
    assert traceparent_from_mapping({}) is None and traceparent_from_mapping(None) is None


@given(st.text(max_size=80))
def test_never_raises(text: str) -> None:
    parse_traceparent(text)
    traceparent_from_url(text)
