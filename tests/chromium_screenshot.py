"""Screenshots with Debian's headless `chromium`, for tests of pages (see tools/ensure_chromium.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.png_pixels import Image, read_png

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")

# Absent chromium skips only outside CI; in CI (CI set) the tests run and fail loudly without it.
requires_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (run tools/ensure_chromium.sh); these tests always run when CI is set")


def screenshot(url: str, work: Path, name: str, size: tuple[int, int] = (1000, 760)) -> Image:
    """A screenshot of `url` by a fresh headless chromium (its own profile), kept in CALL_STORY_SCREENSHOT_DIR
    when that is set."""
    assert CHROMIUM is not None, "chromium is required in CI: run tools/ensure_chromium.sh"
    png = work / f"{name}.png"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={work / f'profile-{name}'}",
               f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", url]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert png.exists(), completed.stderr[-2000:]
    keep = os.environ.get("CALL_STORY_SCREENSHOT_DIR")
    if keep:
        shutil.copy(png, Path(keep) / f"call_story_{name}.png")
    return read_png(png.read_bytes())
