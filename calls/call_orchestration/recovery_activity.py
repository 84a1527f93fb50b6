"""The media recovery activity (shared/media_recovery.py): start a lost stream again on the call.

`start_media_streaming` reuses the answer's `mediaStreamingOptions.transportUrl` (StartMediaStreamingRequest
has only operationContext and operationCallbackUri: REST spec CallAutomation stable 2026-03-12,
examples/CallMedia_StartMediaStreaming.json, which ACS answers 202); `start_transcription` likewise reuses
`transcriptionOptions.transportUrl`. ACS's refusal is a result ({"status": "rejected", ...}), not a failure:
the recovery rule counts the attempt and decides on the next one. The first restart after a media drop first
appends a gap marker line to the transcript (shared/transcript_lines.py), so the transcript says where audio
was lost; the media host's conditional appends give way to it (media_host/blob_store.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings

from calls import app_context
from calls.activity_telemetry import traced_activity
from calls.call_orchestration.blueprint import activity_input, bp
from shared import blob_names
from shared.call_activity_names import RESTART_STREAM
from shared.call_token import is_valid_instance_id
from shared.media_recovery import TRANSCRIPTION
from shared.pii import mask_phone_numbers_in_text
from shared.transcript_lines import gap_marker_line

log = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 200


def _append_gap_marker(instance_id: str) -> None:
    blob = app_context.transcripts_container().get_blob_client(blob_names.transcript_blob(instance_id))
    line = gap_marker_line(datetime.now(UTC).isoformat().replace("+00:00", "Z")).encode("utf-8")
    try:
        blob.append_block(line)
    except ResourceNotFoundError:
        try:  # nothing was transcribed before the drop: the marker opens the transcript
            blob.create_append_blob(content_settings=ContentSettings(content_type="application/x-ndjson"))
        except ResourceExistsError:
            pass
        blob.append_block(line)


def _start(request: Mapping[str, object]) -> None:
    connection = app_context.call_automation_client().get_call_connection(str(request.get("callConnectionId", "")))
    context = str(request.get("operationContext") or "")[:100] or None
    if request.get("stream") == TRANSCRIPTION:
        connection.start_transcription(locale=app_context.transcription_settings().locale, operation_context=context)
    else:
        connection.start_media_streaming(operation_context=context)


@bp.activity_trigger(input_name="payload", activity=RESTART_STREAM)
@traced_activity(RESTART_STREAM)
def restart_media_stream(payload: object) -> dict[str, object]:
    try:
        request = activity_input(payload)
    except ValueError as error:
        return {"status": "rejected", "message": str(error)}
    instance_id = request.get("instanceId")
    if request.get("gapMarker") is True and isinstance(instance_id, str) and is_valid_instance_id(instance_id):
        try:
            _append_gap_marker(instance_id)
        except AzureError as error:  # the restart matters more than the marker
            log.warning("gap marker not written for %s: %s", instance_id, type(error).__name__)
    try:
        _start(request)
    except ResourceNotFoundError:
        return {"status": "gone", "message": "the call no longer exists"}
    except HttpResponseError as error:
        first_line = (error.message or type(error).__name__).splitlines()[0]
        return {"status": "rejected", "code": error.status_code,
                "message": mask_phone_numbers_in_text(first_line[:MAX_MESSAGE_CHARS])}
    except AzureError as error:
        return {"status": "failed", "message": type(error).__name__}
    return {"status": "accepted"}
