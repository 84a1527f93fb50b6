"""Property: the Event Grid and callback parsers and the JSON body reader accept or raise BadRequest (a 4xx),
never anything else, whatever the input."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.callback_events import parse_callback_delivery
from shared.event_grid import parse_event_grid_delivery
from shared.json_body import BadRequest, load_json_body
from tests.fuzz.strategies import callback_bodies, event_grid_bodies

QUICK = settings(max_examples=300, deadline=None)


@QUICK
@given(event_grid_bodies())
def test_event_grid_parser_only_raises_bad_request(body: object) -> None:
    try:
        events = parse_event_grid_delivery(body)
    except BadRequest as error:
        assert 400 <= error.status < 500
        json.dumps(error.to_json())
    else:
        assert isinstance(events, list)


@QUICK
@given(callback_bodies())
def test_callback_parser_only_raises_bad_request(body: object) -> None:
    try:
        events = parse_callback_delivery(body)
    except BadRequest as error:
        assert 400 <= error.status < 500
    else:
        for event in events:
            json.dumps(event.to_payload())  # what is raised on Durable must serialise


@QUICK
@given(st.binary(max_size=2048), st.sampled_from([None, "application/json", "text/plain", "application/json; "
                                                   "charset=latin-1", "application/cloudevents-batch+json", ""]))
def test_body_reader_only_raises_bad_request(raw: bytes, content_type: str | None) -> None:
    try:
        load_json_body(raw, content_type)
    except BadRequest as error:
        assert error.status in (400, 413, 415)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=50, max_value=100_000))
def test_deep_nesting_is_refused_not_a_crash(depth: int) -> None:
    try:
        load_json_body(b"[" * depth + b"]" * depth, "application/json")
    except BadRequest as error:
        assert error.status == 400
