"""The call story from real Durable statuses (recorded from the local stack) and a transferred history."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.call_story import TRANSFERRED, build_call_story, list_entry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "call_story"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}_status.json").read_text())


def events(story: dict[str, Any]) -> list[str]:
    return [entry["event"] for entry in story["timeline"]]


def raised(name: str, time: str, **fields: object) -> dict[str, Any]:
    payload = {"type": name, "time": time, **fields}
    return {"EventType": "EventRaised", "Timestamp": time, "Name": name, "Input": json.dumps(json.dumps(payload))}


def transferred_status() -> dict[str, Any]:
    """The happy path's history with a transfer: the action's activity, then ACS's CallTransferAccepted."""
    status = load("happy_path")
    history = status["historyEvents"]
    at = next(i for i, e in enumerate(history) if e.get("Name") == "CallDisconnected")
    history[at:at] = [
        {"EventType": "TaskCompleted", "Timestamp": "2026-11-25T22:57:58.100000Z",
         "ScheduledTime": "2026-11-25T22:57:58.000000Z", "FunctionName": "transfer_call",
         "Result": {"status": "requested", "operationContext": "transfer-1"}},
        raised("CallTransferAccepted", "2026-11-25T22:57:59.000000Z",
               result={"code": 200, "subCode": 7015, "message": "The transfer completed successfully."}),
    ]
    return status


def test_happy_path_story() -> None:
    story = build_call_story(load("happy_path"))
    assert story["outcome"] == "completed"
    assert events(story) == ["ringing", "CallAnswered", "CallConnected", "MediaStreamingStarted", "MediaStreamEnded",
                             "CallDisconnected", "prepare_call_summary", "send_summary_email"]
    assert all(entry["meaning"] for entry in story["timeline"])
    times = [entry["at"] for entry in story["timeline"]]
    assert times[:6] == sorted(times[:6])
    assert story["durations"]["talkSeconds"] == 8.067
    assert 0 < story["durations"]["answerSeconds"] < story["durations"]["ringSeconds"]
    assert story["media"]["framesReceived"] == 401 and story["media"]["closeCode"] == 1000
    assert story["transcriptBlob"] == f"calls/{story['instanceId']}/transcript.jsonl"
    assert story["email"] == {"status": "Succeeded", "operationId": "a1cef075-7316-57cd-9105-53605e9f97f9"}
    (email_entry,) = [e for e in story["timeline"] if e["event"] == "send_summary_email"]
    assert "a1cef075-7316-57cd-9105-53605e9f97f9" in email_entry["detail"]
    (hang_up,) = [e for e in story["timeline"] if e["event"] == "CallDisconnected"]
    assert "conversation has ended" in hang_up["detail"]
    assert story["correlationId"] == "ad324a98-4837-408b-bbda-4dfc750dea5d"
    assert story["callConnectionId"] == "72ba1e4c-9a7b7e11-2951-4d7c-87d4-0a5809c76aae"


def test_missed_story_has_no_media_and_closes_with_the_email() -> None:
    story = build_call_story(load("missed_call"))
    assert story["outcome"] == "missed"
    assert story["connectedAt"] is None and story["durations"]["talkSeconds"] is None
    assert story["media"] is None and story["transcriptBlob"] is None
    assert "missed" in events(story)
    assert events(story)[-2:] == ["prepare_call_summary", "send_summary_email"]
    (missed,) = [e for e in story["timeline"] if e["event"] == "missed"]
    assert missed["detail"] == "caller hung up before connect" and missed["status"] == "warning"
    assert story["durations"]["ringSeconds"] == 2.0


def test_transferred_story() -> None:
    story = build_call_story(transferred_status())
    assert story["outcome"] == TRANSFERRED
    names = events(story)
    assert names.index("transfer_call") < names.index("CallTransferAccepted") < names.index("CallDisconnected")
    (accepted,) = [e for e in story["timeline"] if e["event"] == "CallTransferAccepted"]
    assert "transfer" in accepted["meaning"].lower() and "7015" in accepted["detail"]
    (action,) = [e for e in story["timeline"] if e["event"] == "transfer_call"]
    assert action["durationSeconds"] == 0.1 and "requested" in action["detail"]


