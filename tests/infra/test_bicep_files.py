"""Every Bicep file parses, and main.bicep wires every module file that exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.bicep_template import INFRA_DIR, BicepParser, Template, bicep_files


def test_infra_has_main_and_modules() -> None:
    names = {path.relative_to(INFRA_DIR).as_posix() for path in bicep_files()}
    assert "main.bicep" in names
    assert len(names) > 5


@pytest.mark.parametrize("path", bicep_files(), ids=lambda path: path.relative_to(INFRA_DIR).as_posix())
def test_bicep_file_parses(path: Path) -> None:
    tree = BicepParser().parse(file_path=path)
    assert tree.get("resources") or tree.get("modules"), f"{path.name} declares nothing"


def test_every_module_file_is_used_and_every_reference_exists() -> None:
    main = Template.load("main.bicep")
    referenced = {main.module_path(symbol) for symbol in main.section("modules")}
    for reference in referenced:
        assert (INFRA_DIR / reference).is_file(), reference
    on_disk = {path.relative_to(INFRA_DIR).as_posix() for path in bicep_files()} - {"main.bicep"}
    assert on_disk == referenced


def test_main_is_an_azd_subscription_template() -> None:
    main = Template.load("main.bicep")
    assert main.tree["globals"]["scope"]["value"] == "subscription"
    for name in ("environmentName", "location", "principalId"):
        assert name in main.section("parameters")
