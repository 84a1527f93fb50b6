from __future__ import annotations

import json
from pathlib import Path

from shared.call_story import build_call_story, list_entry
from tools.call_story.text import render_list, render_story

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "call_story"


def status(name: str) -> dict[str, object]:
    return json.loads((FIXTURES / f"{name}_status.json").read_text())


def test_story_text_has_the_outcome_the_offsets_and_each_meaning() -> None:
    text = render_story(build_call_story(status("missed_call")))
    lines = text.splitlines()
    assert lines[0].startswith("Call call-b868dd33bdc0c9fe981d6f0f0efd557a: missed")
    assert any("+   2.00 s" in line and "CallDisconnected" in line for line in lines)
    assert any(" ? missed " in line for line in lines)  # a warning is marked
    assert "The caller hung up before the call connected." in text


def test_control_characters_cannot_break_lines() -> None:
    told = build_call_story(status("happy_path"))
    told["endReason"] = "line one\nFAKE LINE"
    assert "\nFAKE LINE" not in render_story(told)


def test_list_text() -> None:
    row = list_entry(status("happy_path"))
    text = render_list([row])
    assert row["instanceId"] in text and "completed" in text
