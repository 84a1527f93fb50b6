"""The summary activities against Azurite and the ACS simulator (real Blob and Email SDK clients)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from shared import blob_names
from tests.conftest import TEST_ACS_ACCESS_KEY, FunctionApp
from tools.acs_simulator import AcsSimulatorServer

INSTANCE = "call-5e1f0000000000000000000000000001"
FAILING = "call-5e1f0000000000000000000000000002"
HOSTILE = 'I said <script>alert("x")</script> & <b>bold</b>'


@pytest.fixture
def simulator(tmp_path: Path, app_env: pytest.MonkeyPatch) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(TEST_ACS_ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        app_env.setenv("ACS_ENDPOINT", server.endpoint)
        yield server


def _write_transcript(connection_string: str, lines: list[dict], instance: str = INSTANCE) -> None:
    container = BlobServiceClient.from_connection_string(connection_string).get_container_client("transcripts")
    if not container.exists():
        container.create_container()
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    container.upload_blob(blob_names.transcript_blob(instance), body, overwrite=True)


def _call_fields(instance: str = INSTANCE) -> dict[str, object]:
    return {"instance_id": instance, "caller": "4:+1 555 *** **67", "callee": "4:+1 800 *** **99",
            "outcome": "completed", "ringing_at": "2026-11-25T10:00:00Z", "connected_at": "2026-11-25T10:00:02Z",
            "ended_at": "2026-11-25T10:02:07Z", "end_reason": None, "timeline": [], "media": None,
            "partial": False}


def test_summary_is_rendered_escaped_and_emailed_exactly_once(
        function_app: FunctionApp, simulator: AcsSimulatorServer, azurite_connection_string: str) -> None:
    _write_transcript(azurite_connection_string, [
        {"speaker": "4:+15551234567", "text": HOSTILE, "offsetMs": 1200, "durationMs": 900, "confidence": 0.9,
         "source": "acs"}])
    prepared = function_app.activity("prepare_call_summary", _call_fields())
    assert prepared["summaryBlob"] == blob_names.summary_blob(INSTANCE)

    first = function_app.activity("send_summary_email", {"instanceId": INSTANCE,
                                                         "summaryBlob": prepared["summaryBlob"]})
    again = function_app.activity("send_summary_email", {"instanceId": INSTANCE,
                                                         "summaryBlob": prepared["summaryBlob"]})
    assert first["status"] == "Succeeded"
    assert again["operationId"] == first["operationId"] and again["repeated"] is True
    (delivered,) = simulator.emails
    assert delivered.to == ("ops@calls.test", "lead@calls.test")
    assert "<script>" not in (delivered.html or "")
    assert "&lt;script&gt;" in (delivered.html or "")
    # The speaker's number is masked everywhere; what the caller said is kept as said, only escaped.
    assert "+15551234567" not in (delivered.html or "") + (delivered.plain_text or "") + delivered.subject
    assert "+1 555 *** **67" in (delivered.plain_text or "")
    assert "2 min 5 s" in delivered.subject


def test_email_still_failing_after_the_client_retries_raises_for_durable_to_retry(
        function_app: FunctionApp, simulator: AcsSimulatorServer, azurite_connection_string: str) -> None:
    _write_transcript(azurite_connection_string, [], FAILING)
    prepared = function_app.activity("prepare_call_summary", {**_call_fields(FAILING), "outcome": "missed",
                                                               "connected_at": None})
    simulator.faults.fail_next("email", status=500, times=50)
    with pytest.raises(Exception):  # noqa: B017 - the SDK's error type is not the point: the activity fails
        function_app.activity("send_summary_email", {"instanceId": FAILING, "summaryBlob": prepared["summaryBlob"]})
    assert simulator.emails == []
    summary = BlobServiceClient.from_connection_string(azurite_connection_string).get_blob_client(
        "transcripts", blob_names.summary_blob(FAILING)).download_blob().readall()
    assert "missed" in json.loads(summary)["subject"].lower()  # the summary is kept for a later attempt


def test_a_summary_that_failed_for_good_still_gets_an_email_from_the_record(
        function_app: FunctionApp, simulator: AcsSimulatorServer, tmp_path: Path) -> None:
    instance = "call-5e1f0000000000000000000000000003"
    fallback = {**_call_fields(instance), "transcription": "not_configured", "summary_error": "blob down"}
    sent = function_app.activity("send_summary_email", {"instanceId": instance, "call": fallback})
    assert sent["status"] == "Succeeded"
    (eml,) = sorted((tmp_path / "eml").glob("*.eml"))
    text = eml.read_text()
    assert "could not be prepared (blob down)" in text and "ACS_COGNITIVE_SERVICES_ENDPOINT" in text
