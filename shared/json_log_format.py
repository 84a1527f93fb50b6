"""One JSON object per log line, for both processes: time, level, logger, message, and every `extra`
field (call ids, trace ids). Phone numbers are masked by `PhoneNumberMaskingFilter` before a record is
formatted; an exception's text, formatted here, is masked here too."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from shared.pii import mask_phone_numbers_in_text

# Attributes every LogRecord has: anything else on a record came through `extra=` or a filter.
STANDARD_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


def record_extras(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in vars(record).items()
            if key not in STANDARD_RECORD_ATTRIBUTES and not key.startswith("_")}


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_extras(record).items():
            entry[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_text:
            entry["exception"] = record.exc_text  # already masked by PhoneNumberMaskingFilter
        elif record.exc_info:
            entry["exception"] = mask_phone_numbers_in_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
