"""ACS error bodies: `{"error": {"code", "message"}}`, the CommunicationErrorResponse shape of the REST spec
(`CommunicationErrorResponse` -> `CommunicationError{code, message, target?, details?, innererror?}`, as in
the SDK's generated `_generated/models`), which the SDKs turn into `HttpResponseError("(code) message")`.

Where a real answer has been published its status, code and message are used and cited; elsewhere the
status follows the spec (400 for a bad request) and the code is a plain word, marked "not published".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Status, code and message of the real service for an HMAC failure, as captured in
# Azure-Samples/communication-services-dotnet-quickstarts#220: 401 {"error":{"code":"7509",...}}.
HMAC_FAILED_CODE = "7509"
# 405/8522 for media actions that need Cognitive Services or a transcription URL the call was not set up
# with: the real-time transcription tutorial's event-code table (TranscriptionFailed 405/8522) and
# azure-sdk-for-js#27966, where the REST API answers a text-prompt play with this very message.
NOT_SET_UP_STATUS = 405
NOT_SET_UP_CODE = "8522"
COGNITIVE_NOT_SET_UP = "Request not allowed when Cognitive Service Configuration not set during call setup."
TRANSCRIPTION_URL_NOT_SET_UP = "Request not allowed when Transcription url not set during call setup."


@dataclass(frozen=True)
class AcsError:
    status: int
    code: str
    message: str

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message}}).encode("utf-8")


def denied(reason: str) -> AcsError:
    # The service says only "HMAC-SHA256 validation failed"; the reason is appended to help a test's reader.
    return AcsError(401, HMAC_FAILED_CODE, f"HMAC-SHA256 validation failed: {reason}" if reason
                    else "HMAC-SHA256 validation failed")


def bearer_denied(reason: str) -> AcsError:
    # Not published for ACS: Entra-protected Azure data planes answer 401 with an error body.
    return AcsError(401, "Unauthorized", f"Bearer token validation failed: {reason}")


def bad_request(message: str) -> AcsError:
    return AcsError(400, "BadRequest", message)


def unsupported_api_version(version: str, known: tuple[str, ...]) -> AcsError:
    # Not published for ACS; the shape of Azure's API-versioning refusal (400 UnsupportedApiVersion).
    return AcsError(400, "UnsupportedApiVersion",
                    f"The api-version '{version}' is not supported. Supported versions: {', '.join(known)}.")


def not_set_up(message: str) -> AcsError:
    return AcsError(NOT_SET_UP_STATUS, NOT_SET_UP_CODE, message)


def not_found(message: str) -> AcsError:
    return AcsError(404, "NotFound", message)


def call_already_answered() -> AcsError:
    return AcsError(400, "BadRequest", "Call already answered.")


def unknown_incoming_call_context() -> AcsError:
    return AcsError(400, "BadRequest", "Invalid incoming call context: the call does not exist or has ended.")


def too_many_requests() -> AcsError:
    return AcsError(429, "TooManyRequests", "Too many requests. Retry after the time in Retry-After.")


def internal_error() -> AcsError:
    return AcsError(500, "InternalServerError", "Injected server error.")
