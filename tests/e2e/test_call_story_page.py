"""The call-story page in headless Chromium (Debian's `chromium`), rendered from the stories of recorded calls
(the page served by the function app is screenshotted end to end in tests/e2e/test_observability.py): the
screenshot must show the outcome badge in the outcome's colour and the timeline's markers, and hostile text
must stay text.

Skipped only when chromium is absent outside CI; with `CI` set it must run (tools/ensure_chromium.sh installs it).
"""

from __future__ import annotations

import json
from pathlib import Path

from shared.call_story import build_call_story
from shared.call_story_page import render_call_story_page
from tests.chromium_screenshot import requires_chromium, screenshot
from tests.png_pixels import Image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "call_story"
GREEN, AMBER, BLUE, RED = (0x1A, 0x7F, 0x37), (0x9A, 0x67, 0x00), (0x09, 0x69, 0xDA), (0xCF, 0x22, 0x2E)
PURPLE, WHITE = (0x82, 0x50, 0xDF), (0xFF, 0xFF, 0xFF)

pytestmark = requires_chromium


def story_of(name: str) -> dict[str, object]:
    return build_call_story(json.loads((FIXTURES / f"{name}_status.json").read_text()))


def shot(story: dict[str, object], work: Path, name: str) -> Image:
    page = work / f"{name}.html"
    page.write_text(render_call_story_page(story), encoding="utf-8")
    return screenshot(page.as_uri(), work, name)


def test_completed_and_missed_calls_render_their_outcome_and_timeline(tmp_path: Path) -> None:
    completed = shot(story_of("happy_path"), tmp_path, "completed")
    missed = shot(story_of("missed_call"), tmp_path, "missed")
    assert (completed.width, completed.height) == (1000, 760)
    completed_colours, missed_colours = completed.colour_counts(), missed.colour_counts()
    pixels = completed.width * completed.height
    # Something is drawn: not a blank page, and mostly the white background.
    assert 0.5 * pixels < completed_colours[WHITE] < 0.98 * pixels
    # The outcome badge: a solid block in the outcome's colour (the missed call's amber is absent from the
    # completed call's page, which has no warning).
    assert completed_colours[GREEN] > 800
    assert missed_colours[AMBER] > 800 and completed_colours[AMBER] < 50
    # The timeline's informational events are blue markers on both pages.
    assert completed_colours[BLUE] > 100 and missed_colours[BLUE] > 50
    assert completed_colours[RED] == 0


def test_a_transferred_call_shows_its_badge(tmp_path: Path) -> None:
    transferred = shot(story_of("transferred"), tmp_path, "transferred").colour_counts()
    assert transferred[PURPLE] > 800 and transferred[GREEN] > 0 and transferred[RED] == 0


def test_hostile_text_is_shown_as_text_not_markup(tmp_path: Path) -> None:
    story = story_of("happy_path")
    story["outcome"] = "<b style='background:#cf222e;padding:200px'>x</b>"
    story["timeline"][0]["meaning"] = "<img src=x onerror=alert(1)><div style='background:#cf222e;height:300px'>"
    image = shot(story, tmp_path, "hostile")
    # Had the markup been rendered, large red blocks would be on the page.
    assert image.colour_counts()[RED] < 50
