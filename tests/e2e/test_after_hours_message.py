"""After hours with CALL_AFTER_HOURS_ACTION=message, end to end on the simulator: the call is answered without
media streaming, the after-hours message is played, the app hangs up; the outcome is `after_hours_message`
with its reason in Durable, the story and the short email."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.calls.test_events_http import raised_events
from tests.e2e.test_answer_policy import CALLER, TIME_SCALE, _emails, _refused_instance, _run, _story
from tools.local_stack import LocalStack, local_stack

MESSAGE = "We are closed. Please call again on Monday."


@pytest.fixture
def message_stack(azurite_connection_string: str, tmp_path: Path) -> Iterator[LocalStack]:
    # Open only on a day three days away: closed now, whatever now is.
    open_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(datetime.now(UTC).weekday() + 3) % 7]
    with local_stack(azurite_connection_string, tmp_path, time_scale=TIME_SCALE, settings={
            "CALL_BUSINESS_HOURS": f"{open_day} 00:00-24:00", "CALL_TIMEZONE": "UTC",
            "CALL_AFTER_HOURS_ACTION": "message", "CALL_AFTER_HOURS_TEXT": MESSAGE}) as running:
        yield running


def test_after_hours_the_message_is_played_and_the_app_hangs_up(message_stack: LocalStack) -> None:
    stack = message_stack
    result = _run(stack, "happy_path")  # the caller would stay 8 s: the app hangs up first
    assert result.connected and result.ended_by == "app"
    assert result.media.frames_sent == 0 and not result.media.opened  # nothing streamed
    (answer,) = stack.simulator.requests_for("answer")
    assert "mediaStreamingOptions" not in answer.json and "transcriptionOptions" not in answer.json
    (play,) = stack.simulator.requests_for("play")
    assert play.status == 202
    (source,) = play.json["playSources"]
    assert source["kind"] == "text" and source["text"]["text"] == MESSAGE
    hang_ups = stack.simulator.requests_for("terminate") + stack.simulator.requests_for("hang_up")
    assert len(hang_ups) == 1 and hang_ups[0].status in (200, 204)
    assert stack.simulator.requests_for("reject") == [] and stack.simulator.requests_for("redirect") == []

    instance_id, final = _refused_instance(stack, "after_hours_message", answer.json["incomingCallContext"])
    assert instance_id == answer.json["operationContext"]
    output = final["output"]
    assert output["outcome"] == "after_hours_message" and output["endReason"] == "after_hours"
    assert output["connectedAt"] is not None and output["partial"] is False
    started = final["input"] if isinstance(final["input"], dict) else json.loads(final["input"])
    assert started["policy"] == {"action": "message", "reason": "after_hours", "text": MESSAGE,
                                 "voice": "en-US-JennyNeural"}
    raised = raised_events(final)
    assert raised[0] == "CallAnswered" and {"CallConnected", "PlayCompleted", "CallDisconnected"} <= set(raised)
    assert "MediaStreamEnded" not in raised
    scheduled = [e.get("FunctionName") for e in final["historyEvents"] if e["EventType"] == "TaskCompleted"]
    assert "load_call_flow" not in scheduled and "hang_up_call" in scheduled
    events = [entry["event"] for entry in output["timeline"]]
    assert events.index("PlayCompleted") < events.index("hang_up_requested") < events.index("CallDisconnected")
    assert "MediaStreamEnded" not in events and "media_report_missing" not in events

    story = _story(stack, instance_id)
    assert story["outcome"] == "after_hours_message"
    assert "after_hours_message" in json.dumps(story["timeline"])
    (message,) = _emails(stack)
    assert message["Subject"].startswith("After-hours message played")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Transcript" not in text and CALLER not in message.as_string()
    assert CALLER not in json.dumps(final)
