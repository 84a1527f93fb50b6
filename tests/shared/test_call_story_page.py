from __future__ import annotations

import json
from pathlib import Path

from shared.call_story import build_call_story
from shared.call_story_page import render_call_story_page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "call_story"


def story() -> dict[str, object]:
    return build_call_story(json.loads((FIXTURES / "happy_path_status.json").read_text()))


def test_every_timeline_entry_is_on_the_page() -> None:
    told = story()
    page = render_call_story_page(told)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    for entry in told["timeline"]:
        assert entry["event"] in page and entry["meaning"].split(":")[0] in page
    assert told["transcriptBlob"] in page and told["email"]["operationId"] in page


def test_values_are_escaped() -> None:
    told = story()
    told["outcome"] = "<script>alert(1)</script>"
    told["caller"] = '"><img src=x onerror=alert(1)>'
    told["timeline"][0]["event"] = "</td><script>x</script>"
    told["timeline"][1]["detail"] = "<b>bold</b>"
    page = render_call_story_page(told)
    assert "<script" not in page and "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&quot;&gt;&lt;img" in page


def test_a_story_without_times_or_timeline_still_renders() -> None:
    page = render_call_story_page({"instanceId": "call-1", "timeline": "junk", "durations": None})
    assert "call-1" in page and "in progress" in page
