"""What import-linter cannot say about shared/ (pyproject.toml, [tool.importlinter]): stdlib submodules."""

from __future__ import annotations

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
FORBIDDEN = {"urllib.request", "urllib.error", "http.client", "os.path"}


def test_shared_imports_no_io_submodule() -> None:
    found = []
    for path in sorted(SHARED.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}: {name}" for name in names if name in FORBIDDEN]
    assert found == []
    assert len(list(SHARED.glob("*.py"))) > 20  # the scan looks where shared/ is
