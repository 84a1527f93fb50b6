"""tools.tcp_fault_proxy against a real Azurite: traffic passes, an outage refuses it, then it passes again."""

from __future__ import annotations

import time
import uuid

import pytest
from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from tools.tcp_fault_proxy import TcpFaultProxy, blob_port_of, via_proxy


def test_outage_refuses_connections_for_its_duration(azurite_connection_string: str) -> None:
    with TcpFaultProxy("127.0.0.1", blob_port_of(azurite_connection_string)) as proxy:
        service = BlobServiceClient.from_connection_string(via_proxy(azurite_connection_string, proxy.port),
                                                           retry_total=0)
        container = service.get_container_client(f"proxy{uuid.uuid4().hex[:12]}")
        container.create_container()
        proxy.outage(1.0)
        with pytest.raises(AzureError):
            container.upload_blob("x", b"x")
        assert proxy.refused + proxy.cut >= 1
        time.sleep(1.1)
        container.upload_blob("x", b"x")
        assert container.download_blob("x").readall() == b"x"
        container.delete_container()


def test_connection_string_rewrite() -> None:
    text = "AccountName=a;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/x;"
    assert blob_port_of(text) == 10000
    assert "BlobEndpoint=http://127.0.0.1:555/devstoreaccount1" in via_proxy(text, 555)
    assert "QueueEndpoint=http://127.0.0.1:10001/x" in via_proxy(text, 555)
