"""infra/scripts/parse_bicep.py: a file pycep cannot parse fails `make infra-check` instead of going unscanned."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pycep", reason="pycep-parser==0.7.1 (dev dependency) is not installed")

from infra.scripts.parse_bicep import unparsable  # noqa: E402 - needs pycep


def test_reports_only_the_files_that_do_not_parse(tmp_path: Path) -> None:
    (tmp_path / "good.bicep").write_text("param location string\noutput where string = location\n")
    nested = tmp_path / "modules"
    nested.mkdir()
    (nested / "bad.bicep").write_text("resource broken 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n")
    failures = unparsable(tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path, _ in failures] == ["modules/bad.bicep"]
    assert failures[0][1]


def test_the_projects_bicep_all_parse() -> None:
    assert unparsable(Path(__file__).resolve().parents[2] / "infra") == []
