"""adapters.pii_logging: every record created after installation is masked, whichever logger or handler."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from adapters.pii_logging import install_phone_number_masking


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[Lines]:
    factory = logging.getLogRecordFactory()
    logger = logging.getLogger("tests.pii_logging.child.deep")
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(factory)


def test_child_logger_records_are_masked_with_args_and_exceptions(lines: Lines) -> None:
    install_phone_number_masking()
    log = logging.getLogger("tests.pii_logging.child.deep")
    log.info("call from %s", "+14255550100")
    try:
        raise ValueError("bad number 425-555-0100")
    except ValueError:
        log.exception("failed for %s", "4:+14255550100")
    text = "\n".join(lines.lines)
    assert "+1 425 *** **00" in text
    assert "4255550100" not in text.replace("-", "")
    assert "ValueError" in text  # the traceback is kept, masked


def test_installing_twice_wraps_once(lines: Lines) -> None:
    install_phone_number_masking()
    first = logging.getLogRecordFactory()
    install_phone_number_masking()
    assert logging.getLogRecordFactory() is first
