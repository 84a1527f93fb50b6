"""Fixtures for the media host: its config against Azurite, blob reading, ACS-like messages."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from media_host.config import MediaHostConfig, load_media_host_config
from tests.conftest import TEST_CALL_TOKEN_SECRET


@pytest.fixture
def container_name() -> str:
    return f"t{uuid.uuid4().hex[:20]}"


@pytest.fixture
def media_env(azurite_connection_string: str, container_name: str) -> dict[str, str]:
    return {
        "CALL_TOKEN_SECRET": TEST_CALL_TOKEN_SECRET,
        "AzureWebJobsStorage": azurite_connection_string,
        "TRANSCRIPTS_CONTAINER": container_name,
        "MEDIA_HOST_PORT": "8080",
        "MEDIA_IDLE_TIMEOUT_SECONDS": "30",
    }


@pytest.fixture
def media_config(media_env: dict[str, str]) -> MediaHostConfig:
    return load_media_host_config(media_env)


@pytest.fixture
def read_blob(azurite_connection_string: str, container_name: str) -> Callable[[str], bytes | None]:
    service = BlobServiceClient.from_connection_string(azurite_connection_string)

    def read(name: str) -> bytes | None:
        try:
            return service.get_blob_client(container_name, name).download_blob().readall()
        except ResourceNotFoundError:
            return None

    return read


def audio_message(pcm: bytes, timestamp: str, silent: bool = False) -> str:
    return json.dumps({"kind": "AudioData", "audioData": {
        "timestamp": timestamp, "participantRawID": "4:+15551234567",
        "data": base64.b64encode(pcm).decode(), "silent": silent}})


def metadata_message(sample_rate: int = 16000) -> str:
    return json.dumps({"kind": "AudioMetadata", "audioMetadata": {
        "subscriptionId": "sub", "encoding": "PCM", "sampleRate": sample_rate, "channels": 1,
        "length": sample_rate // 50 * 2}})


def transcription_message(text: str, offset_ticks: int, duration_ticks: int, status: str = "Final") -> str:
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": {
        "text": text, "format": "display", "confidence": 0.8, "offset": offset_ticks, "duration": duration_ticks,
        "words": [], "participantRawID": "4:+15551234567", "resultStatus": status}})
