"""The simulator's recording files, through the real SDK: bring-your-own-storage's externalStorage as the
product sends it, and the download of a file ACS keeps from its https storage host (*.asm.skype.com, resolved
to loopback here), signed with HMAC for the ACS endpoint like every other request."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError

from calls.call_action_runner import run_recording_action
from shared.call_actions import START_RECORDING, CallAction
from shared.recording_settings import load_recording_settings
from tests.tools.test_acs_simulator_recording import _answered
from tests.tools.test_acs_simulator_rest import ACCESS_KEY, call_client
from tools.acs_simulator import AcsSimulatorServer
from tools.acs_simulator.local_tls import LocalTls, create_local_tls
from tools.acs_simulator.loopback_names import resolve_to_loopback
from tools.acs_simulator.recording_files import RECORDING_HOST, wav_bytes

CONTAINER = "https://stcalls.blob.core.windows.net/recordings"


@pytest.fixture
def tls(tmp_path: Path) -> LocalTls:
    return create_local_tls(tmp_path / "tls")


@pytest.fixture
def simulator(tmp_path: Path, tls: LocalTls) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(ACCESS_KEY, eml_dir=tmp_path / "eml") as server, resolve_to_loopback(RECORDING_HOST):
        server.serve_recording_storage(tls)
        yield server


def test_byos_start_carries_external_storage_and_is_reported(simulator: AcsSimulatorServer) -> None:
    server_call_id = _answered(simulator)
    settings = load_recording_settings({"CALL_RECORDING": "audio", "RECORDING_STORAGE_CONTAINER_URL": CONTAINER})
    action = CallAction("a1", START_RECORDING, "api")
    result = run_recording_action(call_client(simulator), action, settings, server_call_id, None,
                                  "https://app.example.test/cb")
    assert result["status"] == "accepted" and result["externalStorage"] is True
    (start,) = simulator.requests_for("start_recording")
    # REST spec StartCallRecordingRequest.externalStorage: ExternalStorage {recordingStorageKind, ...Url}.
    assert start.json["externalStorage"] == {"recordingStorageKind": "azureBlobStorage",
                                             "recordingDestinationContainerUrl": CONTAINER}


def test_an_mp3_recording_is_refused_not_written_as_wav(simulator: AcsSimulatorServer) -> None:
    settings = load_recording_settings({"CALL_RECORDING": "audio", "CALL_RECORDING_FORMAT": "mp3"})
    result = run_recording_action(call_client(simulator), CallAction("a1", START_RECORDING, "api"), settings,
                                  _answered(simulator), None, None)
    assert result["status"] == "rejected" and result["code"] == 400
    assert "not produced by the simulator" in str(result["message"])
    assert simulator.recording_files.documents == {}


def test_without_byos_the_request_names_no_external_storage(simulator: AcsSimulatorServer) -> None:
    server_call_id = _answered(simulator)
    settings = load_recording_settings({"CALL_RECORDING": "audio"})
    result = run_recording_action(call_client(simulator), CallAction("a1", START_RECORDING, "api"), settings,
                                  server_call_id, None, None)
    assert result["status"] == "accepted" and "externalStorage" not in result
    assert "externalStorage" not in simulator.requests_for("start_recording")[0].json


def test_a_kept_file_downloads_with_the_sdk_whole_and_in_ranges(simulator: AcsSimulatorServer, tls: LocalTls) -> None:
    body = wav_bytes(bytes(range(256)) * 40, 16000)
    document = simulator.recording_files.add(body)
    location = simulator.recording_files.location(document)
    assert location.startswith(f"https://{RECORDING_HOST}:{simulator.storage_port}/v1/objects/")
    client = call_client(simulator)
    assert b"".join(client.download_recording(location, connection_verify=str(tls.ca_path)).iter_bytes()) == body
    part = client.download_recording(location, offset=4, length=4, connection_verify=str(tls.ca_path))
    assert (part.status_code, part.read()) == (206, body[4:8])
    with wave.open(BytesIO(body)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
    with pytest.raises(ResourceNotFoundError):
        client.download_recording(location.replace(document, "0-sim-d1-unknown"), connection_verify=str(tls.ca_path))
    with pytest.raises(ClientAuthenticationError):
        call_client(simulator, key="d3Jvbmcta2V5").download_recording(location, connection_verify=str(tls.ca_path))
    # Unsigned, or signed for another resource: refused like any other request.
    assert requests.get(location, verify=str(tls.ca_path), timeout=10).status_code == 401
    downloads = [(r.status, r.headers.get("x-ms-host")) for r in simulator.requests_for("download_recording")]
    assert downloads[:2] == [(200, "127.0.0.1"), (206, "127.0.0.1")]
    assert [status for status, _ in downloads[2:]] == [404, 401, 401]
