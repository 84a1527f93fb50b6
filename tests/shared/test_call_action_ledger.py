"""shared.call_action_ledger: correlation by operation context; late and duplicate results change nothing."""

from __future__ import annotations

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
