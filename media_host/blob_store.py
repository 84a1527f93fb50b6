"""Thin adapter over azure.storage.blob.aio for a call's blobs (names from shared.blob_names).

The container and the append blob are created lazily, on the first write that finds them missing, so a
normal append costs one request.
"""

from __future__ import annotations

from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobServiceClient

from shared.settings import StorageSettings

# Storage's default retry waits 15 s, then 18 s, ... inside one call: a brief outage would outlast the
# transcript's flush deadline. Short SDK retries; the append buffer and media.json writer retry on their own.
BLOB_RETRY: dict[str, Any] = {"retry_total": 2, "initial_backoff": 0.5, "increment_base": 2}


class CallBlobStore:
    def __init__(self, service: BlobServiceClient, container: str, credential: Any = None) -> None:
        self._service = service
        self._container = service.get_container_client(container)
        self._credential = credential

    @classmethod
    def from_settings(cls, storage: StorageSettings) -> CallBlobStore:
        if storage.connection_string is not None:
            return cls(BlobServiceClient.from_connection_string(storage.connection_string, **BLOB_RETRY),
                       storage.transcripts_container)
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
        service = BlobServiceClient(storage.blob_service_uri or "", credential=credential, **BLOB_RETRY)
        return cls(service, storage.transcripts_container, credential)

    async def _ensure_container(self) -> None:
        try:
            await self._container.create_container()
        except ResourceExistsError:
            pass

    async def append(self, blob_name: str, data: bytes, expected_offset: int | None = None) -> int:
        """Append `data` to the append blob, creating the container and the blob if missing. Returns the
        blob's length after the append.

        With `expected_offset` (the length after this writer's last append), a retry of an append whose
        outcome was unknown (timeout, connection reset) is not written twice: the service refuses the
        position, and if the bytes at that position are already `data`, the append had landed.
        """
        blob = self._container.get_blob_client(blob_name)
        try:
            result = await blob.append_block(data, appendpos_condition=expected_offset)
            return _end_of(result, data)
        except ResourceNotFoundError:
            pass
        except HttpResponseError as error:
            if getattr(error, "error_code", None) != "AppendPositionConditionNotMet" or expected_offset is None:
                raise
            try:
                landed = await (await blob.download_blob(offset=expected_offset, length=len(data))).readall()
            except HttpResponseError:  # shorter than expected (416): the bytes are not there
                landed = b""
            if landed == data:
                return expected_offset + len(data)
            # Someone else appended (a second socket for the same call): append at the new end.
            result = await blob.append_block(data)
            return _end_of(result, data)
        await self._ensure_container()
        try:
            # IfMissing: a reconnecting socket for the same call must not truncate the existing transcript.
            await blob.create_append_blob(
                content_settings=ContentSettings(content_type="application/x-ndjson"),
                match_condition=MatchConditions.IfMissing,
            )
        except ResourceExistsError:
            pass
        result = await blob.append_block(data)
        return _end_of(result, data)

    async def put(self, blob_name: str, data: bytes, content_type: str = "application/json") -> None:
        """Write (overwrite) a block blob, creating the container if missing."""
        blob = self._container.get_blob_client(blob_name)
        settings = ContentSettings(content_type=content_type)
        try:
            await blob.upload_blob(data, overwrite=True, content_settings=settings)
        except ResourceNotFoundError:
            await self._ensure_container()
            await blob.upload_blob(data, overwrite=True, content_settings=settings)

    async def get(self, blob_name: str) -> bytes | None:
        """A blob's content, or None when it (or its container) does not exist."""
        try:
            return bytes(await (await self._container.get_blob_client(blob_name).download_blob()).readall())
        except ResourceNotFoundError:
            return None

    async def close(self) -> None:
        await self._service.close()
        if self._credential is not None:
            await self._credential.close()


def _end_of(result: dict[str, Any], data: bytes) -> int:
    """The blob's length after an append: where the block landed plus its length."""
    return int(str(result["blob_append_offset"])) + len(data)