def test_failed_actions_and_activities_are_errors() -> None:
    status = load("happy_path")
    status["historyEvents"] += [
        raised("PlayFailed", "2026-11-25T22:57:55Z", result={"code": 400, "subCode": 8535, "message": "bad file"}),
        {"EventType": "TaskFailed", "Timestamp": "2026-11-25T22:57:56Z", "FunctionName": "hang_up_call",
         "Reason": "connection refused"},
        raised("SomethingNew", "2026-11-25T22:57:57Z"),
    ]
    story = build_call_story(status)
    by_event = {entry["event"]: entry for entry in story["timeline"]}
    assert by_event["PlayFailed"]["status"] == "error" and "8535" in by_event["PlayFailed"]["detail"]
    assert by_event["hang_up_call"]["status"] == "error" and by_event["hang_up_call"]["detail"] == "connection refused"
    assert by_event["SomethingNew"]["meaning"] == "ACS reported SomethingNew."


def test_phone_numbers_in_payload_texts_are_masked() -> None:
    status = load("happy_path")
    status["historyEvents"].append(raised("CallDisconnected", "2026-11-25T22:58:02Z",
                                          result={"code": 500, "message": "peer +14255550100 left"}))
    status["input"] = json.dumps({**json.loads(status["input"]), "caller": "+14255550100"})
    text = json.dumps(build_call_story(status))
    assert "4255550100" not in text and "+14255550100" not in text


def test_running_call_has_no_total_duration_yet() -> None:
    status = load("happy_path")
    status["runtimeStatus"] = "Running"
    status["output"] = None
    status["customStatus"] = {**status["customStatus"], "stage": "connected", "outcome": None}
    status["historyEvents"] = [e for e in status["historyEvents"]
                               if e["EventType"] in ("ExecutionStarted", "EventRaised")
                               and e.get("Name") in (None, "CallAnswered", "CallConnected")]
    story = build_call_story(status)
    assert story["outcome"] is None and story["endedAt"] is None
    assert story["durations"]["totalSeconds"] is None and story["email"] is None
    assert events(story) == ["ringing", "CallAnswered", "CallConnected"]


def test_list_entry() -> None:
    status = copy.deepcopy(load("missed_call"))
    status.pop("historyEvents")
    row = list_entry(status)
    assert row["outcome"] == "missed" and row["instanceId"].startswith("call-") and row["caller"].endswith("**00")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=20)


@settings(deadline=None, max_examples=150)
@given(st.dictionaries(st.sampled_from(["instanceId", "input", "output", "customStatus", "historyEvents",
                                        "runtimeStatus"]), json_values),
       st.lists(st.dictionaries(st.sampled_from(["EventType", "Name", "Input", "Result", "Timestamp", "FunctionName",
                                                 "ScheduledTime", "Reason"]),
                                st.sampled_from(["EventRaised", "TaskCompleted", "TaskFailed", "ExecutionStarted",
                                                 "2026-01-01T00:00:00Z", '{"time": 5}', "[1]"]) | json_values),
                max_size=8))
def test_any_status_gives_a_story_and_never_raises(status: dict[str, Any], history: list[Any]) -> None:
    status["historyEvents"] = history
    story = build_call_story(status)
    json.dumps(story)
    assert isinstance(story["timeline"], list)


def test_recorded_transfer_tells_each_action_and_its_result() -> None:
    # Recorded from the local stack running the call-control flow (menu "0: transfer").
    story = build_call_story(load("transferred"))
    assert story["outcome"] == TRANSFERRED
    names = events(story)
    assert names.index("RecognizeCompleted") < names.index("menu_choice") < names.index("CallTransferAccepted")
    actions = [entry["detail"] for entry in story["timeline"] if entry["event"] == "run_call_action"]
    assert actions == ["action recognize_dtmf, status accepted", "action transfer, status accepted"]
    (recognized,) = [entry for entry in story["timeline"] if entry["event"] == "RecognizeCompleted"]
    assert "dtmfTones 0" in recognized["detail"]
    (accepted,) = [entry for entry in story["timeline"] if entry["event"] == "CallTransferAccepted"]
    assert "transferTarget 4:+1 425 *** **23" in accepted["detail"]
    assert all(entry["status"] != "error" for entry in story["timeline"])
    assert "4255550123" not in json.dumps(story)
