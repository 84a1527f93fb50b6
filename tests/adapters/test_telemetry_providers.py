"""The exporters the settings ask for, against loopback servers speaking their wire formats: OTLP/HTTP
(protobuf posts to /v1/traces and /v1/metrics) and Azure Monitor's ingestion endpoint (/v2.1/track)."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapters.telemetry_providers import build_providers
from shared.telemetry_settings import TelemetrySettings


class Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).received.append((self.path, self.headers.get("content-type", ""), body))
        reply = b"{}" if "track" in self.path else b""
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    handler = type("Handler", (Recorder,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.received
    server.shutdown()


def emit(settings: TelemetrySettings) -> None:
    providers = build_providers(settings, "test-service")
    with providers.tracer_provider.get_tracer("t").start_as_current_span("IncomingCall") as span:
        span.set_attribute("call.correlation_id", "corr-1")
    providers.meter_provider.get_meter("m").create_counter("calls.incoming").add(1)
    providers.tracer_provider.force_flush()
    providers.meter_provider.force_flush()
    providers.shutdown()


def test_otlp_http_gets_traces_and_metrics(collector: tuple[str, list[tuple[str, str, bytes]]]) -> None:
    endpoint, received = collector
    emit(TelemetrySettings(None, endpoint))
    paths = {path: (content_type, body) for path, content_type, body in received}
    assert set(paths) == {"/v1/traces", "/v1/metrics"}
    content_type, traces = paths["/v1/traces"]
    assert content_type == "application/x-protobuf"
    assert b"IncomingCall" in traces and b"corr-1" in traces and b"test-service" in traces
    assert b"calls.incoming" in paths["/v1/metrics"][1]


def test_azure_monitor_gets_telemetry(collector: tuple[str, list[tuple[str, str, bytes]]],
                                      monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    endpoint, received = collector
    monkeypatch.setenv("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # offline retry files stay in the test's directory
    emit(TelemetrySettings(f"InstrumentationKey=00000000-0000-0000-0000-000000000001;"
                           f"IngestionEndpoint={endpoint}/", None))
    tracks = [body for path, _, body in received if path.endswith("/track")]
    assert tracks, [path for path, _, _ in received]
    items = []
    for body in tracks:
        text = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
        items += [json.loads(line) for line in text.decode().splitlines() if line.strip()] \
            if not text.lstrip().startswith(b"[") else json.loads(text)
    names = {item["data"]["baseType"] for item in items}
    assert "RequestData" in names or "RemoteDependencyData" in names
    assert "MetricData" in names
    assert any("calls.incoming" in json.dumps(item) for item in items)
