"""Routing decisions for the media host's HTTP handshake requests (pure: path in, decision out).

`/ws/{instanceId}/{token}` opens a call's media socket and `/ws/{instanceId}/{token}/transcription` its
transcription socket (401 unless the instance id is valid and the token verifies); `/healthz` and `/readyz`
are probes; anything else is 404. An optional query string may choose the voice processor for this call
(`?processor=echo`).

ACS opens one WebSocket per subscription, to the transport URL of each: media streaming's and
transcription's (answer request `mediaStreamingOptions.transportUrl` and `transcriptionOptions.transportUrl`,
REST spec CallAutomation stable 2026-03-12). The answer gives transcription its own path, so the media host
knows each socket's stream from its URL, whatever the first message is.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from shared.call_token import is_valid_instance_id, verify_call_token

MAX_PATH_LENGTH = 1024
MEDIA = "media"
TRANSCRIPTION = "transcription"


@dataclass(frozen=True)
class MediaSocketRoute:
    instance_id: str
    token: str
    processor: str | None
    stream: str = MEDIA  # MEDIA or TRANSCRIPTION


@dataclass(frozen=True)
class ProbeRoute:
    name: str  # "healthz" or "readyz"


@dataclass(frozen=True)
class RejectedRoute:
    status: int  # 401 or 404
    reason: str


Route = MediaSocketRoute | ProbeRoute | RejectedRoute


def route_request(path: str, call_token_secret: str) -> Route:
    """Decide what a request path is. Never raises."""
    if len(path) > MAX_PATH_LENGTH:
        return RejectedRoute(404, "not found")
    parts = urlsplit(path)
    if parts.path in ("/healthz", "/readyz"):
        return ProbeRoute(parts.path[1:])
    segments = parts.path.split("/")
    if len(segments) not in (4, 5) or segments[0] != "" or segments[1] != "ws":
        return RejectedRoute(404, "not found")
    if len(segments) == 5 and segments[4] != TRANSCRIPTION:
        return RejectedRoute(404, "not found")
    instance_id, token = unquote(segments[2]), unquote(segments[3])
    if not is_valid_instance_id(instance_id) or not verify_call_token(call_token_secret, instance_id, token):
        return RejectedRoute(401, "invalid call token")
    processors = parse_qs(parts.query).get("processor")
    stream = TRANSCRIPTION if len(segments) == 5 else MEDIA
    return MediaSocketRoute(instance_id, token, processors[-1] if processors else None, stream)
