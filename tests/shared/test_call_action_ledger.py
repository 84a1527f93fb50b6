"""shared.call_action_ledger: correlation by operation context; late and duplicate results change nothing."""

from __future__ import annotations

import pytest

from shared import call_action_ledger as ledger
from shared.call_actions import CallAction, Prompt

PLAY = CallAction("p1", "play", "api", prompt=Prompt(text="Hi"))
MUTE = CallAction("m1", "mute", "api")


def test_queue_send_settle_once() -> None:
    entries, refused = ledger.enqueue((), PLAY)
    assert refused is None and ledger.next_queued(entries) == PLAY
    entries = ledger.mark_sending(entries, "p1")
    assert ledger.next_queued(ledger.enqueue(entries, MUTE)[0]) is None  # one request at a time
    entries, outcome = ledger.on_request_result(entries, "p1", {"status": "accepted"})
    assert outcome is None and ledger.find(entries, "p1").state == "sent"
    entries, match = ledger.on_callback(entries, "PlayStarted", {"operationContext": "p1"}, None)
    assert match.entry is not None and match.outcome is None
    payload = {"operationContext": "p1", "details": {"failedPlaySourceIndex": 0}}
    entries, match = ledger.on_callback(entries, "PlayFailed", payload, "code 400, subCode 8536")
    assert match.outcome is not None
    assert (match.outcome.status, match.outcome.detail) == ("failed", "code 400, subCode 8536")
    again, repeat = ledger.on_callback(entries, "PlayCompleted", {"operationContext": "p1"}, None)
    assert repeat.repeated and repeat.outcome is None and again == entries
    assert ledger.pending_count(entries) == 0


def test_results_of_another_kind_or_unknown_context_are_not_results() -> None:
    entries = ledger.mark_sending(ledger.enqueue((), PLAY)[0], "p1")
    _, match = ledger.on_callback(entries, "RecognizeCompleted", {"operationContext": "p1"}, None)
    assert match.outcome is None and not match.repeated
    _, match = ledger.on_callback(entries, "PlayCompleted", {"operationContext": "other"}, None)
    assert match.entry is None


def test_refusals_and_synchronous_actions() -> None:
    entries, _ = ledger.enqueue((), MUTE)
    assert ledger.enqueue(entries, MUTE)[1] == "duplicate action id"
    entries, outcome = ledger.on_request_result(ledger.mark_sending(entries, "m1"), "m1", {"status": "ok"})
    assert outcome is not None and outcome.status == "completed"
    entries, _ = ledger.enqueue((), PLAY)
    entries, outcome = ledger.on_request_result(entries, "p1", {"status": "rejected", "code": 400, "message": "no"})
    assert outcome is not None and outcome.detail == "rejected, 400, no"
    full: ledger.Ledger = ()
    for number in range(ledger.MAX_ACTIONS):
        full, _ = ledger.enqueue(full, CallAction(f"a{number}", "mute", "api"))
    assert ledger.enqueue(full, MUTE)[1] is not None


def test_cancel_queued() -> None:
    entries, _ = ledger.enqueue((), PLAY)
    entries, dropped = ledger.cancel_queued(entries, "call ended")
    assert dropped == (PLAY,) and ledger.next_queued(entries) is None


def test_only_flow_prompts_get_a_result_deadline() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 3, 1, tzinfo=UTC)
    menu = CallAction("f1", "recognize_dtmf", "flow", purpose="menu", timeout_seconds=5)
    entries: ledger.Ledger = ()
    for action in (menu, PLAY):
        entries, _ = ledger.enqueue(entries, action)
        entries, _ = ledger.on_request_result(ledger.mark_sending(entries, action.action_id), action.action_id,
                                              {"status": "accepted"}, now)
    due = now + timedelta(seconds=ledger.FLOW_RESULT_WAIT_SECONDS + 5)
    assert ledger.next_result_due(entries) == due
    assert ledger.on_overdue(entries, due - timedelta(seconds=1)) == (entries, ())
    entries, outcomes = ledger.on_overdue(entries, due)
    assert [(o.action.action_id, o.status) for o in outcomes] == [("f1", "failed")]
    assert ledger.next_result_due(entries) is None and ledger.find(entries, "p1").state == "sent"


