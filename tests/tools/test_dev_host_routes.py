"""Route templates as the Functions host matches them."""

from __future__ import annotations

import pytest

from tools.dev_host.routes import compile_route


def test_literal_and_parameter_segments() -> None:
    route = compile_route("callbacks/{instanceId}")
    assert route.match("callbacks/abc-1") == {"instanceId": "abc-1"}
    assert route.match("CALLBACKS/abc") == {"instanceId": "abc"}  # literals are case-insensitive
    assert route.match("callbacks") is None
    assert route.match("callbacks/a/b") is None
    assert route.match("events") is None


def test_optional_default_constraint_and_catch_all() -> None:
    assert compile_route("items/{id:int?}").match("items") == {}
    assert compile_route("items/{id:int?}").match("items/42") == {"id": "42"}
    assert compile_route("items/{id:int?}").match("items/x") is None
    assert compile_route("a/{x=5}").match("a") == {"x": "5"}
    assert compile_route("a/{x=5}").match("a/7") == {"x": "7"}
    assert compile_route("files/{*path}").match("files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert compile_route("files/{**path}").match("files") == {}
    assert compile_route("file.{ext}").match("file.wav") == {"ext": "wav"}
    assert compile_route("x/{flag:bool}").match("x/True") == {"flag": "True"}
    assert compile_route("x/{flag:bool}").match("x/yes") is None


def test_precedence_prefers_literals_over_parameters_and_catch_alls_last() -> None:
    routes = sorted([compile_route("{*all}"), compile_route("items/{id}"), compile_route("items/latest")],
                    key=lambda r: r.precedence)
    assert [r.template for r in routes] == ["items/latest", "items/{id}", "{*all}"]


@pytest.mark.parametrize("template", ["a//b", "{*rest}/tail", "a/{}"])
def test_invalid_templates_are_refused(template: str) -> None:
    with pytest.raises(ValueError):
        compile_route(template)
