"""Activity `download_call_recording`: one chunk of the call's recording, from ACS into `calls/{id}/`.

The chunk's content location came from `RecordingFileStatusUpdated` and was checked against the hosts the SDK
downloads from (shared/recording_file_event.py); the SDK checks it again (recording_url_validator) before it
signs the request. The download streams (CallAutomationClient.download_recording, azure-communication-
callautomation 1.6) into a block blob written only if absent (If-None-Match: *): a retried activity or an
event delivered twice stores one file, and the first complete upload wins (a block blob's commit is atomic).
"""

from __future__ import annotations

import logging

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings

from calls import app_context
from calls.activity_telemetry import traced_activity
from calls.call_orchestration.blueprint import activity_input, bp
from shared import blob_names
from shared.call_activity_names import DOWNLOAD_RECORDING
from shared.call_token import is_valid_instance_id
from shared.recording_file_event import is_downloadable_location

log = logging.getLogger(__name__)
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


@bp.activity_trigger(input_name="payload", activity=DOWNLOAD_RECORDING)
@traced_activity(DOWNLOAD_RECORDING)
def download_call_recording(payload: object) -> dict[str, object]:
    request = activity_input(payload)
    instance_id, location, index = request.get("instanceId"), request.get("contentLocation"), request.get("index")
    if not isinstance(instance_id, str) or not is_valid_instance_id(instance_id) or not isinstance(index, int) \
            or not isinstance(location, str) or not is_downloadable_location(location):
        return {"status": "rejected", "error": "invalid download request"}
    extension = app_context.recording_settings().format
    name = blob_names.recording_blob(instance_id, index, extension)
    blob = app_context.transcripts_container().get_blob_client(name)
    if blob.exists():
        return {"status": "stored", "blob": name, "url": blob.url, "repeated": True}
    try:
        stream = app_context.call_automation_client().download_recording(location)
    except ResourceNotFoundError:
        # ACS keeps a file for a limited time (48 hours); a late or forged event names one no longer there.
        return {"status": "gone", "error": "the recording is no longer available"}
    try:
        blob.upload_blob(stream.iter_bytes() if hasattr(stream, "iter_bytes") else stream, overwrite=False,
                         content_settings=ContentSettings(content_type=CONTENT_TYPES.get(extension)))
    except ResourceExistsError:
        return {"status": "stored", "blob": name, "url": blob.url, "repeated": True}
    log.info("Recording chunk %d of %s stored in %s", index, instance_id, name)
    return {"status": "stored", "blob": name, "url": blob.url}
