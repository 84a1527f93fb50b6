"""Phone numbers masked in every log record of the process, whichever handler ends up writing it.

A filter on the root logger does not see records that propagate from child loggers, and handlers are added
later by hosts (the Functions worker, OpenTelemetry exporters, pytest). Masking in the record factory covers
them all: each record is masked once, when it is created.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.pii import PhoneNumberMaskingFilter

_MASK = PhoneNumberMaskingFilter()


class _MaskingRecordFactory:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        _MASK.filter(record)
        return record


def install_phone_number_masking() -> None:
    """Idempotent: mask every record created from now on, in every logger of this process."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(factory))
    root = logging.getLogger()
    if not any(isinstance(f, PhoneNumberMaskingFilter) for f in root.filters):
        root.addFilter(PhoneNumberMaskingFilter())  # records logged on the root logger itself, belt and braces
