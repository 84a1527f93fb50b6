"""A Table storage client for one of the app's own tables in its storage account, created on first use.

Identity-based in Azure (infra grants the app's identity Storage Table Data Contributor on the account), a
connection string on Azurite. Retries are bounded like the blob clients': no caller should wait on storage's
default long backoff. The call index, the outbound rate limit and the digest markers use it.
"""

from __future__ import annotations

import functools
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient

from shared.settings import StorageSettings

_RETRY: dict[str, Any] = {"retry_total": 3, "retry_backoff_factor": 0.4, "retry_backoff_max": 4,
                          "connection_timeout": 5, "read_timeout": 10}


class TablesUnavailable(RuntimeError):
    """The deployment names no table endpoint."""


@functools.cache
def table_client(storage: StorageSettings, name: str) -> TableClient:
    if storage.connection_string is not None:
        service = TableServiceClient.from_connection_string(storage.connection_string, **_RETRY)
    elif storage.table_service_uri is not None:
        from azure.identity import DefaultAzureCredential

        service = TableServiceClient(storage.table_service_uri, credential=DefaultAzureCredential(), **_RETRY)
    else:
        raise TablesUnavailable("no table endpoint: set AzureWebJobsStorage__accountName or __tableServiceUri")
    client = service.get_table_client(name)
    try:
        client.create_table()
    except ResourceExistsError:
        pass
    return client
