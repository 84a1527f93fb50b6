"""Media options end to end on the simulator: MEDIA_AUDIO_CHANNEL=unmixed streams one AudioData per participant,
and the transcript, the story and the email name each speaker by label, never by number."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_call_scenarios import CALLER, PlacedCall, assert_no_raw_number, place_call, stack  # noqa: F401
from tests.e2e.test_observability import get
from tools.local_stack import LocalStack

SECOND = "+14255550177"
SECOND_SAID = "Thank you Alice, we will call you back about your order tomorrow morning."


@pytest.mark.parametrize("stack", [{"MEDIA_AUDIO_CHANNEL": "unmixed"}], indirect=True)
def test_unmixed_audio_with_two_speakers_labels_both(stack: LocalStack) -> None:  # noqa: F811
    call: PlacedCall = place_call(stack, "unmixed_two_speakers")
    (answer,) = stack.simulator.requests_for("answer")
    assert answer.json["mediaStreamingOptions"]["audioChannelType"] == "unmixed"
    assert call.result.media.participants_streamed == {f"4:{CALLER}", f"4:{SECOND}"}
    assert call.output["outcome"] == "completed" and call.output["partial"] is False
    lines = [json.loads(line) for line in call.transcript.splitlines()]
    assert [line["speaker"] for line in lines] == ["caller", "participant 2"]
    assert lines[1]["text"] == SECOND_SAID
    assert SECOND not in call.transcript and CALLER not in call.transcript
    # The media report, in history and the story, counts both streams; no number shows anywhere.
    status, _, body = get(stack, f"/api/calls/{call.instance_id}")
    assert status == 200 and json.loads(body)["media"]["audioStreams"] == 2
    assert SECOND not in body and CALLER not in body
    text = call.plain_text()
    assert "caller:" in text and "participant 2:" in text and SECOND_SAID in text
    assert SECOND not in text
    assert_no_raw_number(call)
    assert SECOND not in json.dumps(call.status)
