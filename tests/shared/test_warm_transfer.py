"""The consultative hand-off through the whole call machine (shared/warm_transfer.py via call_progress)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.call_actions import (
    ADD_AGENT,
    BRIEF_AGENT,
    CANCEL_ADD,
    HOLD,
    LEAVE,
    PLAY,
    REMOVE_AGENT,
    UNHOLD,
    CallAction,
)
from shared.call_activity_names import LOAD_FLOW, RUN_ACTION
from tests.shared.test_call_machine import Driver

SEALED = "v1." + "A" * 60  # the control API's sealed target, opaque here
HANDOFF = CallAction("h-1", "handoff", "api", target=SEALED, target_mask="+1 425 *** **23",
                     reason="billing question").to_payload()


def connected() -> Driver:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    driver.event("CallAnswered", callConnectionId="conn-1")
    driver.event("CallConnected", callConnectionId="conn-1")
    driver.event("CallActionRequested", **HANDOFF)
    return driver


def step(driver: Driver) -> dict[str, object]:
    """The running action activity's input (one at a time)."""
    (running,) = [a for a in driver.running.values() if a.name == RUN_ACTION]
    return dict(running.input)


def accept(driver: Driver) -> dict[str, object]:
    sent = step(driver)
    driver.done(RUN_ACTION, {"status": "accepted"})
    return sent


def callback(driver: Driver, name: str, sent: dict[str, object]) -> None:
    driver.event(name, operationContext=sent["actionId"], callConnectionId="conn-1")


def timeline(driver: Driver) -> list[tuple[str, str | None]]:
    assert driver.state is not None
    return [(entry.event, entry.detail) for entry in driver.state.record.timeline]


def test_answered_hand_off_holds_adds_briefs_unholds_and_leaves() -> None:
    driver = connected()
    hold = accept(driver)
    assert hold["action"] == HOLD and hold["prompt"]["text"] and hold["instanceId"] == "call-abc"  # type: ignore[index]
    add = accept(driver)
    assert add["action"] == ADD_AGENT and add["target"] == SEALED and add["reason"] == "billing question"
    callback(driver, "AddParticipantSucceeded", add)
    brief = accept(driver)
    assert brief["action"] == BRIEF_AGENT and brief["target"] == SEALED
    text = brief["prompt"]["text"]  # type: ignore[index]
    assert "billing question" in text and "+1555***0100" in text and len(text) <= 400
    callback(driver, "PlayCompleted", brief)
    assert accept(driver)["action"] == UNHOLD
    assert accept(driver)["action"] == LEAVE
    assert driver.state is not None and driver.state.record.outcome == "handed_off"
    assert ("handed_off", "to +1 425 *** **23") in timeline(driver)
    driver.event("CallDisconnected", callConnectionId="conn-1")
    assert driver.state.record.stage == "ended" and driver.state.record.outcome == "handed_off"
    assert SEALED not in str(timeline(driver))


def test_declined_hand_off_takes_the_caller_off_hold_and_plays_the_fallback() -> None:
    driver = connected()
    accept(driver)
    add = accept(driver)
    driver.event("AddParticipantFailed", operationContext=add["actionId"], callConnectionId="conn-1",
                 result={"code": 603, "subCode": 0, "message": "declined"})
    assert accept(driver)["action"] == UNHOLD
    fallback = accept(driver)
    assert fallback["action"] == PLAY and fallback["purpose"] == "transfer_fallback"
    assert driver.state is not None and driver.state.record.outcome is None
    assert driver.state.control.handoff is None and driver.state.record.stage == "connected"
    assert any(event == "handoff_failed" for event, _ in timeline(driver))


def test_an_unanswered_invitation_times_out_on_the_machine_deadline() -> None:
    driver = connected()
    accept(driver)
    accept(driver)  # the add: no callback ever comes
    assert driver.wait is not None
    while not any(a.input.get("action") == UNHOLD for a in driver.running.values()):
        driver.fire()
    assert ("action_timed_out" in [event for event, _ in timeline(driver)])
    assert accept(driver)["action"] == UNHOLD and accept(driver)["purpose"] == "transfer_fallback"