def test_states_limits_and_result_table_are_pinned() -> None:
    assert (ledger.QUEUED, ledger.SENDING, ledger.SENT) == ("queued", "sending", "sent")
    assert (ledger.COMPLETED, ledger.FAILED, ledger.CANCELED) == ("completed", "failed", "canceled")
    assert (ledger.MAX_ACTIONS, ledger.FLOW_RESULT_WAIT_SECONDS) == (40, 120)
    # ACS's result callbacks (Call Automation events) and what each does to which kind of action.
    assert {name: (sorted(kinds), how) for name, (kinds, how) in ledger.RESULT_EVENTS.items()} == {
        "PlayStarted": (["play", "play_to_agent"], None), "PlayCompleted": (["play", "play_to_agent"], "completed"),
        "PlayFailed": (["play", "play_to_agent"], "failed"), "PlayCanceled": (["play", "play_to_agent"], "canceled"),
        "AddParticipantSucceeded": (["add_participant"], "completed"),
        "AddParticipantFailed": (["add_participant"], "failed"),
        "CancelAddParticipantSucceeded": (["cancel_add_participant"], "completed"),
        "CancelAddParticipantFailed": (["cancel_add_participant"], "failed"),
        "RemoveParticipantSucceeded": (["remove_participant"], "completed"),
        "RemoveParticipantFailed": (["remove_participant"], "failed"),
        "RecognizeCompleted": (["recognize_dtmf"], "completed"), "RecognizeFailed": (["recognize_dtmf"], "failed"),
        "RecognizeCanceled": (["recognize_dtmf"], "canceled"), "CallTransferAccepted": (["transfer"], "completed"),
        "CallTransferFailed": (["transfer"], "failed"), "TranscriptionStarted": (["start_transcription"], "completed"),
        "TranscriptionStopped": (["stop_transcription"], "completed"),
        "TranscriptionFailed": (["start_transcription", "stop_transcription"], "failed")}
    assert ledger.SYNCHRONOUS_KINDS == {"mute", "hang_up", "start_recording", "pause_recording", "resume_recording",
                                        "stop_recording", "hold", "unhold", "leave"}


def test_the_41st_action_is_refused_with_the_limit() -> None:
    full: ledger.Ledger = ()
    for number in range(ledger.MAX_ACTIONS - 1):
        full, _ = ledger.enqueue(full, CallAction(f"a{number}", "mute", "api"))
    full, refused = ledger.enqueue(full, MUTE)
    assert refused is None and len(full) == 40
    assert ledger.enqueue(full, PLAY) == (full, "more than 40 actions on one call")


def test_a_hang_up_is_settled_on_entry_and_the_rest_queue_in_order() -> None:
    entries, _ = ledger.enqueue((), CallAction("h1", "hang_up", "api"))
    assert ledger.find(entries, "h1").state == "completed" and ledger.next_queued(entries) is None
    entries, _ = ledger.enqueue(entries, PLAY)
    entries, _ = ledger.enqueue(entries, MUTE)
    assert ledger.next_queued(entries) == PLAY and ledger.pending_count(entries) == 2
    entries, dropped = ledger.cancel_queued(ledger.mark_sending(entries, "p1"), "call ending")
    assert dropped == (MUTE,)
    assert [(e.action.action_id, e.state, e.detail) for e in entries] == [
        ("h1", "completed", None), ("p1", "sending", None), ("m1", "canceled", "call ending")]
    assert ledger.find(entries, 7) is None and ledger.find(entries, "nope") is None


@pytest.mark.parametrize(("result", "detail"), [
    ({"status": "failed", "code": 404, "message": "call gone"}, "failed, 404, call gone"),
    ({"status": "failed"}, "failed"),
    ({}, "failed"),
    ({"code": 0}, "0"),
    ({"status": "failed", "message": "m" * 300}, ("failed, " + "m" * 300)[:200]),
])
def test_a_refused_request_settles_as_failed_with_acs_words(result: dict[str, object], detail: str) -> None:
    entries, _ = ledger.enqueue((), PLAY)
    entries, outcome = ledger.on_request_result(ledger.mark_sending(entries, "p1"), "p1", result)
    assert outcome == ledger.Outcome(PLAY, "failed", detail)
    assert (ledger.find(entries, "p1").state, ledger.find(entries, "p1").detail) == ("failed", detail)
    assert ledger.on_request_result(entries, "p1", {"status": "accepted"}) == (entries, None)  # settled already
    assert ledger.on_request_result(entries, "nope", {"status": "accepted"}) == (entries, None)


