"""Which telemetry exporters a process uses, read from its environment (pure, validated).

Azure Monitor when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set, OTLP over HTTP when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set (both when both are), nothing otherwise: then no SDK provider is
installed at all and every span and metric call is the API's no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.settings import SettingsError

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
_CONNECTION_STRING_EXAMPLE = ("InstrumentationKey=00000000-0000-0000-0000-000000000000;"
                              "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/")


@dataclass(frozen=True)
class TelemetrySettings:
    azure_monitor_connection_string: str | None
    otlp_endpoint: str | None

    @property
    def enabled(self) -> bool:
        return self.azure_monitor_connection_string is not None or self.otlp_endpoint is not None


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def load_telemetry_settings(environ: Mapping[str, str]) -> TelemetrySettings:
    connection_string = _optional(environ, CONNECTION_STRING)
    if connection_string is not None:
        keys = {part.split("=", 1)[0].strip().lower() for part in connection_string.split(";") if "=" in part}
        if "instrumentationkey" not in keys:
            raise SettingsError(f"{CONNECTION_STRING} must contain InstrumentationKey=...; for example "
                                f"{CONNECTION_STRING}={_CONNECTION_STRING_EXAMPLE}")
    endpoint = _optional(environ, OTLP_ENDPOINT)
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SettingsError(f"{OTLP_ENDPOINT} must be an http or https URL without query; for example "
                                f"{OTLP_ENDPOINT}=http://127.0.0.1:4318")
        endpoint = endpoint.rstrip("/")
    return TelemetrySettings(connection_string, endpoint)
