"""The function app's telemetry: set up once per process, the call metrics, and one trace per call.

The IncomingCall's span starts the call's trace; its `traceparent` goes into the orchestration input, every
activity input, the callback URL and the media socket URL (see shared/trace_context.py), and each of those
continues the trace through `call_span`. Metric names are the ones the alert rules query (infra/modules/
alerts.bicep, shared/kpis.py). Attributes never carry a raw phone number: string values are masked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags

from adapters.telemetry_providers import configure_telemetry
from calls.function_logging import call_log_context, configure_function_logging
from shared import kpis
from shared.pii import mask_phone_numbers_in_text
from shared.telemetry_settings import TelemetrySettings
from shared.trace_context import TraceParent, parse_traceparent

SERVICE_NAME = "acs-calls-functions"

tracer = trace.get_tracer("calls")
_meter = metrics.get_meter("calls")
calls_incoming = _meter.create_counter(kpis.CALLS_INCOMING, unit="{call}",
                                       description="Calls that rang (IncomingCall events, duplicates excluded)")
calls_answered = _meter.create_counter(kpis.CALLS_ANSWERED, unit="{call}", description="Calls answered")
calls_rejected = _meter.create_counter(kpis.CALLS_REJECTED, unit="{call}",
                                       description="Calls the answer policy rejected before answering")
calls_redirected = _meter.create_counter(kpis.CALLS_REDIRECTED, unit="{call}",
                                         description="Calls the answer policy redirected before answering")
calls_outbound = _meter.create_counter(kpis.CALLS_OUTBOUND, unit="{call}",
                                       description="Outbound calls started by POST /api/calls")
calls_after_hours_message = _meter.create_counter(
    kpis.CALLS_AFTER_HOURS_MESSAGE, unit="{call}", description="Calls answered only for the after-hours message")
calls_missed = _meter.create_counter(kpis.CALLS_MISSED, unit="{call}",
                                     description="Calls that ended without connecting")
calls_dropped = _meter.create_counter(kpis.CALLS_DROPPED, unit="{call}",
                                      description="Connected calls that ended by an unexpected disconnect")
answer_latency = _meter.create_histogram(kpis.CALL_ANSWER_LATENCY, unit="ms",
                                         description="From the IncomingCall event to a successful answer")
email_sent = _meter.create_counter(kpis.EMAIL_SENT, unit="{email}", description="Summary emails delivered")
email_failed = _meter.create_counter(kpis.EMAIL_FAILED, unit="{email}",
                                     description="Summary emails that failed after every attempt")

AttributeValue = str | int | float | bool


def configure(settings: TelemetrySettings) -> None:
    """Exporters as configured and JSON logs; once per process (function_app calls it at import)."""
    configure_telemetry(SERVICE_NAME, settings)
    configure_function_logging()


def parent_context(traceparent: str | None) -> otel_context.Context | None:
    """The context continuing `traceparent`, or None (a new trace) when it is absent or malformed."""
    parsed = parse_traceparent(traceparent)
    if parsed is None:
        return None
    span_context = SpanContext(parsed.trace_id, parsed.span_id, is_remote=True,
                               trace_flags=TraceFlags(TraceFlags.SAMPLED if parsed.sampled else 0))
    return trace.set_span_in_context(NonRecordingSpan(span_context))


def traceparent_of(span: Span) -> str | None:
    """The `traceparent` that makes the next hop a child of `span` (None when tracing is off)."""
    span_context = span.get_span_context()
    if not span_context.is_valid:
        return None
    return TraceParent(span_context.trace_id, span_context.span_id, span_context.trace_flags.sampled).to_header()


def safe_attributes(attributes: Mapping[str, AttributeValue | None]) -> dict[str, AttributeValue]:
    return {key: mask_phone_numbers_in_text(value)[:256] if isinstance(value, str) else value
            for key, value in attributes.items() if value is not None}


@contextlib.contextmanager
def call_span(name: str, *, traceparent: str | None = None, kind: SpanKind = SpanKind.INTERNAL,
              attributes: Mapping[str, AttributeValue | None] | None = None) -> Iterator[Span]:
    """A span of the call's trace (continuing `traceparent`), with the call's ids also on every log record."""
    attributes = attributes or {}
    with tracer.start_as_current_span(name, context=parent_context(traceparent), kind=kind,
                                      attributes=safe_attributes(attributes)) as span, call_log_context(
            instanceId=_str(attributes.get("call.instance_id")),
            correlationId=_str(attributes.get("call.correlation_id")),
            callConnectionId=_str(attributes.get("call.connection_id"))):
        yield span


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
