"""Decoding of untrusted JSON request bodies into plain Python values, with one error type.

Everything that arrives from outside (Event Grid, ACS callbacks) goes through `load_json_body` first, so
that size, media type, encoding, JSON syntax and nesting depth are checked in one place and every failure
is a `BadRequest` that the HTTP layer turns into a 4xx JSON answer.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32

JSON_MEDIA_TYPES = frozenset({"application/json", "application/cloudevents+json", "application/cloudevents-batch+json"})

_DEFAULT_CODES = {413: "payload_too_large", 415: "unsupported_media_type"}

# A JSON string literal, or an unterminated one running to the end of the text. The possessive quantifiers
# never backtrack and the pattern matches at every quote it is tried at, so a substitution with it is one
# linear pass even on a quote-backslash pair repeated (which made a backtracking pattern quadratic).
_STRING_LITERAL = re.compile(r'"[^"\\]*+(?:\\.?[^"\\]*+)*+(?:"|\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_DEPTH_CHANGE = {"[": 1, "{": 1, "]": -1, "}": -1}
_DEPTH_CHUNK = 4096
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadRequest(ValueError):
    """One error type for malformed input; the HTTP layer turns it into a 4xx JSON body."""

    def __init__(self, message: str, *, path: str = "", status: int = 400, code: str | None = None) -> None:
        super().__init__(f"{message} (at {path})" if path else message)
        self.message = message
        self.path = path
        self.status = status
        self.code = code or _DEFAULT_CODES.get(status, "bad_request")

    def to_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message, "path": self.path}


def check_content_type(content_type: str | None) -> None:
    """Accept an absent content type or a JSON one (optionally with a UTF-8 charset); else 415."""
    if content_type is None or not content_type.strip():
        return
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() not in JSON_MEDIA_TYPES:
        raise BadRequest(f"content type {media_type.strip()[:100]!r} is not JSON", status=415)
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise BadRequest("only the UTF-8 charset is accepted", status=415)


def json_nesting_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects in `text` nest deeper than `limit`.

    Brackets are counted outside string literals before parsing, in one linear pass, so that pathological
    input such as "[" * 100000 is refused quickly instead of leaning on the json module's recursion.
    """
    brackets = _NOT_A_BRACKET.sub("", _STRING_LITERAL.sub("", text))
    depth = 0
    for start in range(0, len(brackets), _DEPTH_CHUNK):
        changes = map(_BRACKET_DEPTH_CHANGE.__getitem__, brackets[start : start + _DEPTH_CHUNK])
        levels = list(accumulate(changes, initial=depth))
        if max(levels) > limit:
            return True
        depth = levels[-1]
    return False


def _reject_constant(name: str) -> object:
    raise BadRequest(f"{name} is not valid JSON", code="invalid_json")


def load_json_body(raw: bytes, content_type: str | None) -> object:
    """Decode a request body into JSON values, or raise BadRequest (413, 415 or 400)."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"body is larger than {MAX_BODY_BYTES} bytes", status=413)
    check_content_type(content_type)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"body is not valid UTF-8 (byte {error.start})", code="invalid_encoding") from None
    if json_nesting_depth_exceeds(text, MAX_JSON_DEPTH):
        raise BadRequest(f"JSON nests deeper than {MAX_JSON_DEPTH} levels", code="too_deep")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except BadRequest:
        raise
    except (ValueError, RecursionError) as error:
        # ValueError covers JSONDecodeError and integers longer than Python's digit limit.
        message = error.msg if isinstance(error, json.JSONDecodeError) else "body is not valid JSON"
        where = f" at line {error.lineno} column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise BadRequest(f"invalid JSON: {message}{where}", code="invalid_json") from None
    if _ESCAPED_SURROGATE.search(text):
        _reject_lone_surrogates(value)
    return value


def _reject_lone_surrogates(value: object) -> None:
    """Refuse strings holding an unpaired "\\uD800"-style escape: such a string cannot be encoded as UTF-8
    later (logs, blobs, emails), which would turn bad input into a server error far from here."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise BadRequest("a string holds an unpaired UTF-16 surrogate escape", code="invalid_json")


# Typed access to decoded JSON, raising BadRequest with the JSON path of the offending value. `path` is
# the path of the containing object, e.g. "[0].data"; child paths are built with `child_path`.


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def require_object(value: object, path: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise BadRequest(f"expected an object, got {_type_name(value)}", path=path)
    return value


def require_str(container: dict[str, object], key: str, path: str, *, non_empty: bool = True) -> str:
    """A required string member; empty strings are refused unless `non_empty` is False."""
    if key not in container or container[key] is None:
        raise BadRequest(f"missing required string {key!r}", path=child_path(path, key))
    value = container[key]
    if not isinstance(value, str):
        raise BadRequest(f"expected a string, got {_type_name(value)}", path=child_path(path, key))
    if non_empty and not value:
        raise BadRequest("must not be empty", path=child_path(path, key))
    return value


def optional_str(container: dict[str, object], key: str, path: str) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"expected a string, got {_type_name(value)}", path=child_path(path, key))
    return value


def optional_int(container: dict[str, object], key: str, path: str) -> int | None:
    value = container.get(key)
    if value is None:
        return None
    # JSON numbers like 200.0 are integers in intent; booleans are not numbers.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"expected an integer, got {_type_name(value)}", path=child_path(path, key))
    return value


def optional_object(container: dict[str, object], key: str, path: str) -> dict[str, object] | None:
    value = container.get(key)
    if value is None:
        return None
    return require_object(value, child_path(path, key))


def optional_list(container: dict[str, object], key: str, path: str) -> list[object] | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise BadRequest(f"expected an array, got {_type_name(value)}", path=child_path(path, key))
    return value
