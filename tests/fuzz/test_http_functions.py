"""Property: whatever reaches /api/events, /api/recording-events and /api/callbacks over real HTTP (the dev
host serving function_app, ACS JWT on), the answer is never a 5xx other than the documented 503, and 4xx carry JSON."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.call_token import call_token, instance_id_for_call
from tests.fuzz.http_client import is_json, post
from tests.fuzz.strategies import callback_bodies, event_grid_bodies
from tools.local_stack import LocalStack

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CONTENT_TYPES = st.sampled_from(["application/json", "text/plain", "application/cloudevents-batch+json", ""])
EVENT_TYPES = st.sampled_from(["Notification", "SubscriptionValidation", "", "x"])
raw_bodies = st.one_of(st.binary(max_size=512), st.text(max_size=200).map(str.encode))


def encoded(body: object) -> bytes:
    return json.dumps(body).encode() if not isinstance(body, bytes) else body


def assert_handled(status: int, body: bytes) -> None:
    assert status < 500 or status == 503, (status, body[:200])
    if 400 <= status < 500 and status != 404:  # a 404 may be the host's own (no route matches), not JSON
        assert is_json(body), body[:200]


@QUICK
@given(st.one_of(event_grid_bodies(), raw_bodies), CONTENT_TYPES, EVENT_TYPES)
def test_events_endpoint(fuzz_stack: LocalStack, body: object, content_type: str, event_type: str) -> None:
    path = f"/api/events?code={fuzz_stack.dev_host.function_key}"
    status, answer = post(fuzz_stack.dev_host.base_url, path, encoded(body),
                          {"Content-Type": content_type, "aeg-event-type": event_type})
    assert_handled(status, answer)


@QUICK
@given(st.one_of(callback_bodies(), raw_bodies), st.one_of(st.just("genuine"), st.text(max_size=40)),
       st.sampled_from(["genuine", "none", "forged", "another call"]), CONTENT_TYPES)
def test_callbacks_endpoint(fuzz_stack: LocalStack, body: object, instance: str, auth: str,
                            content_type: str) -> None:
    instance_id = instance_id_for_call("fuzz-server-call") if instance == "genuine" else instance
    token = call_token(fuzz_stack.env["CALL_TOKEN_SECRET"],
                       instance_id if auth != "another call" else "call-someone-else")
    headers = {"Content-Type": content_type}
    if auth in ("genuine", "another call"):
        headers.update(fuzz_stack.signer("https://callback"))
    elif auth == "forged":
        headers["Authorization"] = "Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."
    path = f"/api/callbacks/{quote(instance_id, safe='')}?token={quote(token)}"
    status, answer = post(fuzz_stack.dev_host.base_url, path, encoded(body), headers)
    assert_handled(status, answer)
    if auth != "genuine":
        assert status in (400, 401, 404), status


@QUICK
@given(st.one_of(event_grid_bodies(), raw_bodies), CONTENT_TYPES, EVENT_TYPES)
def test_recording_events_endpoint(fuzz_stack: LocalStack, body: object, content_type: str, event_type: str) -> None:
    path = f"/api/recording-events?code={fuzz_stack.dev_host.function_key}"
    status, answer = post(fuzz_stack.dev_host.base_url, path, encoded(body),
                          {"Content-Type": content_type, "aeg-event-type": event_type})
    assert_handled(status, answer)
