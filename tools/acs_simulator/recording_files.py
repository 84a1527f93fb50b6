"""Recording files the simulator keeps (ACS's own storage, no bring-your-own-storage): a WAV of the audio it
streamed while the recording was active, its download, and the Event Grid event announcing it.

- Content location: `https://{region}.asm.skype.com/v1/objects/{documentId}/content/audio`, with the
  metadata at `.../content/acsmetadata` (Event Grid docs' RecordingFileStatusUpdated sample; the SDK only
  downloads from *.asm.skype.com and a few Teams hosts over https: recording_url_validator). Here the host
  is RECORDING_HOST on the simulator's own port; a test maps that name to loopback and trusts the per-run
  CA, whose certificate names it (tools/acs_simulator/local_tls.py).
- Download: `GET` with `x-ms-host` naming the ACS endpoint's host and the request signed for that host
  (SDK 1.6 _content_downloader: `_build_call_recording_download_recording_request`, and HMACCredentialsPolicy
  signs the endpoint's host, not the URL's); a Range header is honoured (206). HMAC or an Entra bearer
  token, like every other route; an unknown document is 404.
- Event: Event Grid schema, subject `/recording/call/{callId}/serverCallId/{serverCallId}/recordingId/{id}`,
  data {recordingStorageInfo.recordingChunks[{documentId, index, endReason, contentLocation,
  metadataLocation, deleteLocation}], recordingStartTime, recordingDurationMs, sessionEndReason}.
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
import wave
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tools.acs_simulator import hmac_auth
from tools.acs_simulator.event_grid_events import TOPIC

Served = tuple[int, dict[str, str], bytes]  # status, headers, body
RECORDING_HOST = "simulated-storage.asm.skype.com"
_OBJECT = re.compile(r"^/v1/objects/(?P<doc>[A-Za-z0-9._-]{1,256})/content/(?P<kind>audio|acsmetadata)$")
_RANGE = re.compile(r"^bytes=(?P<start>\d+)-(?P<end>\d*)$")


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return out.getvalue()


class RecordingFileStore:
    """Documents by id; thread-safe (the HTTP server serves from its own threads)."""

    def __init__(self, port: Callable[[], int]) -> None:
        self._port = port
        self._lock = threading.Lock()
        self.documents: dict[str, bytes] = {}

    def add(self, body: bytes) -> str:
        document_id = f"0-sim-d1-{uuid.uuid4().hex}"
        with self._lock:
            self.documents[document_id] = body
        return document_id

    def location(self, document_id: str, kind: str = "audio") -> str:
        return f"https://{RECORDING_HOST}:{self._port()}/v1/objects/{document_id}/content/{kind}"

    def serve(self, method: str, path: str, raw_target: str, headers: Mapping[str, str], endpoint_netloc: str,
              access_key_b64: str, bearer: Callable[[str], str | None] | None) -> Served | None:
        """(status, headers, body) for a download request, or None when the path is not a recording object."""
        match = _OBJECT.match(path)
        if match is None or method != "GET":
            return None
        denied = _auth_problem(raw_target, headers, endpoint_netloc, access_key_b64, bearer)
        if denied is not None:
            return 401, {"Content-Type": "application/json"}, _error("Unauthorized", denied)
        with self._lock:
            body = self.documents.get(match["doc"])
        if body is None:
            return 404, {"Content-Type": "application/json"}, _error("NotFound", "Document not found.")
        if match["kind"] == "acsmetadata":
            body = b'{"chunkDocumentId": "' + match["doc"].encode() + b'"}'
        return _ranged(body, headers.get("range"), "audio/wav" if match["kind"] == "audio" else "application/json")


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def _auth_problem(raw_target: str, headers: Mapping[str, str], endpoint_netloc: str, access_key_b64: str,
                  bearer: Callable[[str], str | None] | None) -> str | None:
    authorization = headers.get("authorization", "")
    if authorization.startswith("Bearer ") and bearer is not None:
        return bearer(authorization[len("Bearer "):])
    # The SDK names the resource in x-ms-host and signs its endpoint's host (with port): verify against that.
    if headers.get("x-ms-host", "") != endpoint_netloc.split(":")[0]:
        return "x-ms-host must name the Communication Services resource."
    verdict = hmac_auth.verify(access_key_b64=access_key_b64, method="GET", path_and_query=raw_target,
                               headers={**headers, "host": endpoint_netloc}, body=b"")
    return None if verdict.ok else verdict.reason


def _ranged(body: bytes, range_header: str | None, content_type: str) -> Served:
    match = _RANGE.match(range_header or "")
    if match is None:
        return 200, {"Content-Type": content_type}, body
    start = int(match["start"])
    end = min(int(match["end"]) if match["end"] else len(body) - 1, len(body) - 1)
    return 206, {"Content-Type": content_type, "Content-Range": f"bytes {start}-{end}/{len(body)}"}, \
        body[start:end + 1]


def file_status_event(*, server_call_id: str, correlation_id: str, recording_id: str, document_id: str,
                      store: RecordingFileStore, started: datetime, duration_ms: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return [{
        "id": str(uuid.uuid4()),
        "topic": TOPIC,
        "subject": f"/recording/call/{correlation_id}/serverCallId/{server_call_id}/recordingId/{recording_id}",
        "data": {
            "recordingStorageInfo": {"recordingChunks": [{
                "documentId": document_id, "index": 0, "endReason": "SessionEnded",
                "contentLocation": store.location(document_id),
                "metadataLocation": store.location(document_id, "acsmetadata"),
                "deleteLocation": store.location(document_id).rsplit("/content/", 1)[0],
            }]},
            "recordingStartTime": started.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "recordingDurationMs": duration_ms,
            "sessionEndReason": "CallEnded",
        },
        "eventType": "Microsoft.Communication.RecordingFileStatusUpdated",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": now,
    }]
