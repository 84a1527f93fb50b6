"""Hypothesis strategies for untrusted input: arbitrary JSON, and the bundled ACS/Event Grid fixtures with
fields removed, retyped or replaced, which reach deeper into the parsers than random JSON does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)), max_leaves=25)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, seed: Any) -> Any:
    """`seed` with up to three of its fields deleted or replaced by arbitrary JSON."""
    value = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(value)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return value


def event_grid_bodies() -> st.SearchStrategy[Any]:
    seeds = [fixture(n) for n in ("incoming_call_eventgrid.json", "incoming_call_pstn_eventgrid.json",
                                  "incoming_call_cloudevents.json", "subscription_validation_eventgrid.json")]
    return st.one_of(json_values, *(mutated(seed) for seed in seeds))


def callback_bodies() -> st.SearchStrategy[Any]:
    seeds = [fixture(n) for n in ("callbacks_connected.json", "callbacks_disconnected.json",
                                  "callbacks_answer_failed.json", "callbacks_recognize_completed.json")]
    return st.one_of(json_values, *(mutated(seed) for seed in seeds))
