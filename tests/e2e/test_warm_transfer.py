"""Transfers with context, end to end: a blind transfer carrying custom context headers, and the consultative
hand-off (answered; not answered, then the fallback and the call going on; the caller hanging up on hold),
with the real function app (dev host), media host, simulator and Azurite. Each asserts the Durable history
(never the target's number), the story, the simulator's recorded requests with their headers and operation
contexts, and the .eml."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from tests.e2e.test_call_control import _instance_id, _until_flow, place_call, stack, timeline
from tests.e2e.test_call_scenarios import CALLER, PlacedCall, assert_no_raw_number
from tests.e2e.test_observability import story
from tools.local_stack import LocalStack

__all__ = ["stack"]  # the fixture, shared with test_call_control
AGENT = "+14255550123"  # CALL_TRANSFER_TARGET
OTHER_AGENT = "+14255550177"  # given through the control API: sealed at the edge
OUR_NUMBER = "+18005550199"
HOLD_MUSIC = "https://cdn.contoso.example/hold.wav"
FALLBACK = "Sorry, no agent is free. I am still here to help."
# The agent rings 30 s: under the stack's time scale the machine's own deadline ((30 + 15) * 0.2 = 9 s) stays
# well after the simulator's answer, even on a loaded machine.
HANDOFF = {"CALL_TRANSFER_TARGET": AGENT, "CALL_HANDOFF_CALLER_ID": OUR_NUMBER, "CALL_HANDOFF_ANSWER_SECONDS": "30",
           "CALL_HOLD_AUDIO_URL": HOLD_MUSIC, "CALL_TRANSFER_FALLBACK_TEXT": FALLBACK}
# Rings 5 s: nobody answers, and whichever comes first ends the invitation: ACS's AddParticipantFailed (408) or
# the machine's deadline ((5 + 15) * 0.2 = 4 s of wall time under the time scale).
MENU = {**HANDOFF, "CALL_HANDOFF_ANSWER_SECONDS": "5", "CALL_MENU_PROMPT_TEXT": "Press 0 to speak to an agent.",
        "CALL_MENU_OPTIONS": "0:handoff"}
REASON = "refund above the agent limit"
accepted: dict[str, str] = {}  # action -> id, as the control API answered


def _post_action(body: dict[str, Any], until: str = "listening"):
    async def during(stack: LocalStack) -> None:
        instance_id = await _instance_id(stack)
        await _until_flow(stack, instance_id, until)
        url = f"{stack.dev_host.base_url}/api/calls/{instance_id}/actions"
        async with aiohttp.ClientSession() as session, \
                session.post(url, params={"code": stack.dev_host.function_key}, json=body) as response:
            answer = await response.json()
            assert response.status == 202, answer
            accepted[body["action"]] = answer["actionId"]
    return during


def assert_number_nowhere(stack: LocalStack, call: PlacedCall, number: str) -> None:
    """The Durable history (every event, inputs and results), the status, the story and the email hold the
    target only masked; the number is not there in any spelling."""
    status = stack.dev_host.instance_status(call.instance_id, show_history=True) or {}
    assert len(status["historyEvents"]) > 20  # every event, with its inputs and results
    history, shown = json.dumps(status), json.dumps(story(stack, call.instance_id))
    for spelling in (number, number[1:], quote(number, safe="")):
        assert spelling not in history and spelling not in shown
        for message in call.emails:
            assert spelling not in message.as_string()
    assert_no_raw_number(call)


def requests(stack: LocalStack, kind: str) -> list[dict[str, Any]]:
    return [dict(request.json) for request in stack.simulator.requests_for(kind)]


def events(call: PlacedCall) -> list[str]:
    return [event for event, _ in timeline(call)]


@pytest.mark.parametrize("stack", [HANDOFF], indirect=True)
def test_blind_transfer_carries_the_calls_context(stack: LocalStack) -> None:
    body = {"action": "transfer", "target": OTHER_AGENT, "reason": REASON, "headers": {"Ticket": "4711"}}
    call = place_call(stack, "caller_waits_on_line", during=_post_action(body))
    (transfer,) = requests(stack, "transfer")
    assert transfer["targetParticipant"]["phoneNumber"]["value"] == OTHER_AGENT
    assert transfer["operationContext"] == accepted["transfer"]
    story_url = f"{stack.env['CALLBACK_BASE_URL']}/api/calls/{call.instance_id}/view"
    assert transfer["customCallingContext"] == {"sipHeaders": {
        "X-MS-Custom-Call-Id": call.instance_id, "X-MS-Custom-Reason": quote(REASON, safe=""),
        "X-MS-Custom-Story": quote(story_url, safe=""), "X-MS-Custom-Ticket": "4711"}}
    assert call.result.ended_by == "transfer" and call.output["outcome"] == "transferred"
    assert ("action_requested", f"transfer to +1 425 *** **77 (api) {accepted['transfer'][:8]}") in timeline(call)
    assert "Call transferred" in call.emails[0]["Subject"] and "+1 425 *** **77" in call.plain_text()
    shown = story(stack, call.instance_id)
    assert shown["outcome"] == "transferred"
    assert_number_nowhere(stack, call, OTHER_AGENT)


@pytest.mark.parametrize("stack", [HANDOFF], indirect=True)
def test_warm_hand_off_answered(stack: LocalStack) -> None:
    body = {"action": "handoff", "target": OTHER_AGENT, "reason": REASON}
    call = place_call(stack, "warm_handoff_answered", during=_post_action(body))
    (hold,) = requests(stack, "hold")
    assert hold["targetParticipant"]["rawId"] == f"4:{CALLER}" and hold["playSourceInfo"]["file"]["uri"] == HOLD_MUSIC
    (add,) = requests(stack, "participants_add")
    assert add["participantToAdd"]["rawId"] == f"4:{OTHER_AGENT}" and add["invitationTimeoutInSeconds"] == 30
    assert add["sourceCallerIdNumber"]["value"] == OUR_NUMBER
    headers = add["customCallingContext"]["sipHeaders"]
    assert headers["X-MS-Custom-Call-Id"] == call.instance_id
    assert headers["X-MS-Custom-Reason"] == quote(REASON, safe="")
    (brief,) = requests(stack, "play")
    assert [target["rawId"] for target in brief["playTo"]] == [f"4:{OTHER_AGENT}"]  # only the agent hears it
    spoken = brief["playSources"][0]["text"]["text"]
    assert REASON in spoken and "+1 425 *** **00" in spoken and CALLER not in spoken  # the caller, masked
    (unhold,) = requests(stack, "unhold")
    assert unhold["targetParticipant"]["rawId"] == f"4:{CALLER}"
    # Our leg only (DELETE), never :terminate: caller and agent stay connected.
    assert len(stack.simulator.requests_for("hang_up")) == 1 and stack.simulator.requests_for("terminate") == []
    contexts = [request["operationContext"] for request in (hold, add, brief, unhold)]
    assert len(set(contexts)) == 4
    order = events(call)
    assert order.index("handoff_started") < order.index("AddParticipantSucceeded") < order.index("PlayCompleted") \
        < order.index("handed_off") < order.index("CallDisconnected")
    assert call.result.ended_by == "handed_off" and call.output["outcome"] == "handed_off"
    assert call.output["endReason"] == "handed off to +1 425 *** **77"
    assert "Call handed off to an agent" in call.emails[0]["Subject"] and "AddParticipantSucceeded" in call.plain_text()
    assert "handed off to +1 425 *** **77" in call.plain_text()  # the outcome with the target masked
    assert story(stack, call.instance_id)["outcome"] == "handed_off"
    assert_number_nowhere(stack, call, OTHER_AGENT)


@pytest.mark.parametrize("stack", [MENU], indirect=True)
def test_warm_hand_off_not_answered_falls_back_and_the_call_goes_on(stack: LocalStack) -> None:
    call = place_call(stack, "warm_handoff_not_answered")
    (add,) = requests(stack, "participants_add")
    assert add["participantToAdd"]["rawId"] == f"4:{AGENT}"  # the configured line
    assert len(requests(stack, "hold")) == 1 and len(requests(stack, "unhold")) == 1
    (fallback,) = requests(stack, "play")
    assert fallback["playSources"][0]["text"]["text"] == FALLBACK and fallback["playTo"] == []  # to all
    assert add["invitationTimeoutInSeconds"] == 5
    ended = next((event, detail) for event, detail in timeline(call)
                 if event in ("action_timed_out", "AddParticipantFailed"))
    assert ended[1].startswith("add_participant to configured target (handoff)") or ended[1].startswith("code 408")
    order = events(call)
    assert order.index(ended[0]) < order.index("handoff_failed") < order.index("PlayCompleted") \
        < order.index("CallDisconnected")
    assert stack.simulator.requests_for("hang_up") == [] and stack.simulator.requests_for("terminate") == []
    assert call.result.ended_by == "caller" and call.output["outcome"] == "completed"
    assert ("menu_choice", "0: handoff") in timeline(call)
    assert "handoff_failed" in call.plain_text()
    assert story(stack, call.instance_id)["outcome"] == "completed"
    assert_number_nowhere(stack, call, AGENT)


@pytest.mark.parametrize("stack", [HANDOFF], indirect=True)
def test_caller_hanging_up_on_hold_ends_the_call_cleanly(stack: LocalStack) -> None:
    body = {"action": "handoff", "reason": REASON}  # the configured line
    call = place_call(stack, "caller_hangs_up_on_hold", during=_post_action(body))
    assert len(requests(stack, "hold")) == 1 and len(requests(stack, "participants_add")) == 1
    for kind in ("unhold", "play", "hang_up", "terminate", "transfer"):
        assert stack.simulator.requests_for(kind) == [], kind  # no stray action after the caller left
    order = events(call)
    assert order.index("CallDisconnected") <= order.index("handoff_abandoned")
    assert "action_requested" not in order[order.index("CallDisconnected"):]
    assert call.result.ended_by == "caller" and call.output["outcome"] == "completed"
    assert "handoff_abandoned" in call.plain_text()
    assert story(stack, call.instance_id)["outcome"] == "completed"
    assert_number_nowhere(stack, call, AGENT)


@pytest.mark.parametrize("stack", [HANDOFF], indirect=True)
def test_warm_hand_off_declined_falls_back(stack: LocalStack) -> None:
    call = place_call(stack, "warm_handoff_declined", during=_post_action({"action": "handoff", "target": OTHER_AGENT}))
    failed = next(detail for event, detail in timeline(call) if event == "AddParticipantFailed")
    assert failed.startswith("code 603")
    (add,) = requests(stack, "participants_add")
    assert add["operationContext"] in failed or add["operationContext"][:8] in failed
    assert len(requests(stack, "unhold")) == 1 and FALLBACK in json.dumps(requests(stack, "play"))
    assert call.result.ended_by == "caller" and call.output["outcome"] == "completed"
    assert "AddParticipantFailed - code 603" in call.plain_text()
    assert_number_nowhere(stack, call, OTHER_AGENT)


# Rings 5 s: the machine gives up (5 + 15) * 0.2 = 4 s after the add, before the scenario's late
# AddParticipantSucceeded (sent 1 + 8 s after the add; the agent joined at 1 s).
LATE = {**HANDOFF, "CALL_HANDOFF_ANSWER_SECONDS": "5"}


@pytest.mark.parametrize("stack", [LATE], indirect=True)
def test_an_agent_answering_after_the_deadline_is_withdrawn_then_removed(stack: LocalStack) -> None:
    call = place_call(stack, "warm_handoff_late_answer",
                      during=_post_action({"action": "handoff", "target": OTHER_AGENT, "reason": REASON}))
    (add,) = requests(stack, "participants_add")
    (cancel,) = requests(stack, "participants_cancelAddParticipant")
    (connection,) = stack.simulator.call_connections()
    # The invitation the add was answered with, withdrawn under its own operation context.
    assert connection.past_invitations[cancel["invitationId"]] == f"4:{OTHER_AGENT}"
    assert cancel["operationContext"] not in (add["operationContext"], None)
    (remove,) = requests(stack, "participants_remove")
    assert remove["participantToRemove"]["rawId"] == f"4:{OTHER_AGENT}" and connection.joined == set()
    order = events(call)
    assert order.index("action_timed_out") < order.index("handoff_failed") < order.index("CancelAddParticipantFailed")
    assert order.index("handoff_failed") < order.index("handoff_late_answer") \
        < order.index("RemoveParticipantSucceeded") < order.index("CallDisconnected")
    assert len(requests(stack, "unhold")) == 1 and FALLBACK in json.dumps(requests(stack, "play"))
    assert stack.simulator.requests_for("hang_up") == [] and stack.simulator.requests_for("terminate") == []
    assert call.result.ended_by == "caller" and call.output["outcome"] == "completed"
    assert "handoff_late_answer" in call.plain_text()
    assert_number_nowhere(stack, call, OTHER_AGENT)
