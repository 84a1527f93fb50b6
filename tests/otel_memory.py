"""In-memory OpenTelemetry for tests: one span exporter and one metric reader for the whole test process.

The global providers can be installed once per process, so this installs them on first use and hands the same
exporter and reader to every later caller. Code under test gets them through the API's proxies.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.telemetry_providers import build_providers, install_providers
from shared.telemetry_settings import TelemetrySettings


@dataclass(frozen=True)
class MemoryTelemetry:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def finished_spans(self) -> tuple[ReadableSpan, ...]:
        return self.spans.get_finished_spans()

    def counter_totals(self) -> dict[str, float]:
        """Each counter's cumulative total (summed over attribute sets)."""
        return {name: sum(point.value for point in points) for name, points in self._points().items()
                if points and hasattr(points[0], "value")}

    def histogram_totals(self) -> dict[str, tuple[int, float]]:
        return {name: (sum(p.count for p in points), sum(p.sum for p in points))
                for name, points in self._points().items() if points and hasattr(points[0], "count")}

    def points(self, name: str) -> list[object]:
        return self._points().get(name, [])

    def _points(self) -> dict[str, list[object]]:
        data: MetricsData | None = self.metrics.get_metrics_data()
        result: dict[str, list[object]] = {}
        for resource_metrics in (data.resource_metrics if data else []):
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    result.setdefault(metric.name, []).extend(metric.data.data_points)
        return result


@functools.cache
def memory_telemetry() -> MemoryTelemetry:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    providers = build_providers(TelemetrySettings(None, None), "tests",
                                span_processors=[SimpleSpanProcessor(exporter)], metric_readers=[reader])
    installed = install_providers(providers)
    if installed is not providers:
        raise RuntimeError("telemetry providers were installed before the in-memory ones")
    return MemoryTelemetry(exporter, reader)


def spans_of_trace(spans: tuple[ReadableSpan, ...], trace_id: int) -> Iterator[ReadableSpan]:
    return (span for span in spans if span.context.trace_id == trace_id)
