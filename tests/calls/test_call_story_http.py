"""`GET /api/calls/{id}`, its page and `GET /api/calls` against real Durable endpoints (the dev host), with a
call started through `POST /api/events` and the ACS simulator; completed calls are covered end to end in
tests/e2e/test_observability.py."""

from __future__ import annotations

import json

import pytest

from tests.calls.test_events_http import offered_delivery, post_events, raised_events, wait_until
from tests.conftest import FunctionApp, durable_client_binding
from tools.acs_simulator import AcsSimulatorServer
from tools.azurite import DEV_KEY, free_port

CALLER = "+14255550123"


@pytest.fixture
def ringing(function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> str:
    response = post_events(function_app, durable, offered_delivery(simulator, caller=CALLER))
    (call,) = json.loads(response.get_body())["calls"]
    wait_until(lambda: durable.instance_status(call["instanceId"]),
               lambda status: "CallAnswered" in raised_events(status))
    return call["instanceId"]


def get(function_app: FunctionApp, durable, name: str, instance_id: str | None = None, **params: str):
    return function_app.http(name, method="GET", body=b"", params=params,
                             route_params={"instanceId": instance_id} if instance_id is not None else {},
                             # The list reads the call index, not Durable: it has no client binding.
                             client=None if name == "list_calls" else durable_client_binding(durable.base_url))


def test_a_running_call_has_a_story_so_far(function_app: FunctionApp, durable, ringing: str) -> None:
    response = get(function_app, durable, "call_story", ringing)
    assert response.status_code == 200 and response.mimetype == "application/json"
    story = json.loads(response.get_body())
    assert story["instanceId"] == ringing and story["runtimeStatus"] == "Running" and story["outcome"] is None
    # load_call_flow (the call-flow settings, read at the start of every call) may finish before or after.
    assert [entry["event"] for entry in story["timeline"] if entry["event"] != "load_call_flow"] == [
        "ringing", "CallAnswered"]
    assert story["callConnectionId"] and story["correlationId"]
    assert story["durations"]["answerSeconds"] is not None and story["durations"]["totalSeconds"] is None
    assert "4255550123" not in response.get_body().decode()


def test_the_page_is_html_under_a_strict_policy(function_app: FunctionApp, durable, ringing: str) -> None:
    response = get(function_app, durable, "call_story_view", ringing)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_body().decode()
    assert "<script" not in page and ringing in page and "CallAnswered" in page and "4255550123" not in page


def test_the_list_filters_by_time_and_outcome(function_app: FunctionApp, durable, ringing: str) -> None:
    # The index is shared by every test of the session; this call is the newest in the last day.
    listed = wait_until(lambda: json.loads(get(function_app, durable, "list_calls").get_body()),
                        lambda body: body["calls"] and body["calls"][0]["instanceId"] == ringing)
    assert listed["calls"][0]["instanceId"] == ringing and listed["calls"][0]["outcome"] is None
    assert listed["calls"][0]["caller"].endswith("**23")
    missed = json.loads(get(function_app, durable, "list_calls", outcome="missed").get_body())["calls"]
    assert ringing not in [row["instanceId"] for row in missed]
    past = json.loads(get(function_app, durable, "list_calls", **{"from": "2020-01-01T00:00:00Z",
                                                                   "to": "2020-01-02T00:00:00Z"}).get_body())
    assert past["calls"] == [] and past["count"] == 0 and past["continuation"] is None


def test_a_call_placed_through_the_dev_host_is_listed_with_its_outcome(
        function_app: FunctionApp, durable, simulator: AcsSimulatorServer) -> None:
    simulator.faults.fail_next("answer", status=400, times=1)
    (call,) = json.loads(post_events(function_app, durable, offered_delivery(simulator, caller=CALLER)).get_body())[
        "calls"]
    finished = durable.wait_for_instance(call["instanceId"], timeout=30)
    assert finished["output"]["outcome"] == "answer_failed"
    params = {"outcome": "answer_failed"}
    listed = json.loads(get(function_app, durable, "list_calls", **params).get_body())
    (row,) = [row for row in listed["calls"] if row["instanceId"] == call["instanceId"]]
    assert row["outcome"] == "answer_failed" and row["endedAt"] == finished["output"]["endedAt"]
    started = finished["input"] if isinstance(finished["input"], dict) else json.loads(finished["input"])
    assert row["ringingAt"] == started["ringingAt"] and row["caller"].endswith("**23")
    assert "4255550123" not in json.dumps(listed)


@pytest.mark.parametrize(("name", "instance_id", "params", "status"), [
    ("call_story", "call-unknown", {}, 404),
    ("call_story_view", "call-unknown", {}, 404),
    ("call_story", "a?showHistory=true", {}, 400),
    ("call_story", "@bad", {}, 400),
    ("list_calls", None, {"from": "not a time"}, 400),
    ("list_calls", None, {"to": "2026-13-45T00:00:00Z"}, 400),
    ("list_calls", None, {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 400),
    ("list_calls", None, {"outcome": "<script>"}, 400),
    ("list_calls", None, {"outcome": "x" * 41}, 400),
    ("list_calls", None, {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 400),
    ("list_calls", None, {"limit": "0"}, 400),
    ("list_calls", None, {"limit": "501"}, 400),
    ("list_calls", None, {"limit": "ten"}, 400),
    ("list_calls", None, {"continuation": "not-a-token"}, 400),
    ("list_calls", None, {"continuation": "MToyMDI2MDEzMDo=="}, 400),
])
def test_bad_requests_get_a_json_4xx(function_app: FunctionApp, durable, name: str, instance_id: str | None,
                                     params: dict[str, str], status: int) -> None:
    response = get(function_app, durable, name, instance_id, **params)
    assert response.status_code == status
    assert json.loads(response.get_body())["error"] in ("not_found", "bad_request")


def test_storage_unavailable_is_a_503_for_the_list(function_app: FunctionApp, app_env: pytest.MonkeyPatch) -> None:
    closed = f"http://127.0.0.1:{free_port()}/devstoreaccount1"
    app_env.setenv("AzureWebJobsStorage", f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                                          f"AccountKey={DEV_KEY};BlobEndpoint={closed};TableEndpoint={closed};")
    response = function_app.http("list_calls", method="GET", body=b"")
    assert response.status_code == 503 and json.loads(response.get_body())["error"] == "unavailable"