# The hand-off's progress, step by step; the caller hangs up after any prefix of it.
_SCRIPT = ("hold", "add", "joined", "brief", "briefed", "unhold")


def _run(driver: Driver, upto: int) -> dict[str, object]:
    sent: dict[str, object] = {}
    for move in _SCRIPT[:upto]:
        if move in ("hold", "add", "brief", "unhold"):
            sent = accept(driver)
        elif move == "joined":
            callback(driver, "AddParticipantSucceeded", sent)
        elif move == "briefed":
            callback(driver, "PlayCompleted", sent)
    return sent


@settings(max_examples=60, deadline=None)
@given(upto=st.integers(0, len(_SCRIPT)), running_done=st.booleans(),
       late=st.lists(st.sampled_from(["AddParticipantSucceeded", "AddParticipantFailed", "PlayCompleted"]),
                     max_size=3))
def test_caller_hanging_up_on_hold_ends_the_call_with_no_stray_action(upto: int, running_done: bool,
                                                                      late: list[str]) -> None:
    driver = connected()
    _run(driver, upto)
    in_flight = [a.input for a in driver.running.values() if a.name == RUN_ACTION]
    started_before = len(driver.names(RUN_ACTION))
    driver.event("CallDisconnected", callConnectionId="conn-1")
    if running_done and in_flight:
        driver.done(RUN_ACTION, {"status": "accepted"})
    for name in late:  # results of the steps that were out when the caller left
        for sent in in_flight:
            callback(driver, name, sent)
    assert len(driver.names(RUN_ACTION)) == started_before  # nothing sent after the caller left
    assert driver.state is not None
    assert driver.state.control.handoff is None and driver.state.record.stage == "ended"
    assert all(entry.state in ("completed", "failed", "canceled", "sent", "sending")
               for entry in driver.state.control.ledger)
    assert not any(entry.state == "queued" for entry in driver.state.control.ledger)
    assert driver.state.record.outcome in (None, "completed", "handed_off")


def test_a_second_transfer_during_a_hand_off_is_refused() -> None:
    driver = connected()
    other = CallAction("t-2", "transfer", "api", target="configured").to_payload()
    driver.event("CallActionRequested", **other)
    refused = [detail for event, detail in timeline(driver) if event == "action_refused"]
    assert refused == ["transfer to configured target (api) t-2: a hand-off is under way"]
    assert driver.state is not None and driver.state.control.handoff is not None
    assert driver.state.control.handoff.phase == "holding"


def test_the_steps_of_a_hand_off_asked_for_near_the_action_limit_all_run() -> None:
    from shared.call_action_ledger import MAX_ACTIONS

    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    driver.event("CallAnswered", callConnectionId="conn-1")
    driver.event("CallConnected", callConnectionId="conn-1")
    for index in range(MAX_ACTIONS - 1):  # mutes: settled by their request
        driver.event("CallActionRequested", **CallAction(f"m-{index}", "mute", "api").to_payload())
        driver.done(RUN_ACTION, {"status": "accepted"})
    driver.event("CallActionRequested", **HANDOFF)
    accept(driver)
    add = accept(driver)
    driver.event("AddParticipantFailed", operationContext=add["actionId"], callConnectionId="conn-1")
    assert accept(driver)["action"] == UNHOLD  # never refused: the caller is not left on hold


def test_our_legs_disconnect_overtaking_the_hang_ups_result_is_still_a_hand_off() -> None:
    driver = connected()
    accept(driver)
    add = accept(driver)
    callback(driver, "AddParticipantSucceeded", add)
    brief = accept(driver)
    callback(driver, "PlayCompleted", brief)
    assert accept(driver)["action"] == UNHOLD
    assert step(driver)["action"] == LEAVE  # sent; ACS's CallDisconnected comes before the activity's result
    driver.event("CallDisconnected", callConnectionId="conn-1")
    driver.done(RUN_ACTION, {"status": "accepted"})
    assert driver.state is not None and driver.state.record.outcome == "handed_off"
    assert [event for event, _ in timeline(driver)].count("handed_off") == 1
    assert "handoff_abandoned" not in [event for event, _ in timeline(driver)]


