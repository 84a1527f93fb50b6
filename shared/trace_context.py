"""W3C Trace Context `traceparent` values (pure): parse, validate, format, and carry them in URLs.

One call is one trace. The `traceparent` of the IncomingCall's span rides in the orchestration input, each
activity input, the callback URL and the media socket URL, so every process continues the same trace. Values
from outside (URLs, headers) are untrusted: anything that is not a valid version-00 traceparent is dropped,
and the receiver starts a fresh trace rather than failing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

TRACEPARENT = "traceparent"
# version 00: 2 hex, 32 hex trace id, 16 hex parent (span) id, 2 hex flags; lowercase only (W3C §3.2).
_TRACEPARENT_RE = re.compile(r"\A00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\Z")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
MAX_TRACEPARENT_CHARS = 55


@dataclass(frozen=True)
class TraceParent:
    trace_id: int
    span_id: int
    sampled: bool

    def to_header(self) -> str:
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{'01' if self.sampled else '00'}"


def parse_traceparent(value: object) -> TraceParent | None:
    """The traceparent in `value`, or None when it is absent or malformed (never raises)."""
    if not isinstance(value, str) or len(value) != MAX_TRACEPARENT_CHARS:
        return None
    match = _TRACEPARENT_RE.match(value)
    if match is None:
        return None
    trace_hex, span_hex, flags_hex = match.groups()
    if trace_hex == _ZERO_TRACE or span_hex == _ZERO_SPAN:
        return None
    return TraceParent(int(trace_hex, 16), int(span_hex, 16), bool(int(flags_hex, 16) & 0x01))


def traceparent_from_mapping(values: Mapping[str, object] | None) -> TraceParent | None:
    """The `traceparent` key of an orchestration/activity input or a header mapping, validated."""
    if not values:
        return None
    return parse_traceparent(values.get(TRACEPARENT))


def traceparent_from_url(url: str) -> TraceParent | None:
    """The `traceparent` query parameter of a URL or request path (the last one wins), validated."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return None
    values = parse_qs(query).get(TRACEPARENT)
    return parse_traceparent(values[-1]) if values else None


def with_traceparent(url: str, traceparent: str | None) -> str:
    """`url` with `traceparent` added to its query (unchanged when there is none to add)."""
    if parse_traceparent(traceparent) is None:
        return url
    parts = urlsplit(url)
    extra = urlencode({TRACEPARENT: traceparent})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
