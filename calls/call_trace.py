"""The call's traceparent for requests that carry none of their own: ACS callbacks and the media report.

The callback URL keeps its form (no trace context in it), so the trace comes from where the IncomingCall put
it: the orchestration's input (calls/events_http.py). One lookup per call and process, then a bounded cache;
none at all when no tracer is configured, so a deployment without telemetry pays nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from opentelemetry import trace

from calls.durable_gateway import DurableGateway
from shared.trace_context import TRACEPARENT, parse_traceparent

_CACHED_CALLS = 1024
_cache: OrderedDict[str, str | None] = OrderedDict()


def tracing_enabled() -> bool:
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


async def call_traceparent(gateway: DurableGateway, instance_id: str, headers: Mapping[str, str]) -> str | None:
    """A valid `traceparent` header of the request itself, else the one in the call's orchestration input."""
    own = headers.get(TRACEPARENT)
    if own and parse_traceparent(own) is not None:
        return own
    if not tracing_enabled():
        return None
    if instance_id in _cache:
        _cache.move_to_end(instance_id)
        return _cache[instance_id]
    stored = (await gateway.orchestration_input(instance_id) or {}).get(TRACEPARENT)
    found = stored if isinstance(stored, str) and parse_traceparent(stored) is not None else None
    _cache[instance_id] = found
    if len(_cache) > _CACHED_CALLS:
        _cache.popitem(last=False)
    return found
