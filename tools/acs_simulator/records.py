"""What the simulator saw and did, as plain records that tests assert on."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request to the simulator and the status it was answered with."""

    method: str
    path: str  # decoded path without the query, e.g. "/calling/callConnections:answer"
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    json: Any  # parsed body, or None when empty / not JSON
    status: int
    operation: str  # "answer", "terminate", "email", ... or "unknown"


@dataclass(frozen=True)
class DeliveredEmail:
    """One message accepted by `POST /emails:send` and delivered once (idempotent on Operation-Id)."""

    operation_id: str
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    plain_text: str | None
    html: str | None
    request_json: dict[str, Any]
    eml_path: Path | None = None
    eml_bytes: bytes = b""


@dataclass(frozen=True)
class CallOperation:
    """A Call Automation request that changed a call, published to observers (the call engine)."""

    kind: str  # "answer" | "terminate" | "hang_up" | "play" | "recognize" | "transfer" | "mute" | ...
    call_connection_id: str
    body: dict[str, Any] = field(default_factory=dict)
    # time.monotonic() when the REST API took the request (its thread), before the call engine's loop sees it
    received_at: float = field(default_factory=time.monotonic)
