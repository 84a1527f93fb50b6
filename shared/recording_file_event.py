"""`Microsoft.Communication.RecordingFileStatusUpdated`: the Event Grid event saying a recording's file is ready.

Shape (Event Grid docs, "Azure Communication Services - Voice and video calling events", and the
azure-sdk-for-python eventgrid model AcsRecordingFileStatusUpdatedEventData / AcsRecordingChunkInfoProperties):
subject `/recording/call/{callId}/serverCallId/{serverCallId}/recordingId/{recordingId}`; data
`{recordingStorageInfo: {recordingChunks: [{documentId, index, endReason, contentLocation, metadataLocation,
deleteLocation?}]}, recordingStartTime, recordingDurationMs, sessionEndReason, recordingContentType?, ...}`.
The call is found by the subject's serverCallId (the call's instance id derives from it:
shared/call_token.py). Content locations are accepted only on the hosts the SDK itself will download from
(azure-communication-callautomation 1.6 recording_url_validator.ALLOWED_HOST_SUFFIXES, https only), so the
download activity is never asked to send ACS credentials elsewhere. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.json_body import (
    BadRequest,
    child_path,
    optional_int,
    optional_list,
    optional_str,
    require_object,
    require_str,
)

RECORDING_FILE_STATUS_UPDATED = "Microsoft.Communication.RecordingFileStatusUpdated"
# The inbox kind the events route raises on the call (shared/call_inbox.py).
RECORDING_FILE_READY = "RecordingFileReady"
ALLOWED_HOST_SUFFIXES = (".asm.skype.com", ".asyncgw.teams.microsoft.com", ".ams.gov.teams.microsoft.us")
MAX_CHUNKS = 32
MAX_LOCATION_CHARS = 1024
# Both ids are base64 and may hold "/": the server call id runs up to "/recordingId/", the recording id to the end.
_SUBJECT = re.compile(r"/recording/call/[^/]{1,256}(?:/serverCallId/(?P<server>.{1,1024}?))?"
                      r"/recordingId/(?P<recording>.{1,1024})")
_DOCUMENT_ID = re.compile(r"[A-Za-z0-9._-]{1,256}")


@dataclass(frozen=True)
class RecordingChunk:
    document_id: str
    index: int
    content_location: str
    end_reason: str | None

    def to_dict(self) -> dict[str, object]:
        return {"documentId": self.document_id, "index": self.index, "contentLocation": self.content_location,
                "endReason": self.end_reason}


@dataclass(frozen=True)
class RecordingFileStatus:
    server_call_id: str | None  # None: the older subject form without it
    recording_id: str
    chunks: tuple[RecordingChunk, ...]
    duration_ms: int | None
    session_end_reason: str | None

    def inbox_payload(self) -> dict[str, object]:
        """What the events route raises on the call's inbox (kind RECORDING_FILE_READY)."""
        return {"recordingId": self.recording_id, "chunks": [chunk.to_dict() for chunk in self.chunks],
                "durationMs": self.duration_ms, "sessionEndReason": self.session_end_reason}


def is_downloadable_location(location: str) -> bool:
    """https on an ACS recording host, as the SDK's own validator demands before it attaches credentials."""
    if len(location) > MAX_LOCATION_CHARS:
        return False
    parts = urlsplit(location)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host.endswith(suffix) for suffix in ALLOWED_HOST_SUFFIXES)


def _chunk(value: object, path: str) -> RecordingChunk:
    chunk = require_object(value, path)
    document_id = require_str(chunk, "documentId", path)
    if not _DOCUMENT_ID.fullmatch(document_id):
        raise BadRequest("not a recording document id", path=child_path(path, "documentId"))
    location = require_str(chunk, "contentLocation", path)
    if not is_downloadable_location(location):
        raise BadRequest("not an https location on an ACS recording host", path=child_path(path, "contentLocation"))
    optional_str(chunk, "metadataLocation", path)  # type-checked only: the metadata is not downloaded
    end_reason = optional_str(chunk, "endReason", path)
    return RecordingChunk(document_id, optional_int(chunk, "index", path) or 0, location,
                          end_reason[:80] if end_reason else None)


def parse_recording_file_status(subject: str | None, data: object, path: str = "data") -> RecordingFileStatus:
    """The event's subject and data; BadRequest (with a JSON path) for anything malformed."""
    match = _SUBJECT.fullmatch(subject or "")
    if match is None:
        raise BadRequest("expected /recording/call/{callId}/serverCallId/{id}/recordingId/{id}", path="subject")
    body = require_object(data, path)
    storage = require_object(body.get("recordingStorageInfo"), child_path(path, "recordingStorageInfo"))
    storage_path = child_path(path, "recordingStorageInfo")
    raw_chunks = optional_list(storage, "recordingChunks", storage_path) or []
    if not raw_chunks or len(raw_chunks) > MAX_CHUNKS:
        raise BadRequest(f"expected 1 to {MAX_CHUNKS} chunks", path=child_path(storage_path, "recordingChunks"))
    chunks = tuple(_chunk(item, child_path(child_path(storage_path, "recordingChunks"), index))
                   for index, item in enumerate(raw_chunks))
    optional_str(body, "recordingStartTime", path)
    end_reason = optional_str(body, "sessionEndReason", path)
    return RecordingFileStatus(match.group("server"), match.group("recording"), chunks,
                               optional_int(body, "recordingDurationMs", path),
                               end_reason[:80] if end_reason else None)
