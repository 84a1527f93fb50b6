"""shared.call_inbox: the one inbox event name, and how its payloads are read back from Durable."""

from __future__ import annotations

import json

import pytest

from shared.call_inbox import INBOX_EVENT, KIND, MAX_KIND_CHARS, decode_json_object, inbox_payload, read_inbox


def test_the_inbox_contract_is_pinned() -> None:
    # The raisers (events function, control API, media host) and the orchestration agree on these.
    assert (INBOX_EVENT, KIND, MAX_KIND_CHARS) == ("CallInbox", "kind", 80)
    assert inbox_payload("PlayCompleted", {"id": "e1", "kind": "spoofed"}) == {"id": "e1", "kind": "PlayCompleted"}


@pytest.mark.parametrize(("value", "decoded"), [
    ({"a": 1}, {"a": 1}),
    ('{"a": 1}', {"a": 1}),
    (json.dumps(json.dumps({"a": 1})), {"a": 1}),  # twice encoded (durable-python #295)
    (json.dumps(json.dumps(json.dumps({"a": 1}))), {}),  # three times is not something Durable does
    ("not json", {}),
    ('"just text"', {}),
    ("[1, 2]", {}),
    (None, {}),
    (7, {}),
    ([("a", 1)], {}),
])
def test_decode_json_object_known_answers(value: object, decoded: dict[str, object]) -> None:
    assert decode_json_object(value) == decoded


@pytest.mark.parametrize(("value", "kind"), [
    (json.dumps({"kind": "CallConnected", "x": 1}), "CallConnected"),
    ({"kind": "K" * 100}, "K" * 80),
    ({"kind": 5}, ""),
    ({}, ""),
    ("garbage", ""),
])
def test_read_inbox_gives_the_kind_and_the_whole_payload(value: object, kind: str) -> None:
    read_kind, payload = read_inbox(value)
    assert read_kind == kind
    assert payload == decode_json_object(value)
    if kind == "CallConnected":
        assert payload == {"kind": "CallConnected", "x": 1}
