"""Structured JSON log lines on stderr, one object per line, carrying the call's ids when known.

Records may carry `instanceId`, `correlationId` and other fields through `extra=`; they are copied into
the JSON object. Raw participant ids (phone numbers) are never passed to the logger by this package, and
the shared masking filter masks any phone-number-like text that reaches the handler anyway.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

from shared.json_log_format import JsonLogFormatter
from shared.pii import PhoneNumberMaskingFilter


class CallLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Adds the call's ids to every record, keeping the record's own `extra` fields too."""

    def process(self, msg: object, kwargs: MutableMapping[str, Any]) -> tuple[object, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def configure_json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(PhoneNumberMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # websockets logs every failed handshake (401s from scanners) at INFO; keep warnings only.
    logging.getLogger("websockets").setLevel(logging.WARNING)