def test_a_settling_callback_carries_its_details() -> None:
    menu = CallAction("r1", "recognize_dtmf", "api", prompt=Prompt(text="Press"), max_tones=1, timeout_seconds=5)
    entries, _ = ledger.enqueue((), menu)
    entries, _ = ledger.on_request_result(ledger.mark_sending(entries, "r1"), "r1", {"status": "accepted"})
    entries, match = ledger.on_callback(entries, "RecognizeCompleted",
                                        {"operationContext": "r1", "details": {"dtmfTones": "5"}}, "code 200")
    assert match.outcome == ledger.Outcome(menu, "completed", "code 200", {"dtmfTones": "5"})
    assert (ledger.find(entries, "r1").state, ledger.find(entries, "r1").detail) == ("completed", "code 200")
    _, no_details = ledger.on_callback(ledger.on_request_result(
        ledger.mark_sending(ledger.enqueue((), menu)[0], "r1"), "r1", {"status": "accepted"})[0],
        "RecognizeCanceled", {"operationContext": "r1", "details": "x"}, None)
    assert no_details.outcome == ledger.Outcome(menu, "canceled", None, {})


def test_only_flow_prompts_get_a_deadline_and_recognize_adds_its_timeout() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 3, 1, tzinfo=UTC)
    actions = [CallAction("f1", "play", "flow", purpose="greeting", prompt=Prompt(text="Hi")),
               CallAction("f2", "transfer", "flow", purpose="transfer", target="+14255550123"),
               CallAction("f3", "recognize_dtmf", "api", prompt=Prompt(text="Press"), max_tones=1, timeout_seconds=9)]
    dues = []
    for action in actions:
        entries, _ = ledger.enqueue((), action)
        entries, _ = ledger.on_request_result(ledger.mark_sending(entries, action.action_id), action.action_id,
                                              {"status": "accepted"}, now)
        dues.append(ledger.find(entries, action.action_id).result_due)
    assert dues == [now + timedelta(seconds=120), None, None]
    entries, _ = ledger.enqueue((), actions[0])
    entries, _ = ledger.on_request_result(entries, "f1", {"status": "accepted"})
    assert ledger.find(entries, "f1").result_due is None  # no clock given: no deadline
    overdue, outcomes = ledger.on_overdue(ledger.on_request_result(ledger.enqueue((), actions[0])[0], "f1",
                                                                   {"status": "accepted"}, now)[0],
                                          now + timedelta(seconds=120))
    assert outcomes == (ledger.Outcome(actions[0], "failed", "no result from ACS in time", overdue=True),)
    assert (ledger.find(overdue, "f1").state, ledger.find(overdue, "f1").detail) == ("failed", "no result")


def test_matches_name_their_action_and_synchronous_kinds_settle_on_acceptance() -> None:
    entries = ledger.on_request_result(ledger.mark_sending(ledger.enqueue((), PLAY)[0], "p1"), "p1",
                                       {"status": "accepted"})[0]
    _, other_kind = ledger.on_callback(entries, "RecognizeCompleted", {"operationContext": "p1"}, None)
    assert other_kind == ledger.Match(ledger.find(entries, "p1"), None)
    settled, match = ledger.on_callback(entries, "PlayCompleted", {"operationContext": "p1"}, "code 200")
    assert match.entry == ledger.find(entries, "p1") and match.outcome == ledger.Outcome(PLAY, "completed", "code 200")
    _, repeat = ledger.on_callback(settled, "PlayCompleted", {"operationContext": "p1"}, None)
    assert repeat == ledger.Match(ledger.find(settled, "p1"), None, repeated=True)
    muted, outcome = ledger.on_request_result(ledger.mark_sending(ledger.enqueue((), MUTE)[0], "m1"), "m1",
                                              {"status": "accepted"})
    assert outcome == ledger.Outcome(MUTE, "completed")
    assert [(e.action.action_id, e.state) for e in muted] == [("m1", "completed")]
