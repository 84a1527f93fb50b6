"""Each voice turn on the call's timeline: media.json's `turns` compacted into the media report (bounded, checked
at each hop) and told by the story and its page at the turns' own times."""

from __future__ import annotations

import json
from typing import Any

from calls.call_orchestration.activities import summary_input
from shared.call_story import build_call_story
from shared.call_story_page import render_call_story_page
from shared.media_report import compact_media_report
from shared.turn_timeline import MAX_BARGE_INS, MAX_DEAD_AIR, MAX_TURNS, TURN_TIMELINE, story_entries
from shared.voice_turns import TurnTracker
from tests.shared.test_call_story import load, raised

STARTED = "2026-11-25T22:57:53.700Z"


def media_json(turns: int = 2, barge_ins: int = 1, dead_air: int = 1) -> dict[str, Any]:
    """A media host report: the figures a TurnTracker measured on a scripted call, as media.json carries them."""
    tracker = TurnTracker(0.0, 1.0)
    at = 0.0
    for _ in range(turns):
        tracker.caller_started(at + 0.1)
        tracker.caller_stopped(at + 0.5)
        tracker.agent_frame(at + 0.9)  # 400 ms turn
        at += 1.0
    for _ in range(barge_ins):
        tracker.agent_frame(at)
        tracker.caller_started(at + 0.05)
        tracker.stop_audio(at + 0.06)
        tracker.caller_stopped(at + 0.5)
        tracker.agent_frame(at + 0.8)
        at += 1.0
    for _ in range(dead_air):
        tracker.caller_started(at)
        tracker.caller_stopped(at + 0.2)
        tracker.agent_frame(at + 2.2)  # 2 s of silence before the answer
        at += 3.0
    tracker.finish(at)
    return {"framesReceived": 100, "closeCode": 1000, "startedAt": STARTED, "endedAt": "2026-11-25T22:58:01.6Z",
            "turns": tracker.summary()}


def with_report(report: dict[str, Any]) -> dict[str, Any]:
    status = load("happy_path")
    history = status["historyEvents"]
    at = next(i for i, e in enumerate(history) if e.get("Name") == "MediaStreamEnded")
    history[at] = raised("MediaStreamEnded", "2026-11-25T22:58:01.637Z", **report)
    return status


def test_the_report_carries_each_turn_compactly_and_survives_a_second_compaction() -> None:
    report = compact_media_report(media_json())
    timeline = report[TURN_TIMELINE]
    assert timeline["startedAt"] == STARTED and timeline["omitted"] == 0
    assert [row[:2] for row in timeline["turns"]] == [[500, 400.0], [1500, 400.0], [2500, 300.0], [3200, 2000.0]]
    assert timeline["bargeIns"] == [[2050, 10.0, 10.0]]
    assert timeline["deadAir"] == [[3200, 2000.0]]
    assert report["turns"] == 4 and report["turnLatencyMaxMs"] == 2000.0  # the flat figures stay
    assert compact_media_report(report) == report  # the orchestration compacts what the function raised
    assert len(json.dumps(timeline)) < 600


def test_only_the_first_turns_are_carried_and_the_rest_is_counted() -> None:
    report = compact_media_report(media_json(turns=45, barge_ins=15, dead_air=12))
    timeline = report[TURN_TIMELINE]
    assert (len(timeline["turns"]), len(timeline["bargeIns"]), len(timeline["deadAir"])) == (
        MAX_TURNS, MAX_BARGE_INS, MAX_DEAD_AIR)
    # 72 turns (45 + 15 after barge-ins + 12 after silences), 15 barge-ins, 12 silences in all.
    assert timeline["omitted"] == (72 - MAX_TURNS) + (15 - MAX_BARGE_INS) + (12 - MAX_DEAD_AIR)
    assert len(json.dumps(timeline)) < 2000
    entries = story_entries(report)
    assert entries[-1]["event"] == "turns_omitted" and str(timeline["omitted"]) in entries[-1]["meaning"]


def test_hostile_or_broken_timelines_are_dropped_or_cleaned() -> None:
    assert TURN_TIMELINE not in compact_media_report({"turns": media_json()["turns"]})  # no start: no place
    assert TURN_TIMELINE not in compact_media_report({**media_json(), "startedAt": "yesterday"})
    assert TURN_TIMELINE not in compact_media_report({"startedAt": STARTED, "turns": {"entries": "x"}})
    hostile = {TURN_TIMELINE: {"startedAt": STARTED, "omitted": True, "deadAir": "<script>",
                               "turns": [[1, "<b>", float("nan"), -5], [None, 1, 2, 3], [1, 2], {"atMs": 1},
                                         *[[n, 1, 2, 3] for n in range(100)]],
                               "bargeIns": [[10**15, 1, 1]]}}
    cleaned = compact_media_report(hostile)[TURN_TIMELINE]
    assert cleaned["turns"][0] == [1, None, None, None] and len(cleaned["turns"]) == MAX_TURNS
    assert cleaned["bargeIns"] == [] and cleaned["deadAir"] == [] and cleaned["omitted"] == 0


def test_the_story_shows_each_turn_barge_in_and_dead_air_at_its_time() -> None:
    story = build_call_story(with_report(compact_media_report(media_json())))
    voice = [entry for entry in story["timeline"] if entry["event"] in ("turn", "barge_in", "dead_air")]
    assert [(entry["event"], entry["at"]) for entry in voice] == [
        ("turn", "2026-11-25T22:57:54.200Z"), ("turn", "2026-11-25T22:57:55.200Z"),
        ("barge_in", "2026-11-25T22:57:55.750Z"), ("turn", "2026-11-25T22:57:56.200Z"),
        ("turn", "2026-11-25T22:57:56.900Z"), ("dead_air", "2026-11-25T22:57:56.900Z")]
    assert [entry.get("latencyMs") for entry in voice if entry["event"] == "turn"] == [400.0, 400.0, 300.0, 2000.0]
    assert "StopAudio sent after 10 ms" in voice[2]["detail"] and voice[5]["status"] == "warning"
    events = [entry["event"] for entry in story["timeline"]]
    # Between the connect and the stream's end; the summary and the email still close the story.
    assert events.index("CallConnected") < events.index("turn") < events.index("MediaStreamEnded")
    assert events[-2:] == ["prepare_call_summary", "send_summary_email"]
    assert story["media"]["turns"] == 4 and story["media"]["turnLatencyP50Ms"] == 400.0
    assert story["media"]["deadAirCount"] == 1 and story["media"]["bargeIns"] == 1
    page = render_call_story_page(story)
    assert page.count(">turn</td>") == 4 and ">dead_air</td>" in page and "model to ACS" in page


def test_the_summary_input_leaves_the_timeline_to_the_story() -> None:
    report = compact_media_report(media_json())
    fields = {"instance_id": "call-1", "outcome": "completed", "media": report, "timeline": []}
    call = summary_input(fields)
    assert call.media is not None and TURN_TIMELINE not in call.media and call.media["turns"] == 4
