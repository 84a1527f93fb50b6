"""AcsSimulatorServer: a loopback HTTP server speaking ACS Call Automation and Email REST (thin shell).

Decisions live in `rest_api.RestApi`; this module moves bytes, holds the lock, writes .eml files and
notifies observers (the call engine) of call operations.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from tools.acs_simulator.call_registry import CallConnection, OfferedCall
from tools.acs_simulator.email_message import render_eml
from tools.acs_simulator.faults import FaultPlan
from tools.acs_simulator.local_tls import LocalTls
from tools.acs_simulator.recording_files import RecordingFileStore
from tools.acs_simulator.records import CallOperation, DeliveredEmail, RecordedRequest
from tools.acs_simulator.rest_api import BearerVerifier, RestApi, RestRequest, RestResponse

CallObserver = Callable[[CallOperation], None]
MAX_BODY_BYTES = 10 * 1024 * 1024 + 64 * 1024  # ACS Email's 10 MB message limit plus envelope


class _QuietThreadingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of new connections (32 answer threads opening theirs at
    # once) overflowed it, and each dropped SYN cost its caller a 1 s retransmission before the answer reached
    # "ACS". A service front end does not refuse connections that way; 128 is Linux's default somaxconn.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients drop idle keep-alive connections at exit; that is not an error worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, TimeoutError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


class AcsSimulatorServer:
    """Context manager; `endpoint` is valid between __enter__ (or start()) and __exit__ (or stop())."""

    def __init__(
        self,
        access_key_b64: str,
        eml_dir: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        email_polls_running: int = 1,
        email_poll_interval: float = 0.05,
        tls: LocalTls | None = None,
        bearer_verifier: BearerVerifier | None = None,
    ) -> None:
        """`tls`: serve https with that certificate (token credentials refuse http); `bearer_verifier`:
        also accept `Authorization: Bearer <token>` (e.g. `EntraTokenIssuer.verify`) beside HMAC."""
        self.faults = FaultPlan()
        self.requests: list[RecordedRequest] = []
        self.emails: list[DeliveredEmail] = []
        self.eml_dir = eml_dir
        self._scheme = "https" if tls is not None else "http"
        self._api = RestApi(access_key_b64, self.faults, email_polls_running=email_polls_running,
                            email_poll_interval=email_poll_interval, bearer_verifier=bearer_verifier,
                            scheme=self._scheme)
        self._lock = threading.Lock()
        self._access_key, self._bearer_verifier = access_key_b64, bearer_verifier
        self._storage: _QuietThreadingHTTPServer | None = None  # ACS's recording storage host, when served
        self.recording_files = RecordingFileStore(lambda: self.storage_port)
        # Where Event Grid delivers RecordingFileStatusUpdated (the app's subscription), if anywhere.
        self.recording_events_url: str | None = None
        self.recording_events_validated = False  # Event Grid validates a subscription once, at its creation
        self._observers: list[CallObserver] = []
        self._httpd = _QuietThreadingHTTPServer((host, port), _handler_class(self))
        if tls is not None:
            # Handshake in the handler thread (first read), so a stalled client cannot block accept().
            self._httpd.socket = tls.server_context().wrap_socket(self._httpd.socket, server_side=True,
                                                                  do_handshake_on_connect=False)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def endpoint(self) -> str:
        host = self._httpd.server_address[0]
        return f"{self._scheme}://{host if isinstance(host, str) else host.decode()}:{self.port}"

    @property
    def app_identity(self) -> str:
        """The application's own ACS identity: `source` of every call connection."""
        return self._api.calls.app_identity

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="acs-simulator",
                                            daemon=True)
            self._thread.start()
        return self

    @property
    def storage_port(self) -> int:
        return int(self._storage.server_address[1]) if self._storage is not None else self.port

    def serve_recording_storage(self, tls: LocalTls) -> None:
        """A second listener, https only, standing in for ACS's recording storage (*.asm.skype.com): the SDK
        downloads only from there. Same handler; `_serve` answers its downloads (recording_files.py)."""
        storage = _QuietThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        storage.socket = tls.server_context().wrap_socket(storage.socket, server_side=True,
                                                          do_handshake_on_connect=False)
        self._storage = storage
        threading.Thread(target=storage.serve_forever, args=(0.05,), name="acs-storage", daemon=True).start()

    def stop(self) -> None:
        if self._storage is not None:
            self._storage.shutdown()
            self._storage.server_close()
            self._storage = None
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- calls -----------------------------------------------------------------------------------
    def offer_call(self, caller: str, callee: str, caller_display_name: str = "", *,
                   managed: bool = False) -> OfferedCall:
        """Register a ringing call; its `incoming_call_context` is what answer_call must echo back.

        `managed=True` (used by the call engine) leaves the answered call "connecting" until
        `mark_connected`; otherwise it is "connected" as soon as it is answered.
        """
        with self._lock:
            return self._api.calls.offer(caller, callee, caller_display_name, managed=managed)

    def withdraw_call(self, incoming_call_context: str) -> bool:
        """Stop the call ringing; False when the REST API had already answered, rejected or redirected it."""
        with self._lock:
            return self._api.calls.withdraw(incoming_call_context)

    def call(self, call_connection_id: str) -> CallConnection | None:
        with self._lock:
            return self._api.calls.connections.get(call_connection_id)

    def refused_calls(self) -> dict[str, str]:
        """Incoming call contexts rejected or redirected while ringing: context -> "rejected" | "redirected"."""
        with self._lock:
            return dict(self._api.calls.refused)

    def call_connections(self) -> list[CallConnection]:
        with self._lock:
            return list(self._api.calls.connections.values())

    def set_call_state(self, call_connection_id: str, state: str) -> None:
        with self._lock:
            connection = self._api.calls.connections.get(call_connection_id)
            if connection is not None:
                connection.state = state

    def settle_invitation(self, call_connection_id: str, participant: Any, answered: bool) -> bool | None:
        """An invited participant answered (joins the call) or not; None when the invitation is no longer
        ringing (withdrawn by a cancel, whose own result is the invitation's last word), False when it failed."""
        raw = participant.get("rawId") if isinstance(participant, dict) else None
        if not isinstance(raw, str):
            return False
        with self._lock:
            connection = self._api.calls.connections.get(call_connection_id)
            if connection is None:
                return False
            ringing = [key for key, value in connection.invitations.items() if value == raw]
            if not ringing:
                return None
            for key in ringing:
                connection.past_invitations[key] = connection.invitations.pop(key)
            if answered and connection.state == "connected":
                connection.joined.add(raw)
            return answered and connection.state == "connected"

    def mark_connected(self, call_connection_id: str) -> None:
        self.set_call_state(call_connection_id, "connected")

    def add_observer(self, observer: CallObserver) -> None:
        """`observer` runs on a server thread after each successful call operation (answer, play, ...)."""
        with self._lock:
            self._observers.append(observer)

    def remove_observer(self, observer: CallObserver) -> None:
        with self._lock:
            if observer in self._observers:
                self._observers.remove(observer)

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    # --- shell -----------------------------------------------------------------------------------
    def _serve(self, request: RestRequest) -> RestResponse:
        download = self.recording_files.serve(request.method, request.path, request.raw_target, request.headers,
                                              urlsplit(self.endpoint).netloc, self._access_key,
                                              self._bearer_verifier)
        if download is not None:
            status, headers, body = download
            with self._lock:
                self.requests.append(RecordedRequest(
                    method=request.method, path=request.path, query=request.query, headers=dict(request.headers),
                    json=None, status=status, operation="download_recording"))
            return RestResponse(status, headers, body)
        with self._lock:
            outcome = self._api.handle(request)
            delivered = outcome.delivered_email
            if delivered is not None:
                delivered = self._deliver(delivered)
                self.emails.append(delivered)
            self.requests.append(RecordedRequest(
                method=request.method, path=request.path, query=request.query, headers=dict(request.headers),
                json=outcome.parsed_json, status=outcome.response.status, operation=outcome.operation))
            observers = list(self._observers) if outcome.call_operation is not None else []
        for observer in observers:
            assert outcome.call_operation is not None
            observer(outcome.call_operation)
        return outcome.response

    def _deliver(self, email: DeliveredEmail) -> DeliveredEmail:
        eml = render_eml(email)
        path: Path | None = None
        if self.eml_dir is not None:
            self.eml_dir.mkdir(parents=True, exist_ok=True)
            safe_id = "".join(c for c in email.operation_id if c.isalnum() or c in "-_")[:64] or "message"
            path = self.eml_dir / f"{len(self.emails) + 1:03d}-{safe_id}.eml"
            path.write_bytes(eml)
        return DeliveredEmail(**{**email.__dict__, "eml_path": path, "eml_bytes": eml})


def _handler_class(server: AcsSimulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AcsSimulator/1.0"

        def _handle(self) -> None:
            length_text = self.headers.get("Content-Length", "0")
            try:
                length = int(length_text)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY_BYTES:
                self._send(RestResponse(413 if length > 0 else 400, {"Connection": "close"}))
                return
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            request = RestRequest(
                method=self.command.upper(),
                raw_target=self.path,
                path=unquote(split.path),
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                response = server._serve(request)
            except Exception as exc:  # noqa: BLE001 -- a simulator bug: answer visibly, keep serving
                body = json.dumps({"error": {"code": "SimulatorError", "message": repr(exc)}}).encode()
                response = RestResponse(500, {"Content-Type": "application/json"}, body)
            self._send(response)

        def _send(self, response: RestResponse) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.body and self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

        def log_message(self, format: str, *args: Any) -> None:
            # Silent: request lines carry ids and the recorded requests are the audit trail.
            return

    return Handler
