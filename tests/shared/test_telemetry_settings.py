from __future__ import annotations

import pytest

from shared.settings import SettingsError
from shared.telemetry_settings import TelemetrySettings, load_telemetry_settings

CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x.in.ai.azure.com/"


def test_nothing_configured_exports_nothing() -> None:
    settings = load_telemetry_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": "  ", "OTHER": "x"})
    assert settings == TelemetrySettings(None, None) and not settings.enabled


def test_azure_monitor_and_otlp() -> None:
    settings = load_telemetry_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION,
                                        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/"})
    assert settings.azure_monitor_connection_string == CONNECTION
    assert settings.otlp_endpoint == "http://127.0.0.1:4318" and settings.enabled


@pytest.mark.parametrize(("name", "value"), [
    ("APPLICATIONINSIGHTS_CONNECTION_STRING", "IngestionEndpoint=https://x/"),
    ("APPLICATIONINSIGHTS_CONNECTION_STRING", "garbage"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://collector:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318?x=1"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
])
def test_malformed_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_telemetry_settings({name: value})
