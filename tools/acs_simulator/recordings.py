"""Call recordings the simulator runs: start, pause, resume, stop. No I/O.

Shapes from the REST spec (CallAutomation stable 2026-03-12): `POST /calling/recordings` with a
StartCallRecordingRequest (the call by `callLocator` {kind serverCallLocator, serverCallId} or by
`callConnectionId`) answers 200 RecordingStateResponse {recordingId, recordingState, recordingKind}
(example CallRecording_StartRecording.json: `recordingState` is `inactive` in the answer, the recording
becomes active afterwards); `POST /calling/recordings/{id}:pause` and `:resume` answer 202,
`DELETE /calling/recordings/{id}` 204, `GET` 200 RecordingStateResponse. RecordingState is `active` or
`inactive` (a pause and a stop both read `inactive`).

Content, channel and format (ACS "Call Recording overview", its table of outputs): audio + mixed is wav or mp3,
audio + unmixed is wav only, audioVideo + mixed is mp4; any other combination is refused with 400 (the
service's wording is not published). Left out, they are the service's default, audioVideo + mixed + mp4.
The simulator writes the file itself from the PCM it streamed, and only WAV it can write honestly: this
machine has no MP3 or MP4 encoder (no sox/ffmpeg/lame; Debian's sox lacks MP3 anyway), so a start asking for
mp3 or mp4 is refused with the same 400, naming why, rather than storing WAV bytes under another format's
name. Covered: audio + mixed + wav (one channel) and audio + unmixed + wav (written as one channel too: the
streamer keeps the mixed audio only; a real unmixed file has a channel per participant).

Where the service's answer is not published the simulator is strict: an unknown or stopped recording is
404, pausing a paused recording or resuming an active one is 400, and a second recording of a call while one
runs is 400. `RecordingStateChanged` callbacks go only to the start request's `recordingStateCallbackUri`;
without one the simulator sends none (the app always names it, so it does not depend on a default target).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

from tools.acs_simulator.acs_errors import AcsError, bad_request, not_found
from tools.acs_simulator.call_registry import CallConnection, CallRegistry

ACS_KIND = "azureCommunicationServices"


@dataclass
class Recording:
    recording_id: str
    call_connection_id: str
    callback_uri: str | None
    request: dict[str, Any]
    state: str = "active"  # active | paused | stopped (the simulator's own; the wire says active/inactive)

    @property
    def wire_state(self) -> str:
        return "active" if self.state == "active" else "inactive"

    def response(self, state: str = "") -> dict[str, Any]:
        return {"recordingId": self.recording_id, "recordingState": state or self.wire_state,
                "recordingKind": ACS_KIND}


def _new_recording_id() -> str:
    # Real ids are base64 JSON naming the platform endpoint (spec example); the same shape here.
    inner = {"PlatformEndpointId": str(uuid.uuid4()), "ResourceSpecificId": str(uuid.uuid4())}
    return base64.b64encode(json.dumps(inner, separators=(",", ":")).encode()).decode()


def _external_storage_problem(storage: Any) -> str | None:
    """ExternalStorage (REST spec: recordingStorageKind required, azureCommunicationServices or azureBlobStorage;
    recordingDestinationContainerUrl). Stricter than documented: a blob container needs its https URL (the SDK
    refuses AzureBlobContainerRecordingStorage without one, _utils.build_external_storage)."""
    if storage is None:
        return None
    if not isinstance(storage, dict):
        return "externalStorage must be an object."
    kind, url = storage.get("recordingStorageKind"), storage.get("recordingDestinationContainerUrl")
    if kind not in ("azureCommunicationServices", "azureBlobStorage"):
        return "externalStorage.recordingStorageKind is invalid."
    if kind == "azureBlobStorage" and not (isinstance(url, str) and url.startswith("https://")):
        return "externalStorage.recordingDestinationContainerUrl must be an https container URL."
    return None


# (content, channel, format) the service records (Call Recording overview).
SERVICE_OUTPUTS = frozenset({("audio", "mixed", "wav"), ("audio", "mixed", "mp3"), ("audio", "unmixed", "wav"),
                             ("audioVideo", "mixed", "mp4")})
SIMULATED_FORMATS = frozenset({"wav"})


def _output_problem(body: dict[str, Any]) -> str | None:
    output = (body.get("recordingContentType") or "audioVideo", body.get("recordingChannelType") or "mixed",
              body.get("recordingFormatType") or "mp4")
    shown = " + ".join(str(part) for part in output)
    if output not in SERVICE_OUTPUTS:
        return f"Invalid recording output: {shown} is not a supported content, channel and format combination."
    if output[2] not in SIMULATED_FORMATS:
        return (f"Invalid recording output: {shown} is not produced by the simulator, which writes wav only "
                "(no encoder for this format on this machine).")
    return None


class RecordingRegistry:
    def __init__(self, calls: CallRegistry) -> None:
        self._calls = calls
        self.recordings: dict[str, Recording] = {}

    def _call_of(self, body: dict[str, Any]) -> CallConnection | AcsError:
        locator = body.get("callLocator")
        if isinstance(locator, dict):
            if locator.get("kind") not in (None, "serverCallLocator") or not locator.get("serverCallId"):
                return bad_request("Only a serverCallLocator with a serverCallId locates a call here.")
            for connection in self._calls.connections.values():
                if connection.offered.server_call_id == locator["serverCallId"]:
                    return self._calls.live(connection.call_connection_id)
            return not_found("No call found for the serverCallId.")
        connection_id = body.get("callConnectionId")
        if isinstance(connection_id, str) and connection_id:
            return self._calls.live(connection_id)
        return bad_request("Either callLocator or callConnectionId is required.")

    def start(self, body: dict[str, Any]) -> Recording | AcsError:
        call = self._call_of(body)
        if isinstance(call, AcsError):
            return call
        if call.state != "connected":
            return bad_request("Call is not established yet.")
        problem = _external_storage_problem(body.get("externalStorage")) or _output_problem(body)
        if problem is not None:
            return bad_request(problem)
        if any(r.call_connection_id == call.call_connection_id and r.state != "stopped"
               for r in self.recordings.values()):
            return bad_request("Recording already in progress for this call.")
        uri = body.get("recordingStateCallbackUri")
        recording = Recording(_new_recording_id(), call.call_connection_id, uri if isinstance(uri, str) else None,
                              body, "paused" if body.get("pauseOnStart") is True else "active")
        self.recordings[recording.recording_id] = recording
        return recording

    def get(self, recording_id: str) -> Recording | AcsError:
        recording = self.recordings.get(recording_id)
        if recording is None or recording.state == "stopped":
            return not_found(f"Recording {recording_id[:80]} not found.")
        return recording

    def change(self, recording_id: str, operation: str) -> Recording | AcsError:
        """pause_recording, resume_recording or stop_recording."""
        recording = self.get(recording_id)
        if isinstance(recording, AcsError):
            return recording
        if operation == "pause_recording" and recording.state != "active":
            return bad_request("Recording is not active.")
        if operation == "resume_recording" and recording.state != "paused":
            return bad_request("Recording is not paused.")
        recording.state = {"pause_recording": "paused", "resume_recording": "active",
                           "stop_recording": "stopped"}[operation]
        return recording
