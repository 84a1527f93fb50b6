"""Test helper: the project's Bicep files parsed with pycep, with references to variables and parameter
defaults followed, so tests can check what a deployment would get.

pycep renders an identifier and a string literal alike (both as a Python str), so `resolve` treats a str as a
reference only when it names a variable or parameter of the same file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# pycep-parser==0.7.1 is a dev dependency of the main venv; without it the Bicep tests are reported as skipped.
BicepParser = pytest.importorskip("pycep", reason="pycep-parser==0.7.1 (dev dependency) is not installed").BicepParser

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"


def bicep_files() -> list[Path]:
    """Every .bicep file under infra/, sorted."""
    return sorted(INFRA_DIR.rglob("*.bicep"))


@functools.cache
def _parse(path: Path) -> dict[str, Any]:
    return BicepParser(add_line_numbers=True).parse(file_path=path)


@dataclass(frozen=True)
class Resource:
    """One `resource` declaration: its symbolic name, type, condition (if any) and body."""

    symbol: str
    type: str
    condition: Any
    body: dict[str, Any]
    start_line: int


@dataclass(frozen=True)
class Template:
    path: Path
    tree: dict[str, Any]

    @classmethod
    def load(cls, relative: str) -> Template:
        path = INFRA_DIR / relative
        return cls(path, _parse(path))

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def section(self, name: str) -> dict[str, Any]:
        return self.tree.get(name) or {}

    def parameter_default(self, name: str) -> Any:
        return self.section("parameters")[name].get("default")

    def parameter_decorator(self, name: str, kind: str) -> Any:
        for decorator in self.section("parameters")[name]["decorators"]:
            if decorator["type"] == kind:
                return decorator["argument"]
        return None

    def resolve(self, value: Any) -> Any:
        """Follow a variable or parameter reference (to its default); anything else is returned as is."""
        seen: set[str] = set()
        while isinstance(value, str) and value not in seen:
            seen.add(value)
            if value in self.section("variables"):
                value = self.section("variables")[value]["value"]
            elif value in self.section("parameters"):
                value = self.section("parameters")[value].get("default")
            else:
                break
        return value

    def resources(self, resource_type: str | None = None) -> list[Resource]:
        found = []
        for symbol, declaration in self.section("resources").items():
            if resource_type is not None and declaration["type"] != resource_type:
                continue
            config = declaration["config"]
            condition = None
            if isinstance(config, dict) and "condition" in config and "config" in config:
                condition, config = config["condition"], config["config"]
            found.append(Resource(symbol, declaration["type"], condition, config, declaration["__start_line__"]))
        return found

    def resource(self, symbol: str) -> Resource:
        (match,) = [r for r in self.resources() if r.symbol == symbol]
        return match

    def module_params(self, symbol: str) -> dict[str, Any]:
        config = self.section("modules")[symbol]["config"]
        if "condition" in config and "config" in config:
            config = config["config"]
        return config["params"]

    def module_condition(self, symbol: str) -> Any:
        config = self.section("modules")[symbol]["config"]
        return config.get("condition") if "config" in config else None

    def module_path(self, symbol: str) -> str:
        return self.section("modules")[symbol]["detail"]["path"]


def function_arguments(value: Any, function: str) -> list[Any]:
    """The arguments of a call to `function` (for example concat), in order; [] if `value` is no such call."""
    if isinstance(value, dict) and "function" in value and value["function"]["type"] == function:
        return list(value["function"]["parameters"].values())
    return []


def name_value_names(template: Template, value: Any) -> set[str]:
    """Names in a list of {name, value|secretRef} pairs, through variables and concat()."""
    value = template.resolve(value)
    arguments = function_arguments(value, "concat")
    if arguments:
        names: set[str] = set()
        for argument in arguments:
            names |= name_value_names(template, argument)
        return names
    if isinstance(value, list):
        return {item["name"] for item in value if isinstance(item, dict) and "name" in item}
    return set()
