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


def test_module_wiring_matches_the_module_files() -> None:
    # No Bicep compiler runs here, so check what it would: passed params exist, required ones are passed,
    # and every <module>.outputs.<name> that main.bicep reads is declared by that module.
    import re

    main = Template.load("main.bicep")
    for symbol in main.section("modules"):
        module = Template.load(main.module_path(symbol))
        declared = module.section("parameters")
        passed = set(main.module_params(symbol))
        assert passed - set(declared) == set(), f"{symbol} passes unknown parameters"
        required = {name for name, p in declared.items() if p.get("default") is None}
        assert required - passed == set(), f"{symbol} misses required parameters"
    for symbol, output in re.findall(r"\b(\w+)\.outputs\.(\w+)", main.text):
        module = Template.load(main.module_path(symbol))
        assert output in module.section("outputs"), f"{symbol}.outputs.{output} is not declared"
