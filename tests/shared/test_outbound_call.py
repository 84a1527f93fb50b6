"""Outbound calls, pure part: the request, its idempotent instance id and fingerprint, and the dialing phase
through the one call machine (answered, CreateCallFailed, dial timeout, createCall refused)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared import outbound_call as outbound
from shared.call_activity_names import HANG_UP, LOAD_FLOW, PLACE_CALL, PREPARE_SUMMARY, RUN_ACTION
from shared.call_start import CallStart
from shared.json_body import BadRequest
from shared.outbound_settings import load_outbound_settings
from shared.settings import SettingsError
from tests.shared.test_call_machine import START, T0, Driver

NUMBER = "+14255550100"
SECRET = "s" * 40
DIAL = 30


def _outbound_start(**section: str) -> dict[str, object]:
    request = outbound.OutboundRequest(to=NUMBER, greeting_text=section.pop("greeting", None),
                                       flow=section.pop("flow", "configured"))
    fields = outbound.outbound_section(request, "sealed-target", outbound.request_fingerprint(SECRET, request))
    timeouts = {**START["timeouts"], "connectSeconds": DIAL}  # type: ignore[dict-item]
    return {**START, "instanceId": "out-1", "serverCallId": "", "callee": "+1425***0100", "caller": "+1800***0199",
            "direction": "outbound", "outbound": fields, "timeouts": timeouts}


class OutboundDriver(Driver):
    def __init__(self, **section: str) -> None:
        super().__init__()
        self.start_input = _outbound_start(**section)

    def begin(self) -> OutboundDriver:
        from shared import call_machine as machine

        self.state, commands = machine.start(self.start_input, self.now)
        self._take(commands)
        return self


@pytest.mark.parametrize("body", [
    {"to": "+12345"}, {"to": "14255550100"}, {"to": "8:teamsuser:abc"}, {"to": ""}, {"to": 14255550100},
    {}, [], {"to": NUMBER, "greetingText": ""}, {"to": NUMBER, "greetingText": "x" * 401},
    {"to": NUMBER, "greetingText": "line\nbreak"}, {"to": NUMBER, "flow": "menu"}, {"to": NUMBER, "extra": 1},
    {"to": "+" + "1" * 20},
])
def test_bad_requests_are_refused_naming_the_field_and_never_echo_the_number(body: object) -> None:
    with pytest.raises(BadRequest) as refused:
        outbound.parse_outbound_request(body)
    assert refused.value.status == 400 and NUMBER not in refused.value.message


def test_a_good_request_and_its_defaults() -> None:
    assert outbound.parse_outbound_request({"to": NUMBER}) == outbound.OutboundRequest(NUMBER, None, "configured")
    parsed = outbound.parse_outbound_request({"to": "8:acs:abc_123", "greetingText": " Hi there ", "flow": "none"})
    assert parsed == outbound.OutboundRequest("8:acs:abc_123", "Hi there", "none")


def test_the_instance_id_comes_from_the_key_alone() -> None:
    first = outbound.instance_id_for_key("ticket-4711")
    assert first == outbound.instance_id_for_key("ticket-4711") != outbound.instance_id_for_key("ticket-4712")
    assert first.startswith("out-") and outbound.fresh_instance_id(uuid.uuid4()) != first


def test_the_fingerprint_tells_bodies_apart_and_needs_the_secret() -> None:
    one, other = outbound.OutboundRequest(NUMBER), outbound.OutboundRequest("+14255550101")
    assert outbound.request_fingerprint(SECRET, one) == outbound.request_fingerprint(SECRET, one)
    assert outbound.request_fingerprint(SECRET, one) != outbound.request_fingerprint(SECRET, other)
    assert outbound.request_fingerprint(SECRET, one) != outbound.request_fingerprint("t" * 40, one)


def test_the_start_record_holds_no_number_in_clear() -> None:
    start = CallStart.from_dict(_outbound_start(greeting="Hello from Contoso"))
    assert start.outbound is not None and outbound.is_outbound(start)
    assert NUMBER not in json.dumps(start.to_dict()) and start.to_dict()["direction"] == "outbound"
    assert CallStart.from_dict(start.to_dict()) == start


def test_dialing_places_the_call_beside_the_flow_load() -> None:
    driver = OutboundDriver().begin()
    assert [a.name for a in driver.started] == [LOAD_FLOW, PLACE_CALL]
    assert driver.names(PLACE_CALL)[0].input == {"instanceId": "out-1", "targetRef": "sealed-target",
                                                 "ringingAt": START["ringingAt"]}
    assert [entry.event for entry in driver.state.record.timeline] == ["dialing"]


def test_answered_runs_the_request_greeting_like_an_inbound_call() -> None:
    driver = OutboundDriver(greeting="Hello, this is Contoso about your order.").begin()
    driver.done(LOAD_FLOW, {"greeting": None, "goodbye": {"text": "Bye", "url": None, "voice": "en-GB-RyanNeural"}})
    driver.done(PLACE_CALL, {"status": "ok", "callConnectionId": "cc-9", "serverCallId": "srv"})
    assert driver.state.record.call_connection_id == "cc-9" and driver.state.record.start.server_call_id == "srv"
    driver.event("CallConnected", after=2, callConnectionId="cc-9")
    assert driver.state.record.stage == "connected"
    [play] = driver.names(RUN_ACTION)
    assert play.input["prompt"]["text"] == "Hello, this is Contoso about your order."
    assert play.input["prompt"]["voice"] == "en-GB-RyanNeural" and play.input["callerRef"] == "sealed-ref"


def test_flow_none_drops_the_configured_prompts() -> None:
    driver = OutboundDriver(flow="none").begin()
    driver.done(LOAD_FLOW, {"greeting": {"text": "Thanks for calling.", "url": None, "voice": "en-US-JennyNeural"},
                            "menuPrompt": {"text": "Press 1", "url": None, "voice": "en-US-JennyNeural"}})
    driver.done(PLACE_CALL, {"status": "ok", "callConnectionId": "cc-9"})
    driver.event("CallConnected", callConnectionId="cc-9")
    assert driver.names(RUN_ACTION) == [] and driver.state.control.flow.phase == "listening"


def test_create_call_failed_ends_not_answered_without_a_hang_up() -> None:
    driver = OutboundDriver().begin()
    driver.done(LOAD_FLOW, {})
    driver.done(PLACE_CALL, {"status": "ok", "callConnectionId": "cc-9"})
    driver.event("CreateCallFailed", after=3, callConnectionId="cc-9", id="ev-1",
                 result={"code": 603, "subCode": 0, "message": "Call ended successfully as it was declined."})
    assert driver.names(HANG_UP) == []
    [summary] = driver.names(PREPARE_SUMMARY)
    assert summary.input["outcome"] == "not_answered" and summary.input["end_reason"].startswith("code 603")
    assert "not_answered" in [entry["event"] for entry in summary.input["timeline"]]


def test_the_dial_timeout_cancels_the_ringing_leg() -> None:
    driver = OutboundDriver().begin()
    driver.done(LOAD_FLOW, {})
    driver.done(PLACE_CALL, {"status": "ok", "callConnectionId": "cc-9"})
    driver.fire()
    assert driver.now == T0 + timedelta(seconds=DIAL) and driver.state.record.outcome == "not_answered"
    assert [a.input for a in driver.names(HANG_UP)] == [{"callConnectionId": "cc-9"}]
    driver.done(HANG_UP, {"status": "ok"})
    [summary] = driver.names(PREPARE_SUMMARY)
    assert summary.input["end_reason"] == "not connected in time"


def test_a_refused_create_call_ends_the_call_at_once() -> None:
    driver = OutboundDriver().begin()
    driver.done(LOAD_FLOW, {})
    driver.done(PLACE_CALL, {"status": "rejected", "message": "createCall refused: 403 caller id not owned"})
    assert driver.state.record.outcome == "not_answered" and driver.names(HANG_UP) == []
    assert driver.names(PREPARE_SUMMARY)[0].input["end_reason"] == "createCall refused: 403 caller id not owned"


def test_a_create_call_that_fails_for_good_is_retried_then_ends_the_call() -> None:
    driver = OutboundDriver().begin()
    driver.done(LOAD_FLOW, {})
    for _ in range(2):
        driver.done(PLACE_CALL, error="timeout")
        driver.fire()
    driver.done(PLACE_CALL, error="timeout\n  File ...")
    assert len(driver.names(PLACE_CALL)) == 3 and driver.state.record.end_reason == "timeout"


def test_settings_of_outbound_calls() -> None:
    assert load_outbound_settings({}).caller_id is None
    settings = load_outbound_settings({"ACS_CALLER_ID": "+18005550199", "OUTBOUND_CALLS_PER_MINUTE": "30",
                                       "OUTBOUND_DIAL_TIMEOUT_SECONDS": "20"})
    assert (settings.caller_is_number, settings.calls_per_minute, settings.dial_timeout_seconds) == (True, 30, 20)
    assert not load_outbound_settings({"ACS_CALLER_ID": "8:acs:app"}).caller_is_number
    for name, value in (("ACS_CALLER_ID", "0800 555 0199"), ("OUTBOUND_CALLS_PER_MINUTE", "0"),
                        ("OUTBOUND_DIAL_TIMEOUT_SECONDS", "1")):
        with pytest.raises(SettingsError, match=name):
            load_outbound_settings({name: value})


def test_the_rate_window_is_the_calendar_minute() -> None:
    assert outbound.rate_window(datetime(2026, 3, 1, 12, 34, 50, tzinfo=UTC)) == ("20260301", "1234", 10)
    assert outbound.rate_window(datetime(2026, 3, 1, 12, 34, 0, tzinfo=UTC))[2] == 60


def test_the_request_greeting_survives_a_failed_flow_load() -> None:
    driver = OutboundDriver(greeting="Hello from Contoso.").begin()
    driver.done(LOAD_FLOW, error="storage down")
    driver.fire()
    driver.done(LOAD_FLOW, error="storage down")
    driver.fire()
    driver.done(LOAD_FLOW, error="storage down")
    driver.done(PLACE_CALL, {"status": "ok", "callConnectionId": "cc-9"})
    driver.event("CallConnected", callConnectionId="cc-9")
    assert "flow_settings_failed" in [entry.event for entry in driver.state.record.timeline]
    [play] = driver.names(RUN_ACTION)
    assert play.input["prompt"]["text"] == "Hello from Contoso."


def test_a_dial_timeout_before_the_call_is_placed_still_cancels_it() -> None:
    driver = OutboundDriver().begin()
    driver.done(LOAD_FLOW, {})
    while driver.state.record.outcome is None:  # createCall hangs past the dial timeout
        driver.fire()
    assert driver.state.record.outcome == "not_answered" and driver.names(PREPARE_SUMMARY) == []
    driver.done(PLACE_CALL, {"status": "ok", "callConnectionId": "cc-late"})
    assert [a.input for a in driver.names(HANG_UP)] == [{"callConnectionId": "cc-late"}]
    driver.done(HANG_UP, {"status": "ok"})
    assert len(driver.names(PREPARE_SUMMARY)) == 1