def _timed_out_add(driver: Driver, answer: dict[str, object]) -> dict[str, object]:
    """Hold, then the add, which ACS takes with `answer`; no result comes, so the machine's deadline fires."""
    accept(driver)
    add = step(driver)
    driver.done(RUN_ACTION, answer)
    while not any(a.input.get("action") in (CANCEL_ADD, UNHOLD) for a in driver.running.values()):
        driver.fire()
    return add


def test_a_timed_out_invitation_is_withdrawn_at_acs_before_the_caller_comes_off_hold() -> None:
    driver = connected()
    _timed_out_add(driver, {"status": "accepted", "invitationId": "inv-42"})
    cancel = accept(driver)
    assert cancel["action"] == CANCEL_ADD and cancel["invitationId"] == "inv-42" and cancel["target"] == SEALED
    assert accept(driver)["action"] == UNHOLD and accept(driver)["purpose"] == "transfer_fallback"
    callback(driver, "CancelAddParticipantSucceeded", cancel)
    assert ("CancelAddParticipantSucceeded", f"cancel_add_participant to +1 425 *** **23 (handoff) "
            f"{str(cancel['actionId'])[:8]}") in timeline(driver)
    assert driver.state is not None and driver.state.record.stage == "connected"


def test_a_declined_invitation_is_not_cancelled() -> None:
    driver = connected()
    accept(driver)
    add = step(driver)
    driver.done(RUN_ACTION, {"status": "accepted", "invitationId": "inv-42"})
    callback(driver, "AddParticipantFailed", add)
    assert accept(driver)["action"] == UNHOLD


def test_an_add_accepted_without_an_invitation_id_has_nothing_to_withdraw() -> None:
    driver = connected()
    _timed_out_add(driver, {"status": "accepted"})
    assert accept(driver)["action"] == UNHOLD


def test_an_agent_answering_after_the_hand_off_gave_up_is_removed_once() -> None:
    driver = connected()
    add = _timed_out_add(driver, {"status": "accepted", "invitationId": "inv-42"})
    cancel = accept(driver)
    accept(driver)  # unhold
    accept(driver)  # the fallback prompt
    callback(driver, "CancelAddParticipantFailed", cancel)  # too late: the agent had answered
    driver.event("AddParticipantSucceeded", operationContext=add["actionId"], callConnectionId="conn-1", id="e-1")
    driver.event("AddParticipantSucceeded", operationContext=add["actionId"], callConnectionId="conn-1", id="e-2")
    removes = [a for a in driver.running.values() if a.input.get("action") == REMOVE_AGENT]
    assert len(removes) == 1 and removes[0].input["target"] == SEALED
    remove = accept(driver)
    callback(driver, "RemoveParticipantSucceeded", remove)
    events = [event for event, _ in timeline(driver)]
    assert events.count("handoff_late_answer") == 1 and "RemoveParticipantSucceeded" in events
    assert driver.state is not None and driver.state.record.outcome is None
    assert driver.state.record.stage == "connected" and SEALED not in str(timeline(driver))


def test_a_late_answer_after_the_call_ended_asks_nothing() -> None:
    driver = connected()
    accept(driver)
    add = accept(driver)
    driver.event("CallDisconnected", callConnectionId="conn-1")
    driver.event("AddParticipantSucceeded", operationContext=add["actionId"], callConnectionId="conn-1")
    assert not any(a.input.get("action") == REMOVE_AGENT for a in driver.running.values())
    assert "handoff_late_answer" not in [event for event, _ in timeline(driver)]


def test_the_answered_agent_of_a_successful_hand_off_is_never_removed() -> None:
    driver = connected()
    accept(driver)
    add = accept(driver)
    callback(driver, "AddParticipantSucceeded", add)
    driver.event("AddParticipantSucceeded", operationContext=add["actionId"], callConnectionId="conn-1", id="late")
    assert not any(a.input.get("action") == REMOVE_AGENT for a in driver.running.values())
