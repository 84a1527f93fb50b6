"""Structured JSON log lines for the function app, each carrying the call's ids and trace ids when known.

The ids live in context variables set by `calls.telemetry.call_span`, so every record logged while a call's
function or activity runs carries them without threading them through each log call. The handlers stay the
host's (the Functions worker sends each record's text to the host): only their format and filters change.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from opentelemetry import trace

from shared.json_log_format import JsonLogFormatter
from shared.pii import PhoneNumberMaskingFilter

_call_ids: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("call_log_ids",
                                                                               default=MappingProxyType({}))


@contextlib.contextmanager
def call_log_context(**ids: str | None) -> Iterator[None]:
    """Within the block, records carry these ids (added to any already set)."""
    token = _call_ids.set({**_call_ids.get(), **{key: value for key, value in ids.items() if value}})
    try:
        yield
    finally:
        _call_ids.reset(token)


class CallContextFilter(logging.Filter):
    """Copies the call's ids and the current trace and span ids onto each record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _call_ids.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid and not hasattr(record, "traceId"):
            record.traceId = f"{span_context.trace_id:032x}"
            record.spanId = f"{span_context.span_id:016x}"
        return True


def configure_function_logging() -> None:
    """JSON format, call ids and phone-number masking on the root logger's handlers (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, CallContextFilter) for f in handler.filters):
            handler.addFilter(CallContextFilter())
            handler.addFilter(PhoneNumberMaskingFilter())
        handler.setFormatter(JsonLogFormatter())
