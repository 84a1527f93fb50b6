from __future__ import annotations

import io
import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from calls.function_logging import CallContextFilter, JsonLogFormatter, call_log_context
from shared.pii import PhoneNumberMaskingFilter


def logger_to(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.addFilter(CallContextFilter())
    handler.addFilter(PhoneNumberMaskingFilter())
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger(f"test.json_logs.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_records_carry_call_and_trace_ids_and_mask_numbers() -> None:
    stream = io.StringIO()
    log = logger_to(stream)
    tracer = TracerProvider().get_tracer("t")  # a recording span, without touching the global provider
    with tracer.start_as_current_span("s") as span, call_log_context(instanceId="call-1", correlationId="corr-1"):
        log.info("answered %s", "+14255550100", extra={"callConnectionId": "conn-1"})
    log.info("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["instanceId"] == "call-1" and inside["correlationId"] == "corr-1"
    assert inside["callConnectionId"] == "conn-1" and inside["level"] == "INFO"
    assert inside["traceId"] == f"{span.get_span_context().trace_id:032x}"
    assert "4255550100" not in inside["message"] and inside["message"].startswith("answered +1 425")
    assert "instanceId" not in outside and "traceId" not in outside


def test_exceptions_are_one_json_line() -> None:
    stream = io.StringIO()
    log = logger_to(stream)
    try:
        raise ValueError("caller +14255550100 unreachable")
    except ValueError:
        log.exception("failed")
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert "ValueError" in record["exception"] and "4255550100" not in record["exception"]
