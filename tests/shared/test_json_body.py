from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.json_body import MAX_BODY_BYTES, MAX_JSON_DEPTH, BadRequest, json_nesting_depth_exceeds, load_json_body

# Not a performance test (that is bench/): a guard against super-linear scanning, whose 1 MiB worst case took
# minutes, with room for a busy CI machine.
LINEAR_TIME_GUARD_SECONDS = 20.0


def test_valid_json_is_decoded() -> None:
    assert load_json_body(b'[{"a": 1, "b": "\\u00e9"}]', "application/json") == [{"a": 1, "b": "é"}]


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/json",
        "Application/JSON; charset=utf-8",
        'application/json; charset="UTF-8"',
        "application/cloudevents+json; charset=utf-8",
        "application/cloudevents-batch+json",
    ],
)
def test_json_content_types_are_accepted(content_type: str | None) -> None:
    assert load_json_body(b"{}", content_type) == {}


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/json; charset=latin-1", "multipart/form-data"]
)
def test_other_content_types_are_415(content_type: str) -> None:
    with pytest.raises(BadRequest) as caught:
        load_json_body(b"{}", content_type)
    assert caught.value.status == 415
    assert caught.value.to_json()["error"] == "unsupported_media_type"


def test_too_large_body_is_413_before_anything_else() -> None:
    body = b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]"
    with pytest.raises(BadRequest) as caught:
        load_json_body(body, "text/plain")
    assert caught.value.status == 413


def test_body_at_the_limit_is_accepted() -> None:
    body = b'"' + b"a" * (MAX_BODY_BYTES - 2) + b'"'
    assert len(body) == MAX_BODY_BYTES
    assert load_json_body(body, None) == "a" * (MAX_BODY_BYTES - 2)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\xff\xfe[]", "invalid_encoding"),
        (b'{"a": "\xc3"}', "invalid_encoding"),
        (b"", "invalid_json"),
        (b"{", "invalid_json"),
        (b"[1,]", "invalid_json"),
        (b"NaN", "invalid_json"),
        (b'{"a": Infinity}', "invalid_json"),
        (b"[-Infinity]", "invalid_json"),
        (b"1" * 5000, "invalid_json"),  # beyond Python's int digit limit
    ],
)
def test_malformed_bodies_are_400(body: bytes, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        load_json_body(body, "application/json")
    assert caught.value.status == 400
    assert caught.value.to_json() == {"error": code, "message": caught.value.message, "path": ""}


def test_depth_at_limit_is_accepted_and_one_more_is_refused() -> None:
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json_body(ok.encode(), None) is not None
    too_deep = '{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(BadRequest) as caught:
        load_json_body(too_deep.encode(), None)
    assert caught.value.code == "too_deep"


def test_brackets_inside_strings_do_not_count_towards_depth() -> None:
    body = json.dumps(["[" * 1000, '{\\"[' * 100, {"k[": "]]]"}]).encode()
    assert load_json_body(body, None) == ["[" * 1000, '{\\"[' * 100, {"k[": "]]]"}]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a":' * 100_000,
        b"[" * (MAX_BODY_BYTES - 1),
        b"[" * 40 + b'"\\' * 400_000,  # unterminated string after the deep part
    ],
)
def test_deep_nesting_is_refused_fast_without_recursion(body: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(BadRequest) as caught:
        load_json_body(body, None)
    assert caught.value.code == "too_deep"
    assert time.perf_counter() - started < LINEAR_TIME_GUARD_SECONDS


@pytest.mark.parametrize(
    "body",
    [
        b'"\\' * (MAX_BODY_BYTES // 2),  # quote-backslash pairs: quadratic for a backtracking string regex
        b'"\\' * (MAX_BODY_BYTES // 2 - 1) + b"x\\",
        b'"' * MAX_BODY_BYTES,
        b'["' + b'\\"' * (MAX_BODY_BYTES // 2 - 2) + b'"]',
    ],
)
def test_pathological_strings_are_scanned_in_linear_time(body: bytes) -> None:
    started = time.perf_counter()
    try:
        load_json_body(body, None)
    except BadRequest as error:
        assert error.code == "invalid_json"
    assert time.perf_counter() - started < LINEAR_TIME_GUARD_SECONDS


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ('["\\"[[[[", 1]', False),
        ('["\\\\", [[1]]]', True),
        ('{"a": "}}}}", "b": [[]]}', True),
        ('"[[[[[[[', False),
        ("[[[", True),
        ("[[]]", False),
    ],
)
def test_depth_scan_understands_strings_and_escapes(text: str, deep: bool) -> None:
    assert json_nesting_depth_exceeds(text, 2) is deep


def test_worst_case_flat_body_is_scanned_quickly() -> None:
    body = b"[" + b"[]," * (MAX_BODY_BYTES // 3 - 1) + b"[]]"
    started = time.perf_counter()
    assert len(load_json_body(body, None)) == MAX_BODY_BYTES // 3  # type: ignore[arg-type]
    assert time.perf_counter() - started < LINEAR_TIME_GUARD_SECONDS


def test_bad_request_carries_path_and_status() -> None:
    error = BadRequest("missing", path="[0].data.from.rawId")
    assert error.status == 400
    assert error.to_json() == {"error": "bad_request", "message": "missing", "path": "[0].data.from.rawId"}
    assert "[0].data.from.rawId" in str(error)
    assert isinstance(error, ValueError)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_bad_request(raw: bytes) -> None:
    try:
        load_json_body(raw, "application/json")
    except BadRequest as error:
        assert error.status == 400


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{}",:\\ 0aeNI-', max_size=200))
def test_bracket_soup_raises_only_bad_request(text: str) -> None:
    try:
        load_json_body(text.encode(), None)
    except BadRequest:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_round_trip_of_valid_json(value: object) -> None:
    assert load_json_body(json.dumps(value).encode(), "application/json") == value


@pytest.mark.parametrize("body", [b'{"a": "\\ud800"}', b'["ok", {"k\\uDFFF": 1}]', b'"\\udc00\\ud800"'])
def test_unpaired_surrogate_escapes_are_refused(body: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        load_json_body(body, None)
    assert caught.value.code == "invalid_json"


def test_escaped_surrogate_pairs_are_fine() -> None:
    assert load_json_body(b'{"emoji": "\\ud83d\\ude00", "text": "\\\\ud800 is just text"}', None) == {
        "emoji": "\U0001f600",
        "text": "\\ud800 is just text",
    }


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_accepted_strings_always_encode_as_utf8(text: str) -> None:
    try:
        value = load_json_body(json.dumps(text).encode(), None)
    except BadRequest:
        return
    assert isinstance(value, str)
    value.encode("utf-8")
