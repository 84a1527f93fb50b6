"""Recording files in the pure core: the RecordingFileStatusUpdated parser (strict, SDK-host locations only)
and the call machine taking each chunk once, waiting for the file before its summary, and linking it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared import recording_files as files_ops
from shared.call_activity_names import DOWNLOAD_RECORDING, LOAD_FLOW, PREPARE_SUMMARY, RUN_ACTION
from shared.json_body import BadRequest
from shared.recording_file_event import RECORDING_FILE_READY, parse_recording_file_status
from tests.shared.test_call_machine import Driver

SERVER_CALL = "aHR0cHM6Ly9hcGkvdjIvY3AvY29udi9fdEpPSEpzRXRFNmNHNnd5X1ZTcGZBP2k9MTA="
RECORDING = "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiIx/In0="  # base64: may hold "/"
LOCATION = "https://us-storage.asm.skype.com/v1/objects/0-eus-d12-801b3f3fc462fe8a01e6810cbff729b8/content/audio"


def _data(location: str = LOCATION, chunks: int = 1) -> dict[str, object]:
    return {"recordingStorageInfo": {"recordingChunks": [
        {"documentId": f"0-eus-d12-{index}", "index": index, "endReason": "SessionEnded",
         "contentLocation": location.replace("content/audio", f"{index}/content/audio"),
         "metadataLocation": location.replace("audio", "acsmetadata")} for index in range(chunks)]},
        "recordingStartTime": "2026-03-01T12:00:01Z", "recordingDurationMs": 6620, "sessionEndReason": "CallEnded"}


def test_the_documented_event_is_read_with_its_server_call_and_recording_ids() -> None:
    status = parse_recording_file_status(f"/recording/call/c-1/serverCallId/{SERVER_CALL}/recordingId/{RECORDING}",
                                         _data(chunks=2))
    assert (status.server_call_id, status.recording_id) == (SERVER_CALL, RECORDING)
    assert [chunk.index for chunk in status.chunks] == [0, 1] and status.duration_ms == 6620
    assert status.inbox_payload()["chunks"][0]["contentLocation"].startswith("https://us-storage.asm.skype.com/")
    older = parse_recording_file_status(f"/recording/call/c-1/recordingId/{RECORDING}", _data())
    assert older.server_call_id is None  # the older subject form: no call to find


@pytest.mark.parametrize(("subject", "data", "path"), [
    ("/recording/call/c/recordingId/r", _data("http://us-storage.asm.skype.com/x/content/audio"),
     "data.recordingStorageInfo.recordingChunks[0].contentLocation"),
    ("/recording/call/c/recordingId/r", _data("https://asm.skype.com.evil.example/content/audio"),
     "data.recordingStorageInfo.recordingChunks[0].contentLocation"),
    ("/recording/call/c/recordingId/r", {"recordingStorageInfo": {"recordingChunks": []}},
     "data.recordingStorageInfo.recordingChunks"),
    ("/recording/call/c/recordingId/r", {"recordingStorageInfo": "x"}, "data.recordingStorageInfo"),
    ("/recording/call/c/recordingId/r", [], "data"),
    ("/calls/c", _data(), "subject"),
])
def test_malformed_events_are_refused_with_the_path(subject: str, data: object, path: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_recording_file_status(subject, data)
    assert refused.value.path == path


def _recorded_call(result: dict[str, object] | None = None) -> Driver:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    driver.event("CallConnected", callConnectionId="cc-1")
    action = {"actionId": str(uuid.uuid4()), "action": "start_recording", "source": "api"}
    driver.event("CallActionRequested", **action)
    driver.done(RUN_ACTION, result or {"status": "accepted", "recordingId": RECORDING})
    return driver


def _file_ready(driver: Driver, location: str = LOCATION, after: float = 0) -> None:
    driver.event(RECORDING_FILE_READY, after=after, recordingId=RECORDING, chunks=[
        {"documentId": "0-eus-d12-1", "index": 0, "contentLocation": location, "endReason": "SessionEnded"}])


def _hang_up(driver: Driver) -> None:
    driver.event("CallDisconnected", after=2)
    driver.event("MediaStreamEnded")


def test_the_same_file_event_twice_starts_one_download_and_the_summary_links_the_file() -> None:
    driver = _recorded_call()
    _hang_up(driver)
    assert not driver.names(PREPARE_SUMMARY)  # waiting for the recording's file
    assert driver.wait.at == driver.now + timedelta(seconds=files_ops.FILE_WAIT_SECONDS)
    _file_ready(driver, after=5)
    _file_ready(driver)
    [download] = driver.names(DOWNLOAD_RECORDING)
    assert download.input["contentLocation"] == LOCATION and download.input["instanceId"] == "call-abc"
    assert not driver.names(PREPARE_SUMMARY)  # the download runs
    blob, url = "calls/call-abc/recording-0.wav", "https://st.blob.core.windows.net/transcripts/calls/call-abc/x"
    driver.done(DOWNLOAD_RECORDING, {"status": "stored", "blob": blob, "url": url})
    [summary] = driver.names(PREPARE_SUMMARY)
    assert summary.input["recording_url"] == url
    notes = [(entry.event, entry.detail) for entry in driver.state.record.timeline if entry.event.startswith("rec")]
    assert notes == [("recording_file_ready", "1 new chunk(s)"), ("recording_file_ready", "already taken"),
                     ("recording_stored", blob)]
    assert files_ops.output_fields(driver.state.recording_files) == {"recordings": [{"blob": blob, "url": url}]}


def test_a_file_that_never_comes_delays_the_summary_by_the_bounded_wait_only() -> None:
    driver = _recorded_call()
    _hang_up(driver)
    ended = driver.now
    driver.fire()
    assert driver.now == ended + timedelta(seconds=files_ops.FILE_WAIT_SECONDS)
    [summary] = driver.names(PREPARE_SUMMARY)
    assert "recording_url" not in summary.input
    assert driver.state.record.timeline[-1].event == "recording_file_missing"


def test_a_failed_download_is_noted_and_the_summary_goes_on() -> None:
    driver = _recorded_call()
    _file_ready(driver)
    _hang_up(driver)
    driver.done(DOWNLOAD_RECORDING, {"status": "gone", "error": "the recording is no longer available"})
    assert driver.names(PREPARE_SUMMARY)
    assert ("recording_failed", "download failed: the recording is no longer available") in [
        (entry.event, entry.detail) for entry in driver.state.record.timeline]


def test_byos_and_forged_locations_start_no_download() -> None:
    driver = _recorded_call({"status": "accepted", "recordingId": RECORDING, "externalStorage": True})
    _file_ready(driver)
    assert not driver.names(DOWNLOAD_RECORDING)
    _hang_up(driver)
    assert driver.names(PREPARE_SUMMARY)  # nothing to wait for: ACS wrote the file into our container
    forged = _recorded_call()
    _file_ready(forged, "https://evil.example/v1/objects/x/content/audio")
    assert not forged.names(DOWNLOAD_RECORDING)


def test_no_recording_no_wait() -> None:
    driver = Driver().begin()
    driver.done(LOAD_FLOW, {})
    driver.event("CallConnected", callConnectionId="cc-1")
    _hang_up(driver)
    assert driver.names(PREPARE_SUMMARY)


def test_the_email_links_the_recording_escaped_and_refuses_non_web_links() -> None:
    from shared.summary import summary_input_from_dict
    from shared.summary_render import render_summary

    fields = {"instance_id": "call-abc", "outcome": "completed", "connected_at": "2026-03-01T12:00:01Z",
              "recording_url": 'https://st.example/r.wav?a=1&b="><script>'}
    rendered = render_summary(summary_input_from_dict(fields), [])
    assert 'href="https://st.example/r.wav?a=1&amp;b=&quot;&gt;&lt;script&gt;"' in rendered.html
    assert "<script>" not in rendered.html
    assert 'Recording: https://st.example/r.wav?a=1&b="><script>' in rendered.plain_text
    with pytest.raises(BadRequest) as refused:
        summary_input_from_dict({**fields, "recording_url": "javascript:alert(1)"})
    assert refused.value.path == "recording_url"


def test_the_story_lists_only_web_links_and_the_page_escapes_them() -> None:
    from shared.call_story_page import render_call_story_page

    output = {"recordings": [{"blob": "calls/x/recording-0.wav", "url": "https://st.example/a?b=1&c=<2>"},
                             {"blob": "calls/x/y", "url": "javascript:alert(1)"}, "junk"]}
    listed = files_ops.stored_in_output(output)
    assert listed == [{"blob": "calls/x/recording-0.wav", "url": "https://st.example/a?b=1&c=<2>"}]
    page = render_call_story_page({"instanceId": "x", "recordings": listed})
    assert '<a href="https://st.example/a?b=1&amp;c=&lt;2&gt;">calls/x/recording-0.wav</a>' in page


@pytest.mark.parametrize("value", ["http://st.blob.core.windows.net/recordings",
                                   "https://st.blob.core.windows.net/recordings?sv=2024&sig=x", "recordings"])
def test_byos_container_must_be_an_https_url_without_a_sas(value: str) -> None:
    from shared.recording_settings import load_recording_settings
    from shared.settings import SettingsError

    with pytest.raises(SettingsError, match="RECORDING_STORAGE_CONTAINER_URL"):
        load_recording_settings({"RECORDING_STORAGE_CONTAINER_URL": value})
