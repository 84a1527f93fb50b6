"""Parse every .bicep file under infra/ with the pycep that checkov bundles; exit 1 if any fails.

checkov reports a file it cannot parse only as a "parsing error" in its summary and still exits 0, so that file
would go unscanned. `make infra-check` runs this first, in the checkov venv, so a parse failure fails the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pycep import BicepParser


def unparsable(root: Path) -> list[tuple[Path, str]]:
    """The .bicep files under `root` that pycep rejects, with the first line of its error."""
    parser = BicepParser()
    failures = []
    for path in sorted(root.rglob("*.bicep")):
        try:
            parser.parse(text=path.read_text(encoding="utf-8"))
        except Exception as error:  # noqa: BLE001 - lark raises many types; every one means "not scanned"
            failures.append((path, str(error).splitlines()[0] if str(error) else type(error).__name__))
    return failures


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    failures = unparsable(root)
    for path, message in failures:
        print(f"{path.relative_to(root.parent)}: {message}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
