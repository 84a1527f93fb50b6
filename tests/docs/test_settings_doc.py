"""docs/settings.md is the one table of settings: every variable a settings reader accepts has a row, and
every row names a variable some reader accepts."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The settings readers: modules that turn an environment mapping into validated settings.
READERS = [*sorted((ROOT / "shared").glob("*settings*.py")), ROOT / "media_host" / "config.py",
           ROOT / "media_host" / "__main__.py"]
ENV_NAME = re.compile(r"(?:[A-Z][A-Z0-9]*_)+[A-Z0-9]+|AzureWebJobsStorage(?:__[A-Za-z]+)?")
ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)


def _exported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            names.update(c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant))
    return names


def names_the_readers_accept() -> set[str]:
    found: set[str] = set()
    for path in READERS:
        tree = ast.parse(path.read_text())
        exported = _exported_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.fullmatch(node.value):
                if node.value not in exported:
                    found.add(node.value)
    return found


def names_in_the_doc() -> set[str]:
    return set(ROW.findall((ROOT / "docs" / "settings.md").read_text()))


def test_every_setting_is_documented() -> None:
    missing = names_the_readers_accept() - names_in_the_doc()
    assert not missing, f"settings read but not in docs/settings.md: {sorted(missing)}"


def test_every_documented_setting_is_read() -> None:
    unknown = names_in_the_doc() - names_the_readers_accept()
    assert not unknown, f"docs/settings.md rows no reader accepts: {sorted(unknown)}"


def test_the_scan_sees_the_readers() -> None:
    # Guards the scan itself: a broken pattern would pass both tests above with two empty sets.
    accepted = names_the_readers_accept()
    assert {"ACS_ENDPOINT", "AzureWebJobsStorage__accountName", "REALTIME_ENDPOINT", "CALL_TRANSCRIPTION"} <= accepted
    assert len(names_in_the_doc()) >= 40
