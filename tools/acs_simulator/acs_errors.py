"""ACS error bodies: `{"error": {"code", "message"}}`, the CommunicationErrorResponse shape the SDKs parse.

Codes and messages for HMAC failures follow what ACS returns ("Denied"). The answer-conflict codes are
the simulator's choice (ACS documents 400 for bad requests); callers should treat any 4xx on answer as final.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class AcsError:
    status: int
    code: str
    message: str

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message}}).encode("utf-8")


def denied(reason: str) -> AcsError:
    return AcsError(401, "Denied", reason or "Denied by the resource provider.")


def bad_request(message: str) -> AcsError:
    return AcsError(400, "BadRequest", message)


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
