"""`GET /api/calls` pages through more than 100 calls newest first, against the call index in real Azurite.

The rows are written through calls/call_index.py as the app writes them, then listed by calling the function
as the Functions host would, following `next` until there is no continuation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from calls import call_index
from shared.call_start import CallStart, CallTimeouts
from tests.calls.test_events_http import wait_until
from tests.conftest import FunctionApp

# A window no other test writes into (the index is shared by the session's tests).
DAY_ONE = datetime(2031, 3, 1, tzinfo=UTC)
WINDOW = {"from": "2031-03-01T00:00:00+00:00", "to": "2031-03-03T23:59:59.999999+00:00"}
OUTCOMES = ("completed", "missed", "completed", "transferred", "answer_failed")


def _calls() -> list[tuple[str, datetime, str]]:
    """190 calls: 40 on 1 March, none on 2 March, 150 on 3 March, ten pairs ringing in the same microsecond."""
    calls = []
    for number in range(190):
        day = DAY_ONE if number < 40 else DAY_ONE + timedelta(days=2)
        ringing = day + timedelta(seconds=(number % 150) * 400, microseconds=number % 7)
        if 100 <= number < 120:  # pairs: 100 and 101, 102 and 103, ... ring together
            ringing = day + timedelta(hours=20, minutes=number // 2)
        calls.append((f"call-page-{number:04d}", ringing, OUTCOMES[number % len(OUTCOMES)]))
    return calls


def _start(instance_id: str, ringing: datetime) -> CallStart:
    return CallStart(instance_id=instance_id, caller="4:+1 425 *** **23", caller_ref=None, caller_kind="phoneNumber",
                     transcription="off", callee="4:+1 800 *** **00", correlation_id="c", server_call_id="s",
                     ringing_at=ringing.isoformat().replace("+00:00", "Z"),
                     timeouts=CallTimeouts(connect_seconds=30, max_duration_seconds=600))


@pytest.fixture(scope="module")
def expected(function_app: FunctionApp, azurite_connection_string: str) -> list[tuple[str, datetime, str]]:
    calls = _calls()
    with pytest.MonkeyPatch.context() as patch:
        from calls import app_context

        patch.setenv("AzureWebJobsStorage", azurite_connection_string)
        app_context.reset()
        for instance_id, ringing, outcome in calls:
            call_index.record_call_started(_start(instance_id, ringing))
            if instance_id != "call-page-0189":  # one call still running
                call_index.record_call_ended(instance_id, ringing.isoformat(), outcome,
                                             (ringing + timedelta(minutes=1)).isoformat())
        app_context.reset()
    # Newest first; calls ringing in the same microsecond in instance-id order (sorted is stable).
    return sorted(sorted(calls), key=lambda call: call[1], reverse=True)


def _list(function_app: FunctionApp, **params: str) -> tuple[int, dict]:
    response = function_app.http("list_calls", method="GET", body=b"", params=params,
                                 url="https://app.example/api/calls?code=secret-key")
    return response.status_code, json.loads(response.get_body())


def _settled(function_app: FunctionApp) -> None:
    """Start rows are written off the answer path: wait until every one has landed."""
    rows = wait_until(lambda: _list(function_app, **WINDOW, limit="500")[1]["calls"],
                      lambda rows: len(rows) == 190 and all(row["caller"] for row in rows))
    assert len(rows) == 190


def _pages(function_app: FunctionApp, **params: str) -> list[dict]:
    pages: list[dict] = []
    while True:
        status, page = _list(function_app, **params)
        assert status == 200, page
        pages.append(page)
        if page["continuation"] is None:
            assert page["next"] is None
            return pages
        next_url = urlsplit(page["next"])
        assert next_url.netloc == "app.example" and next_url.path == "/api/calls"
        params = {name: values[0] for name, values in parse_qs(next_url.query).items()}
        assert "code" not in params and params["continuation"] == page["continuation"]


def test_more_than_a_hundred_calls_page_newest_first_and_complete(app_env, function_app: FunctionApp,
                                                                 expected: list) -> None:
    _settled(function_app)
    pages = _pages(function_app, **WINDOW)
    assert [page["count"] for page in pages] == [100, 90]
    assert [page["truncated"] for page in pages] == [True, False]
    rows = [row for page in pages for row in page["calls"]]
    assert [row["instanceId"] for row in rows] == [instance_id for instance_id, _, _ in expected]
    by_id = {instance_id: (ringing, outcome) for instance_id, ringing, outcome in expected}
    for row in rows:
        ringing, outcome = by_id[row["instanceId"]]
        assert datetime.fromisoformat(row["ringingAt"].replace("Z", "+00:00")) == ringing
        assert row["outcome"] == (None if row["instanceId"] == "call-page-0189" else outcome)
        assert row["caller"] == "4:+1 425 *** **23"


def test_small_pages_and_an_outcome_filter_cross_the_empty_day(app_env, function_app: FunctionApp,
                                                              expected: list) -> None:
    _settled(function_app)
    pages = _pages(function_app, **WINDOW, outcome="missed", limit="7")
    rows = [row for page in pages for row in page["calls"]]
    missed = [instance_id for instance_id, _, outcome in expected if outcome == "missed"]
    assert len(missed) == 38 and [row["instanceId"] for row in rows] == missed
    assert [page["count"] for page in pages] == [7] * 5 + [3]


def test_the_window_bounds_are_inclusive(app_env, function_app: FunctionApp, expected: list) -> None:
    _settled(function_app)
    instance_id, ringing, _ = expected[50]
    moment = ringing.isoformat()
    status, page = _list(function_app, **{"from": moment, "to": moment})
    assert status == 200 and instance_id in [row["instanceId"] for row in page["calls"]]
    status, page = _list(function_app, **{"from": moment, "to": WINDOW["to"]})
    assert [row["instanceId"] for row in page["calls"]] == [call[0] for call in expected[:51]]


def test_a_token_from_another_window_is_a_400(app_env, function_app: FunctionApp, expected: list) -> None:
    _, first = _list(function_app, **WINDOW, limit="10")
    status, body = _list(function_app, **{"from": "2031-04-01T00:00:00Z", "to": "2031-04-02T00:00:00Z",
                                          "continuation": first["continuation"]})
    assert status == 400 and body == {"error": "bad_request", "path": "continuation",
                                      "message": "continuation does not belong to this from/to window"}


def test_the_cli_follows_the_continuation(app_env, function_app: FunctionApp, durable, expected: list,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m tools.call_story --list` over HTTP through the dev host, a page of 50 at a time."""
    from tools.call_story.__main__ import main as call_story_cli

    _settled(function_app)
    base = ["--list", "--from", WINDOW["from"], "--to", WINDOW["to"], "--limit", "50", "--json",
            "--base-url", durable.base_url, "--key", durable.function_key]
    assert call_story_cli([*base, "--pages", "0"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["instanceId"] for row in listed["calls"]] == [call[0] for call in expected]
    assert listed["continuation"] is None
    assert call_story_cli([*base, "--pages", "2"]) == 0
    captured = capsys.readouterr()
    assert [row["instanceId"] for row in json.loads(captured.out)["calls"]] == [call[0] for call in expected[:100]]
    assert "more calls" in captured.err
