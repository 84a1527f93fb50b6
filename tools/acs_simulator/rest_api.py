"""The simulator's REST decisions: route, authenticate, inject faults, apply to state, render. No I/O.

The HTTP shell (`server.py`) turns bytes into a `RestRequest`, calls `RestApi.handle` under one lock and
performs the returned side effects (write .eml, notify observers).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tools.acs_simulator import hmac_auth, participants, request_rules, request_schema
from tools.acs_simulator.acs_errors import (
    AcsError,
    bad_request,
    bearer_denied,
    denied,
    internal_error,
    not_found,
    too_many_requests,
)
from tools.acs_simulator.call_registry import CallConnection, CallRegistry
from tools.acs_simulator.create_call import create_call
from tools.acs_simulator.email_message import parse_send_request
from tools.acs_simulator.faults import FaultPlan, InjectedFault
from tools.acs_simulator.recordings import Recording, RecordingRegistry
from tools.acs_simulator.records import CallOperation, DeliveredEmail

BearerVerifier = Callable[[str], "str | None"]  # token -> None when valid, else the reason

_CONNECTION = re.compile(r"^/calling/callConnections/(?P<id>[^/:]+)(?::(?P<action>[A-Za-z]+))?$")
_PARTICIPANTS = re.compile(r"^/calling/callConnections/(?P<id>[^/:]+)/participants:(?P<action>[A-Za-z]+)$")
_RECORDING = re.compile(r"^/calling/recordings/(?P<id>[^/:]+)(?::(?P<action>pause|resume))?$")
_EMAIL_OPERATION = re.compile(r"^/emails/operations/(?P<id>[^/]+)$")

# action in the URL -> (operation name used by faults/records, success status)
_CALL_ACTIONS: dict[str, tuple[str, int]] = {
    "terminate": ("terminate", 204),
    "play": ("play", 202),
    "recognize": ("recognize", 202),
    "transferToParticipant": ("transfer", 202),
    "startTranscription": ("start_transcription", 202),
    "stopTranscription": ("stop_transcription", 202),
    "updateTranscription": ("update_transcription", 202),
    "cancelAllMediaOperations": ("cancel_media", 202),
    "startMediaStreaming": ("start_media_streaming", 202),
    "stopMediaStreaming": ("stop_media_streaming", 202),
    "hold": ("hold", 200),
    "unhold": ("unhold", 200),
}

_RECORDING_OPERATIONS = ("start_recording", "get_recording", "pause_recording", "resume_recording", "stop_recording")


@dataclass(frozen=True)
class RestRequest:
    method: str
    raw_target: str  # path?query exactly as received (what the client signed)
    path: str  # percent-decoded path
    query: dict[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class RestResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class RestOutcome:
    operation: str
    response: RestResponse
    parsed_json: Any = None
    delivered_email: DeliveredEmail | None = None
    call_operation: CallOperation | None = None


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> RestResponse:
    return RestResponse(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode())


def _error_response(error: AcsError, headers: dict[str, str] | None = None) -> RestResponse:
    return RestResponse(error.status, {"Content-Type": "application/json", **(headers or {})}, error.body())


def poll_delay_headers(seconds: float) -> dict[str, str]:
    """For 202 / Running answers: Retry-After in whole seconds (the Email SDK deserialises it as int)
    plus retry-after-ms. A sub-second delay (a test convenience) goes in retry-after-ms alone, because
    azure-core reads Retry-After first and a Retry-After of 0 makes the poller fall back to its 30 s."""
    headers = {"retry-after-ms": str(math.ceil(seconds * 1000))}
    if float(seconds).is_integer() and seconds >= 1:
        headers["Retry-After"] = str(int(seconds))
    return headers


def throttle_headers(seconds: float) -> dict[str, str]:
    """For 429/5xx: Retry-After must be present, since azure-core retries a failed POST only when it is
    (or on 500/503/504). A sub-second value is written as a decimal, which azure-core parses."""
    text = str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.3f}"
    return {"Retry-After": text, "retry-after-ms": str(math.ceil(seconds * 1000))}


def _fault_response(fault: InjectedFault) -> RestResponse:
    headers = throttle_headers(fault.retry_after) if fault.retry_after is not None else {}
    error = too_many_requests() if fault.status == 429 else AcsError(fault.status, "ServiceError", "Injected fault.")
    if fault.status == 500:
        error = internal_error()
    return _error_response(error, headers)


@dataclass
class _EmailOperation:
    operation_id: str
    polls_left_running: int


class RestApi:
    def __init__(self, access_key_b64: str, faults: FaultPlan, *, email_polls_running: int = 1,
                 email_poll_interval: float = 0.05, bearer_verifier: BearerVerifier | None = None,
                 scheme: str = "http") -> None:
        self._access_key = access_key_b64
        self._scheme = scheme
        self._bearer_verifier = bearer_verifier
        self.faults = faults
        self.calls = CallRegistry()
        self.recordings = RecordingRegistry(self.calls)
        self._email_operations: dict[str, _EmailOperation] = {}
        self._email_polls_running = email_polls_running
        self._email_poll_interval = email_poll_interval
        self._repeatability: dict[str, tuple[str, RestResponse]] = {}

    def route(self, method: str, path: str) -> tuple[str, str | None]:
        """(operation name, call connection or email operation id)."""
        if method == "POST" and path == "/calling/callConnections:answer":
            return "answer", None
        if method == "POST" and path == "/calling/callConnections":
            return "create_call", None
        if method == "POST" and path == "/calling/callConnections:reject":
            return "reject", None
        if method == "POST" and path == "/calling/callConnections:redirect":
            return "redirect", None
        if method == "POST" and path == "/calling/recordings":
            return "start_recording", None
        if m := _RECORDING.match(path):
            if m["action"] is not None:
                return (f"{m['action']}_recording" if method == "POST" else "unknown"), m["id"]
            return {"GET": "get_recording", "DELETE": "stop_recording"}.get(method, "unknown"), m["id"]
        if method == "POST" and path == "/emails:send":
            return "email", None
        if method == "GET" and (m := _EMAIL_OPERATION.match(path)):
            return "email_status", m["id"]
        if method == "POST" and (m := _PARTICIPANTS.match(path)):
            return ("mute" if m["action"] == "mute" else f"participants_{m['action']}"), m["id"]
        if m := _CONNECTION.match(path):
            action = m["action"]
            if action is None:
                return {"GET": "get_call", "DELETE": "hang_up"}.get(method, "unknown"), m["id"]
            if method == "POST" and action in _CALL_ACTIONS:
                return _CALL_ACTIONS[action][0], m["id"]
        return "unknown", None

    def _authenticate(self, request: RestRequest, now: datetime | None) -> AcsError | None:
        """HMAC with the access key, or (when a verifier is configured) an Entra bearer token."""
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Bearer ") and self._bearer_verifier is not None:
            reason = self._bearer_verifier(authorization[len("Bearer "):])
            return bearer_denied(reason) if reason is not None else None
        verdict = hmac_auth.verify(access_key_b64=self._access_key, method=request.method,
                                   path_and_query=request.raw_target, headers=request.headers,
                                   body=request.body, now=now)
        return None if verdict.ok else denied(verdict.reason)

    def _refusal(self, operation: str, request: RestRequest, parsed: Any, now: datetime | None) -> AcsError | None:
        rejection = self._authenticate(request, now)
        if rejection is not None:
            return rejection
        if operation == "unknown":
            return not_found(f"No route for {request.method} {request.path}.")
        if operation in ("email", "email_status"):
            if "api-version" not in request.query:
                return bad_request("The api-version query parameter is required.")
        else:
            rejection = request_rules.check_api_version(request.query.get("api-version"))
            if rejection is not None:
                return rejection
        if request.body and parsed is None:
            return bad_request("The request body is not valid JSON.")
        if operation in request_schema.OPERATION_MODELS:
            problems = request_schema.validate(operation, parsed)
            if problems:
                return bad_request("The request is invalid: " + "; ".join(problems))
            return request_rules.check_urls(operation, parsed)
        return None

    def handle(self, request: RestRequest, now: datetime | None = None) -> RestOutcome:
        operation, target = self.route(request.method, request.path)
        parsed: Any = None
        if request.body:
            try:
                parsed = json.loads(request.body)
            except ValueError:
                parsed = None
        rejection = self._refusal(operation, request, parsed, now)
        if rejection is not None:
            return RestOutcome(operation, _error_response(rejection), parsed)
        fault = self.faults.take(operation)
        if fault is not None:
            return RestOutcome(operation, _fault_response(fault), parsed)
        # ACS deduplicates retried POSTs by Repeatability-Request-ID: replay the first answer, no new effect.
        repeat_id = request.headers.get("repeatability-request-id")
        if request.method == "POST" and repeat_id and repeat_id in self._repeatability:
            cached_operation, cached = self._repeatability[repeat_id]
            if cached_operation == operation:
                return RestOutcome(operation, cached, parsed)
        outcome = self._dispatch(operation, target, request, parsed)
        if request.method == "POST" and repeat_id and 200 <= outcome.response.status < 300:
            self._repeatability[repeat_id] = (operation, outcome.response)
        return outcome

    def _dispatch(self, operation: str, target: str | None, request: RestRequest, body: Any) -> RestOutcome:
        body_dict = body if isinstance(body, dict) else {}
        if operation == "answer":
            result = self.calls.answer(body_dict)
            if isinstance(result, AcsError):
                return RestOutcome(operation, _error_response(result), body)
            return RestOutcome(operation, _json_response(200, result.properties()), body,
                               call_operation=CallOperation("answer", result.call_connection_id, body_dict))
        if operation == "create_call":
            created = create_call(self.calls, body_dict)
            if isinstance(created, AcsError):
                return RestOutcome(operation, _error_response(created), body)
            # 201 with CallConnectionProperties (spec example CreateCall.json).
            return RestOutcome(operation, _json_response(201, created.properties()), body,
                               call_operation=CallOperation("create_call", created.call_connection_id, body_dict))
        if operation in ("reject", "redirect"):
            # Both answer 204 with no body (the SDK's generated operations accept only 204).
            refused = self.calls.refuse(body_dict, "rejected" if operation == "reject" else "redirected")
            if isinstance(refused, AcsError):
                return RestOutcome(operation, _error_response(refused), body)
            return RestOutcome(operation, RestResponse(204), body,
                               call_operation=CallOperation(operation, "", body_dict))
        if operation == "email":
            return self._send_email(request, body)
        if operation == "email_status":
            return self._email_status(target or "")
        if operation in _RECORDING_OPERATIONS:
            return self._recording(operation, target, body_dict, body)
        assert target is not None
        if operation == "get_call":
            found = self.calls.get(target)
            if isinstance(found, AcsError):
                return RestOutcome(operation, _error_response(found), body)
            return RestOutcome(operation, _json_response(200, found.properties()), body)
        live = self.calls.live(target)
        if isinstance(live, AcsError):
            return RestOutcome(operation, _error_response(live), body)
        return self._call_action(operation, live, body_dict, body)

    def _call_action(self, operation: str, call: CallConnection, body_dict: dict[str, Any], body: Any) -> RestOutcome:
        effect = CallOperation(operation, call.call_connection_id, body_dict)
        refusal = request_rules.check_call_action(operation, call, body_dict)
        if refusal is None and operation in participants.OPERATIONS:
            refusal = participants.check(operation, call, body_dict)
        if refusal is not None:
            return RestOutcome(operation, _error_response(refusal), body)
        if operation in participants.STATE_OPERATIONS:
            status, answer = participants.apply(operation, call, body_dict)
            response = _json_response(status, answer) if answer is not None else RestResponse(status)
            return RestOutcome(operation, response, body, call_operation=effect)
        if operation in ("terminate", "hang_up"):
            # A two-party call ends for everyone either way; the engine sends CallDisconnected.
            call.state = "disconnected"
            return RestOutcome(operation, RestResponse(204), body, call_operation=effect)
        if operation == "mute":
            for participant in body_dict.get("targetParticipants") or []:
                if isinstance(participant, dict) and isinstance(participant.get("rawId"), str):
                    call.muted.add(participant["rawId"])
            return RestOutcome(operation, _json_response(200, {"operationContext": body_dict.get("operationContext")}),
                               body, call_operation=effect)
        if operation == "transfer":
            return RestOutcome(operation, _json_response(202, {"operationContext": body_dict.get("operationContext")}),
                               body, call_operation=effect)
        if operation in ("play", "recognize") and call.state != "connected":
            # Media actions need an established call; ACS answers them with a client error before that.
            return RestOutcome(operation, _error_response(AcsError(400, "BadRequest", "Call is not established yet.")),
                               body)
        if operation.startswith("participants_"):
            return RestOutcome(operation, _json_response(202, {"operationContext": body_dict.get("operationContext")}),
                               body, call_operation=effect)
        return RestOutcome(operation, RestResponse(202), body, call_operation=effect)

    def _recording(self, operation: str, recording_id: str | None, body_dict: dict[str, Any], body: Any
                   ) -> RestOutcome:
        found: Recording | AcsError
        if operation == "start_recording":
            found = self.recordings.start(body_dict)
        elif operation == "get_recording":
            found = self.recordings.get(recording_id or "")
        else:
            found = self.recordings.change(recording_id or "", operation)
        if isinstance(found, AcsError):
            return RestOutcome(operation, _error_response(found), body)
        if operation == "get_recording":
            return RestOutcome(operation, _json_response(200, found.response()), body)
        # The call engine sends RecordingStateChanged for the change (recordings.py says where).
        effect = CallOperation(operation, found.call_connection_id,
                               {"recordingId": found.recording_id, "recordingState": found.wire_state,
                                "recordingStateCallbackUri": found.callback_uri})
        if operation == "start_recording":
            # The answer says inactive: the recording becomes active after it (spec example).
            return RestOutcome(operation, _json_response(200, found.response("inactive")), body, call_operation=effect)
        status = 204 if operation == "stop_recording" else 202
        return RestOutcome(operation, RestResponse(status), body, call_operation=effect)

    def _send_email(self, request: RestRequest, body: Any) -> RestOutcome:
        operation_id = request.headers.get("operation-id") or str(uuid.uuid4())
        host = request.headers.get("host", "127.0.0.1")
        api_version = request.query.get("api-version", "")
        headers = {
            "Operation-Location": f"{self._scheme}://{host}/emails/operations/{operation_id}?api-version={api_version}",
            **poll_delay_headers(self._email_poll_interval),
        }
        accepted = _json_response(202, {"id": operation_id, "status": "Running", "error": None}, headers)
        if operation_id in self._email_operations:
            return RestOutcome("email", accepted, body)  # idempotent: same operation, no second delivery
        parsed = parse_send_request(body, operation_id)
        if isinstance(parsed, AcsError):
            return RestOutcome("email", _error_response(parsed), body)
        self._email_operations[operation_id] = _EmailOperation(operation_id, self._email_polls_running)
        return RestOutcome("email", accepted, body, delivered_email=parsed)

    def _email_status(self, operation_id: str) -> RestOutcome:
        op = self._email_operations.get(operation_id)
        if op is None:
            return RestOutcome("email_status", _error_response(not_found(f"Operation {operation_id} not found.")))
        if op.polls_left_running > 0:
            op.polls_left_running -= 1
            return RestOutcome("email_status", _json_response(
                200, {"id": operation_id, "status": "Running", "error": None},
                poll_delay_headers(self._email_poll_interval)))
        succeeded = {"id": operation_id, "status": "Succeeded", "error": None}
        return RestOutcome("email_status", _json_response(200, succeeded))
