"""What ACS refuses beyond the request models' shape (which `request_schema` checks). No I/O.

- api-version: only the versions the service publishes (the REST spec's `CallAutomation/stable/<version>`
  folders: 2023-03-06, 2023-10-15, 2024-04-15, 2024-09-15, 2025-05-15, 2025-06-15, 2026-03-12, the same
  list as the pinned SDK's `ApiVersion` enum; preview versions are not accepted: nothing here uses them).
- Callback URLs must be https and transport URLs wss: ACS only calls back over TLS (secure-webhook-endpoint
  how-to; every spec example uses https callbacks and wss transport URLs). Loopback hosts alone may use
  http/ws, because the tests run the whole stack on 127.0.0.1 without TLS; no real ACS can reach them.
- Text and SSML prompts need `callIntelligenceOptions.cognitiveServicesEndpoint` at call setup: 405/8522
  (see `acs_errors.COGNITIVE_NOT_SET_UP`).
- Mute is for ACS users only (`MuteParticipantsRequest.targetParticipants`: "Only ACS Users are supported").
- Start and stop of media streaming reuse the answer's `mediaStreamingOptions` (StartMediaStreamingRequest and
  StopMediaStreamingRequest carry only operationContext and operationCallbackUri; ACS answers 202:
  examples/CallMedia_StartMediaStreaming.json, CallMedia_StopMediaStreaming.json). Without those options at
  answer there is no transport URL to stream to: refused like transcription without its URL (not published;
  the strict reading), and so is a request on a call not yet connected (as play and recognize are).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from tools.acs_simulator.acs_errors import (
    COGNITIVE_NOT_SET_UP,
    TRANSCRIPTION_URL_NOT_SET_UP,
    AcsError,
    bad_request,
    not_set_up,
    unsupported_api_version,
)
from tools.acs_simulator.call_registry import CallConnection

CALL_AUTOMATION_API_VERSIONS = ("2023-03-06", "2023-10-15", "2024-04-15", "2024-09-15", "2025-05-15",
                                "2025-06-15", "2026-03-12")
TEXT_PROMPT_KINDS = ("text", "ssml")
MEDIA_STREAMING_NOT_SET_UP = "Request not allowed when media streaming options not set during call setup."


def check_api_version(version: str | None) -> AcsError | None:
    if version is None:
        return bad_request("The api-version query parameter is required.")
    if version not in CALL_AUTOMATION_API_VERSIONS:
        return unsupported_api_version(version, CALL_AUTOMATION_API_VERSIONS)
    return None


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_problem(where: str, url: Any, secure: str, plain: str) -> str | None:
    if not isinstance(url, str) or not url:
        return f"{where}: a {secure} URL is required."
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{where}: not a valid URL."
    if not host:
        return f"{where}: not an absolute URL."
    if parts.scheme == secure or (parts.scheme == plain and is_loopback_host(host)):
        return None
    return f"{where}: must be a {secure}:// URL (got {parts.scheme}://)."


def check_urls(operation: str, body: dict[str, Any]) -> AcsError | None:
    """Callback and transport URLs of a request; `body` already matches its request model."""
    checks: list[tuple[str, Any, str, str]] = []
    if operation in ("answer", "create_call"):
        checks.append(("callbackUri", body.get("callbackUri"), "https", "http"))
        for options in ("mediaStreamingOptions", "transcriptionOptions"):
            section = body.get(options)
            if isinstance(section, dict) and "transportUrl" in section:
                checks.append((f"{options}.transportUrl", section["transportUrl"], "wss", "ws"))
        intelligence = body.get("callIntelligenceOptions")
        if isinstance(intelligence, dict) and "cognitiveServicesEndpoint" in intelligence:
            # ACS calls the AI resource itself, never a loopback address: https only.
            checks.append(("callIntelligenceOptions.cognitiveServicesEndpoint",
                           intelligence["cognitiveServicesEndpoint"], "https", "https"))
    if operation == "start_recording" and "recordingStateCallbackUri" in body:
        checks.append(("recordingStateCallbackUri", body["recordingStateCallbackUri"], "https", "http"))
    if "operationCallbackUri" in body:
        checks.append(("operationCallbackUri", body["operationCallbackUri"], "https", "http"))
    for where, url, secure, plain in checks:
        problem = _url_problem(where, url, secure, plain)
        if problem is not None:
            return bad_request(problem)
    return None


def _prompt_kinds(body: dict[str, Any]) -> list[str]:
    sources = list(body.get("playSources") or []) + list(body.get("playPrompts") or [])
    if isinstance(body.get("playPrompt"), dict):
        sources.append(body["playPrompt"])
    return [str(source.get("kind")) for source in sources if isinstance(source, dict)]


def check_call_action(operation: str, call: CallConnection, body: dict[str, Any]) -> AcsError | None:
    """Refusals that depend on how the call was set up."""
    if operation in ("play", "recognize"):
        if any(kind in TEXT_PROMPT_KINDS for kind in _prompt_kinds(body)) and not call.cognitive_services_endpoint:
            return not_set_up(COGNITIVE_NOT_SET_UP)
        recognize_kind = body.get("recognizeInputType")
        if recognize_kind in ("speech", "speechOrDtmf", "choices") and not call.cognitive_services_endpoint:
            return not_set_up(COGNITIVE_NOT_SET_UP)
    if operation in ("start_transcription", "update_transcription"):
        if not call.cognitive_services_endpoint:
            return not_set_up(COGNITIVE_NOT_SET_UP)
        if not call.transcription_url:
            return not_set_up(TRANSCRIPTION_URL_NOT_SET_UP)
    if operation in ("start_media_streaming", "stop_media_streaming"):
        if not call.media_streaming or not call.media_streaming.get("transportUrl"):
            return not_set_up(MEDIA_STREAMING_NOT_SET_UP)
        if call.state != "connected":
            return bad_request("Call is not established yet.")
    if operation == "mute":
        for index, target in enumerate(body.get("targetParticipants") or []):
            if not isinstance(target, dict) or not isinstance(target.get("communicationUser"), dict):
                # The code and message are not published for a phone-number target; the wording follows the
                # service's answer for another non-ACS-user identifier (azure-sdk-for-net#55527).
                return bad_request(f"Invalid TargetParticipants in request: targetParticipants[{index}] is not "
                                   "an ACS user; only ACS users (communicationUser) can be muted.")
    return None
