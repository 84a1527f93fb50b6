"""The call's recording files, as the call machine knows them: which ones ACS said are ready, which are stored
in `calls/{id}/`, and how long the summary waits for them. Pure.

Without bring-your-own-storage ACS keeps the file and announces it with `RecordingFileStatusUpdated`
(shared/recording_file_event.py), usually after the recording stopped, so after the call ended: the summary
(whose email links the file) waits for it up to `FILE_WAIT_SECONDS` after the call would otherwise be
summarised. With bring-your-own-storage ACS writes the file into the `recordings` container itself, and there
is nothing to wait for or download.

Event Grid delivers at least once: a chunk is taken once, by its content location, so the same event
arriving twice starts one download (the activity's blob write is conditional too: calls/call_orchestration/
recording_activities.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.recording_file_event import MAX_CHUNKS, MAX_LOCATION_CHARS, is_downloadable_location

# Long enough for ACS to publish a short call's file (typically well within a minute of the stop), short
# enough that a lost event delays the email by minutes, not hours.
FILE_WAIT_SECONDS = 180
MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class StoredFile:
    blob: str
    url: str


@dataclass(frozen=True)
class RecordingFiles:
    taken: tuple[str, ...] = ()  # content locations already downloaded or downloading
    stored: tuple[StoredFile, ...] = ()
    downloading: int = 0
    wait_until: datetime | None = None  # set when the call is otherwise ready for its summary
    gave_up: bool = False


@dataclass(frozen=True)
class Download:
    """One chunk to download: the activity's input."""

    recording_id: str
    document_id: str
    index: int
    content_location: str

    def to_input(self, instance_id: str) -> dict[str, object]:
        return {"instanceId": instance_id, "recordingId": self.recording_id, "documentId": self.document_id,
                "index": self.index, "contentLocation": self.content_location}


def _downloads(payload: Mapping[str, object]) -> list[Download]:
    """The chunks of a raised RecordingFileReady, re-checked here: the inbox is the machine's trust boundary."""
    recording_id, chunks = payload.get("recordingId"), payload.get("chunks")
    if not isinstance(recording_id, str) or not isinstance(chunks, list):
        return []
    found = []
    for chunk in chunks[:MAX_CHUNKS]:
        if not isinstance(chunk, Mapping):
            continue
        location, document_id, index = chunk.get("contentLocation"), chunk.get("documentId"), chunk.get("index")
        if isinstance(location, str) and is_downloadable_location(location) and isinstance(document_id, str) \
                and isinstance(index, int) and not isinstance(index, bool):
            found.append(Download(recording_id[:512], document_id[:256], index, location[:MAX_LOCATION_CHARS]))
    return found


def on_file_ready(files: RecordingFiles, payload: Mapping[str, object]) -> tuple[RecordingFiles, list[Download]]:
    """ACS said chunks are ready: the ones not taken yet, to download now."""
    fresh: list[Download] = []
    taken = list(files.taken)
    for download in _downloads(payload):
        if download.content_location not in taken:
            taken.append(download.content_location)
            fresh.append(download)
    return replace(files, taken=tuple(taken), downloading=files.downloading + len(fresh)), fresh


def on_downloaded(files: RecordingFiles, result: Mapping[str, object]) -> tuple[RecordingFiles, str | None]:
    """A download activity finished: the files and the blob stored (None when it failed)."""
    files = replace(files, downloading=max(0, files.downloading - 1))
    blob, url = result.get("blob"), result.get("url")
    if result.get("status") != "stored" or not isinstance(blob, str) or not isinstance(url, str):
        # Failed after its retries (or the file is gone): waiting longer would only delay the summary.
        return replace(files, gave_up=not files.downloading and not files.stored), None
    if any(stored.blob == blob for stored in files.stored):
        return files, blob
    return replace(files, stored=(*files.stored, StoredFile(blob[:256], url[:MAX_URL_CHARS]))), blob


def holds_summary(files: RecordingFiles, expects_file: bool, now: datetime) -> tuple[RecordingFiles, bool]:
    """Whether the summary waits now: a download runs, or a file is expected and not stored yet (the wait
    starts the first time the call is otherwise ready for its summary)."""
    if files.downloading:
        return files, True
    if not expects_file or files.stored or files.gave_up:
        return files, False
    if files.wait_until is None:
        return replace(files, wait_until=now + timedelta(seconds=FILE_WAIT_SECONDS)), True
    return files, files.wait_until > now


def deadline(files: RecordingFiles) -> datetime | None:
    """When the machine should look again: the end of the wait for the file."""
    return files.wait_until if not files.gave_up and not files.stored else None


def on_wait_over(files: RecordingFiles, now: datetime) -> tuple[RecordingFiles, bool]:
    """The timer fired: True when this ended the wait for a file that never came."""
    if files.gave_up or files.stored or files.wait_until is None or files.wait_until > now or files.downloading:
        return files, False
    return replace(files, gave_up=True), True


def summary_fields(files: RecordingFiles) -> dict[str, object]:
    """Added to the summary's input (shared/summary.py): the first stored file's link."""
    return {"recording_url": files.stored[0].url} if files.stored else {}


def output_fields(files: RecordingFiles) -> dict[str, object]:
    """Added to the orchestration's output, which the story reads."""
    if not files.stored:
        return {}
    return {"recordings": [{"blob": stored.blob, "url": stored.url} for stored in files.stored]}


def stored_in_output(output: Mapping[str, object]) -> list[dict[str, str]]:
    """The stored files an orchestration's output names (for the story), web links only."""
    listed = output.get("recordings")
    found = []
    for item in listed[:MAX_CHUNKS] if isinstance(listed, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("blob"), str) and isinstance(item.get("url"), str) \
                and str(item["url"]).startswith(("https://", "http://")):
            found.append({"blob": str(item["blob"])[:256], "url": str(item["url"])[:MAX_URL_CHARS]})
    return found
