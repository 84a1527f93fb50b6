"""The after-hours message: its settings (a bad or unknown action stops start-up naming the variable), the
policy's decision, and the call machine playing it and hanging up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import call_machine
from shared.after_hours_flow import policy_input
from shared.after_hours_settings import AfterHours
from shared.answer_policy import BUSY, NO_REASON, MediaCapacity, PlayMessage, Redirect, Reject, decide
from shared.answer_policy_settings import load_answer_policy_settings
from shared.app_config import load_app_config
from shared.call_actions import Prompt
from shared.call_activity_names import HANG_UP, LOAD_FLOW, PREPARE_SUMMARY, RUN_ACTION, SEND_EMAIL
from shared.settings import SettingsError
from tests.shared.test_answer_policy import _call
from tests.shared.test_call_machine import START, Driver
from tests.shared.test_settings import VALID

CLOSED = {"CALL_BUSINESS_HOURS": "mon 09:00-10:00", "CALL_TIMEZONE": "UTC"}
SUNDAY = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # outside the hours above
TEXT = "We are closed. Please call again on Monday."
MESSAGE = {**CLOSED, "CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_TEXT": TEXT}


def test_the_action_defaults_keep_the_earlier_meaning() -> None:
    assert load_answer_policy_settings(CLOSED).after_hours == AfterHours("reject")
    redirect = load_answer_policy_settings({**CLOSED, "CALL_AFTER_HOURS_TARGET": "8:acs:desk"})
    assert redirect.after_hours == AfterHours("redirect", "8:acs:desk")


def test_message_settings_parse_text_or_audio() -> None:
    text = load_answer_policy_settings({**CLOSED, "CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_TEXT": TEXT,
                                        "CALL_TTS_VOICE": "en-GB-SoniaNeural"})
    assert text.after_hours == AfterHours("message", None, Prompt(text=TEXT, voice="en-GB-SoniaNeural"))
    url = "https://contoso.blob.core.windows.net/audio/closed.wav"
    audio = load_answer_policy_settings({**CLOSED, "CALL_AFTER_HOURS_ACTION": "MESSAGE",
                                         "CALL_AFTER_HOURS_AUDIO_URL": url})
    assert audio.after_hours.message == Prompt(url=url)


@pytest.mark.parametrize(("environ", "variable"), [
    ({"CALL_AFTER_HOURS_ACTION": "voicemail"}, "CALL_AFTER_HOURS_ACTION"),
    ({"CALL_AFTER_HOURS_ACTION": ""}, None),  # empty is unset: the default
    ({"CALL_AFTER_HOURS_ACTION": "redirect"}, "CALL_AFTER_HOURS_TARGET"),
    ({"CALL_AFTER_HOURS_ACTION": "message"}, "CALL_AFTER_HOURS_TEXT"),
    ({"CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_TEXT": "x",
      "CALL_AFTER_HOURS_AUDIO_URL": "https://contoso.com/a.wav"}, "not both"),
    ({"CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_AUDIO_URL": "http://contoso.com/a.wav"},
     "CALL_AFTER_HOURS_AUDIO_URL"),
    ({"CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_TEXT": "bell\x07"}, "CALL_AFTER_HOURS_TEXT"),
    ({"CALL_AFTER_HOURS_TEXT": TEXT}, "CALL_AFTER_HOURS_ACTION=message"),
    ({"CALL_AFTER_HOURS_ACTION": "reject", "CALL_AFTER_HOURS_TARGET": "8:acs:desk"}, "CALL_AFTER_HOURS_TARGET"),
])
def test_bad_after_hours_settings_name_the_variable(environ: dict[str, str], variable: str | None) -> None:
    if variable is None:
        load_answer_policy_settings({**CLOSED, **environ})
        return
    with pytest.raises(SettingsError, match=variable):
        load_answer_policy_settings({**CLOSED, **environ})


def test_an_unknown_action_stops_the_app_config_naming_the_variable_and_the_actions() -> None:
    with pytest.raises(SettingsError) as raised:
        load_app_config({**VALID, **CLOSED, "CALL_AFTER_HOURS_ACTION": "voicemail"})
    message = str(raised.value)
    assert message.startswith("CALL_AFTER_HOURS_ACTION") and "reject, redirect, message" in message


def test_after_hours_settings_without_a_schedule_stop_start_up() -> None:
    with pytest.raises(SettingsError, match="CALL_BUSINESS_HOURS"):
        load_app_config({**VALID, "CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_TEXT": TEXT})


def test_a_malformed_schedule_stops_the_app_config_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="^CALL_BUSINESS_HOURS"):
        load_app_config({**VALID, "CALL_BUSINESS_HOURS": "mon-fri 9-5", "CALL_TIMEZONE": "UTC"})


def test_after_hours_the_policy_plays_the_message_even_with_the_media_host_full() -> None:
    settings = load_answer_policy_settings({**MESSAGE, "MEDIA_HOST_HEALTH_URL": "http://media/healthz"})
    assert decide(_call(), settings, SUNDAY, MediaCapacity(5, 5)) == PlayMessage(Prompt(text=TEXT), "after_hours")
    open_now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday, open: capacity applies again
    assert decide(_call(), settings, open_now, MediaCapacity(5, 5)) == Reject(BUSY, "media_host_full")
    blocked = load_answer_policy_settings({**MESSAGE, "CALL_BLOCKED_CALLERS": "+14255550100"})
    assert isinstance(decide(_call(), blocked, SUNDAY, None), Reject)  # blocked first, message or not
    reject = load_answer_policy_settings(CLOSED)
    assert decide(_call(), reject, SUNDAY, None) == Reject(NO_REASON, "after_hours")
    redirect = load_answer_policy_settings({**CLOSED, "CALL_AFTER_HOURS_TARGET": "8:acs:desk"})
    assert decide(_call(), redirect, SUNDAY, None) == Redirect("8:acs:desk", "after_hours")


def _message_call() -> Driver:
    driver = Driver()
    policy = policy_input(Prompt(text=TEXT), "after_hours")
    driver.state, commands = call_machine.start({**START, "policy": policy}, driver.now)
    driver._take(commands)
    return driver


def test_the_machine_plays_the_message_hangs_up_and_ends_after_hours_message() -> None:
    driver = _message_call()
    assert driver.started == [] and driver.state.record.stage == "ringing"  # no flow settings to load
    driver.event("CallAnswered", callConnectionId="cc-1")
    driver.event("CallConnected", after=1, callConnectionId="cc-1")
    [play] = driver.names(RUN_ACTION)
    assert play.input["action"] == "play" and play.input["purpose"] == "after_hours_message"
    assert play.input["prompt"] == {"text": TEXT, "url": None, "voice": "en-US-JennyNeural"}
    driver.done(RUN_ACTION, {"status": "accepted"})
    driver.event("PlayCompleted", after=3, callConnectionId="cc-1", operationContext=play.input["actionId"],
                 result={"code": 200, "subCode": 0, "message": "Action completed successfully."})
    assert [a.input for a in driver.names(HANG_UP)] == [{"callConnectionId": "cc-1"}]
    driver.done(HANG_UP, {"status": "ok"})
    driver.event("CallDisconnected", callConnectionId="cc-1")
    # Nothing was streamed: no media report to wait for, straight to the summary.
    [summary] = driver.names(PREPARE_SUMMARY)
    assert summary.input["outcome"] == "after_hours_message" and summary.input["end_reason"] == "after_hours"
    assert summary.input["partial"] is False
    driver.done(PREPARE_SUMMARY, {"status": "ok", "summaryBlob": "calls/call-abc/summary.json"})
    driver.done(SEND_EMAIL, {"status": "sent", "operationId": "op"})
    assert driver.output is not None and driver.output["outcome"] == "after_hours_message"
    events = [entry["event"] for entry in driver.output["timeline"]]
    assert events.index("PlayCompleted") < events.index("hang_up_requested") < events.index("CallDisconnected")
    assert not driver.names(LOAD_FLOW)


def test_a_message_that_fails_to_play_still_hangs_up() -> None:
    driver = _message_call()
    driver.event("CallConnected", callConnectionId="cc-1")
    driver.done(RUN_ACTION, {"status": "failed", "code": 400, "message": "bad prompt"})
    assert [a.input for a in driver.names(HANG_UP)] == [{"callConnectionId": "cc-1"}]


def test_a_caller_who_hangs_up_during_the_message_still_counts_as_after_hours_message() -> None:
    driver = _message_call()
    driver.event("CallConnected", callConnectionId="cc-1")
    driver.event("CallDisconnected", after=1, callConnectionId="cc-1")
    driver.done(RUN_ACTION, {"status": "accepted"})
    [summary] = driver.names(PREPARE_SUMMARY)
    assert summary.input["outcome"] == "after_hours_message" and not driver.names(HANG_UP)
