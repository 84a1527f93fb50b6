"""OpenTelemetry providers for one process, set up once (the imperative shell shared by both processes).

Both the function app and the media host call `configure_telemetry` at start-up. It builds the exporters the
environment asks for (see shared/telemetry_settings.py) and installs the global tracer and meter providers;
with no exporter configured it installs nothing, so the API stays a no-op. Instruments and tracers created
earlier through `opentelemetry.trace`/`opentelemetry.metrics` are proxies and start recording once a provider
is installed, which is also how tests install in-memory exporters and readers.

Exporter packages are imported only when configured: a process that exports nothing does not need them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from shared.telemetry_settings import TelemetrySettings

log = logging.getLogger(__name__)

# Azure Monitor aggregates per minute anyway; a shorter interval only costs requests.
METRIC_EXPORT_INTERVAL_MS = 60_000
_lock = threading.Lock()
_configured: TelemetryProviders | None = None


@dataclass(frozen=True)
class TelemetryProviders:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def build_providers(settings: TelemetrySettings, service_name: str, *,
                    span_processors: Sequence[SpanProcessor] = (),
                    metric_readers: Sequence[MetricReader] = ()) -> TelemetryProviders:
    """Providers with the configured exporters plus any given processors/readers (not installed globally)."""
    resource = Resource.create({"service.name": service_name})
    processors = list(span_processors)
    readers = list(metric_readers)
    if settings.azure_monitor_connection_string is not None:
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter, AzureMonitorTraceExporter

        connection = settings.azure_monitor_connection_string
        processors.append(BatchSpanProcessor(AzureMonitorTraceExporter(connection_string=connection)))
        readers.append(PeriodicExportingMetricReader(AzureMonitorMetricExporter(connection_string=connection),
                                                     export_interval_millis=METRIC_EXPORT_INTERVAL_MS))
    if settings.otlp_endpoint is not None:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processors.append(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint}/v1/traces")))
        readers.append(PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{settings.otlp_endpoint}/v1/metrics"),
            export_interval_millis=METRIC_EXPORT_INTERVAL_MS))
    tracer_provider = TracerProvider(resource=resource)
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    return TelemetryProviders(tracer_provider, MeterProvider(resource=resource, metric_readers=readers))


def install_providers(providers: TelemetryProviders) -> TelemetryProviders:
    """Install as the process's global providers, once; later calls get the providers already installed."""
    global _configured
    with _lock:
        if _configured is None:
            trace.set_tracer_provider(providers.tracer_provider)
            metrics.set_meter_provider(providers.meter_provider)
            _configured = providers
        return _configured


def installed_providers() -> TelemetryProviders | None:
    return _configured


def configure_telemetry(service_name: str, settings: TelemetrySettings) -> TelemetryProviders | None:
    """Set up the exporters the settings ask for, once per process. None when nothing is exported."""
    if _configured is not None:
        return _configured
    if not settings.enabled:
        return None
    providers = install_providers(build_providers(settings, service_name))
    log.info("telemetry exported", extra={"azureMonitor": settings.azure_monitor_connection_string is not None,
                                          "otlp": settings.otlp_endpoint is not None})
    return providers
