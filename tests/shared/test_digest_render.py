"""shared.digest_render: the digest email's counts, reasons and bounded list, masked and escaped."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.daily_digest import DigestCall
from shared.digest_render import MAX_LISTED, render_digest

BASE = "https://func.contoso.com"
DAY = date(2026, 12, 3)


def call(instance: str, outcome: str, reason: str = "", *, minute: int = 0, direction: str = "inbound",
         dropped: bool = False) -> DigestCall:
    return DigestCall(instance, datetime(2026, 12, 3, 9, minute, tzinfo=UTC), "4:+1 425 *** **00", outcome, reason,
                      direction, dropped)


def test_counts_reasons_and_the_calls_not_answered_in_both_parts() -> None:
    calls = [call("call-a", "completed", minute=1), call("call-b", "completed", minute=2, dropped=True),
             call("call-c", "rejected", "blocked_caller", minute=3),
             call("call-d", "redirected", "after_hours", minute=4), call("call-e", "missed", minute=5),
             call("call-f", "not_answered", "no_answer", minute=6, direction="outbound")]
    rendered = render_digest(DAY, calls, ZoneInfo("Europe/Berlin"), BASE)
    assert rendered.subject == "Daily call digest 2026-12-03: 6 calls, 4 not answered"
    text = rendered.plain_text
    assert "Answered (completed): 2" in text and "Dropped (connected, then cut off): 1" in text
    assert "Rejected: reasons\n  blocked_caller: 1" in text and "Redirected: reasons\n  after_hours: 1" in text
    assert "inbound: 5" in text and "outbound: 1" in text and "Outbound, not answered: 1" in text
    # Local times (Berlin, UTC+1), oldest first, each with its story link.
    assert "  10:03  4:+1 425 *** **00  Rejected  blocked_caller  " \
           f"{BASE}/api/calls/call-c/view" in text
    assert text.index("10:03") < text.index("10:04") < text.index("10:05") < text.index("10:06")
    assert "call-a/view" not in text  # answered calls are counted, not listed
    assert f'<a href="{BASE}/api/calls/call-d/view">story</a>' in rendered.html
    assert "<td>Redirected</td><td>after_hours</td>" in rendered.html


def test_outside_text_is_escaped_and_ids_quoted_in_links() -> None:
    hostile = DigestCall('call-<x>"', datetime(2026, 12, 3, 9, 0, tzinfo=UTC), "<b>me</b>", "rejected",
                         "<script>alert(1)</script>", "inbound", False)
    rendered = render_digest(DAY, [hostile], UTC, BASE)
    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<b>me</b>" not in rendered.html and "&lt;b&gt;me&lt;/b&gt;" in rendered.html
    assert "call-%3Cx%3E%22/view" in rendered.html


def test_the_list_is_bounded_and_says_how_many_more() -> None:
    start = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    calls = [DigestCall(f"call-{n}", start + timedelta(minutes=n), "4:+1 425 *** **00", "missed", "", "inbound",
                        False) for n in range(MAX_LISTED + 7)]
    rendered = render_digest(DAY, calls, UTC, BASE, truncated=True)
    assert rendered.plain_text.count("/view") == MAX_LISTED
    assert "7 more calls not answered are not listed." in rendered.plain_text
    assert "lower bounds" in rendered.plain_text and "lower bounds" in rendered.html


def test_a_quiet_day() -> None:
    rendered = render_digest(DAY, [], UTC, BASE)
    assert rendered.subject == "Daily call digest 2026-12-03: 0 calls, 0 not answered"
    assert "Calls not answered: none" in rendered.plain_text and "<p>None.</p>" in rendered.html
