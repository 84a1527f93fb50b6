"""shared.transfer_context: the call's context as ACS custom calling context headers, within ACS's limits."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from shared.json_body import BadRequest
from shared.transfer_context import (
    MAX_SIP_VALUE_CHARS,
    SIP_VALUE,
    calling_context,
    parse_headers,
    parse_reason,
    story_url,
)

STORY = story_url("https://app.example.net/", "call-0123")


def test_pstn_targets_get_percent_encoded_sip_headers() -> None:
    sip, voip = calling_context("call-0123", "refund: 250 EUR", STORY, (("X-MS-Custom-Ticket", "4711"),), pstn=True)
    assert voip is None and sip is not None
    assert list(sip) == ["X-MS-Custom-Call-Id", "X-MS-Custom-Reason", "X-MS-Custom-Story", "X-MS-Custom-Ticket"]
    assert unquote(sip["X-MS-Custom-Story"]) == "https://app.example.net/api/calls/call-0123/view"
    assert unquote(sip["X-MS-Custom-Reason"]) == "refund: 250 EUR"
    assert all(SIP_VALUE.fullmatch(value) and len(value) <= MAX_SIP_VALUE_CHARS for value in sip.values())


def test_acs_users_get_voip_headers_in_clear() -> None:
    sip, voip = calling_context("call-0123", "billing", STORY, (), pstn=False)
    assert sip is None and voip == {"X-MS-Custom-Call-Id": "call-0123", "X-MS-Custom-Reason": "billing",
                                    "X-MS-Custom-Story": "https://app.example.net/api/calls/call-0123/view"}


def test_a_story_link_too_long_for_sip_is_left_out() -> None:
    sip, _ = calling_context("call-0123", None, "https://a.example/" + "x" * 300, (), pstn=True)
    assert sip == {"X-MS-Custom-Call-Id": "call-0123"}
    _, voip = calling_context("call-0123", None, "https://a.example/" + "x" * 300, (), pstn=False)
    assert voip is not None and "X-MS-Custom-Story" in voip


def test_the_last_check_refuses_what_acs_would_not_take() -> None:
    with pytest.raises(ValueError):
        calling_context("call-0123", None, None, (("X-MS-Custom-Long", "x" * 300),), pstn=True)
    with pytest.raises(ValueError):
        calling_context("call-0123", "a\nb", None, (), pstn=False)
    with pytest.raises(ValueError):
        calling_context("call-0123", "r", STORY, (("X-MS-Custom-A", "1"), ("X-MS-Custom-B", "2"),
                                                   ("X-MS-Custom-C", "3")), pstn=True)


@pytest.mark.parametrize(("value", "message"), [
    ("one\ntwo", "must not contain line breaks"),
    ("one\rtwo", "must not contain line breaks"),
    ("one\u2028two", "must not contain line breaks"),
    ("tab\there", "must not contain control characters"),
    ("x" * 121, "longer than 120 characters"),
    ("   ", "must not be empty"),
    (5, "must be a string"),
])
def test_bad_reasons(value: object, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_reason(value)
    assert caught.value.to_json()["message"] == message and caught.value.to_json()["path"] == "reason"


def test_reasons_are_masked() -> None:
    assert "+14255550100" not in parse_reason("call back +14255550100 today")


@pytest.mark.parametrize(("headers", "path"), [
    ({"Ticket": "a\r\nb"}, "headers.Ticket"),
    ({"Ticket": "€" * 50}, "headers.Ticket"),  # 450 characters once encoded
    ({"Call-Id": "x"}, "headers.Call-Id"),  # the call's own
    ({"Bad:Name": "x"}, "headers.Bad:Name"),
    ({"N" * 53: "x"}, f"headers.{'N' * 53}"),  # 65 with the prefix
    ({"A": "1", "B": "2", "C": "3"}, "headers"),
    ([], "headers"),
])
def test_bad_headers(headers: object, path: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_headers(headers)
    assert caught.value.to_json()["path"] == path


def test_good_headers_get_the_prefix() -> None:
    assert parse_headers({"Ticket": "4711", "X-MS-Custom-Queue": "billing"}) == (
        ("X-MS-Custom-Ticket", "4711"), ("X-MS-Custom-Queue", "billing"))
