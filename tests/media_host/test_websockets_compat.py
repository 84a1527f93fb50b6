"""The start-up check that guards the one private websockets hook (media_host/inline_connection.py)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.connection import Connection
from websockets.version import version

from media_host.inline_connection import check_websockets_compatible
from media_host.server import serve_media_host
from shared.settings import SettingsError


def test_the_pinned_websockets_passes_the_check() -> None:
    check_websockets_compatible()


def test_a_changed_private_hook_stops_the_media_host_at_start_naming_the_version(media_config, monkeypatch) -> None:
    def process_event(self: Connection, event: object, extra: object) -> None:  # a new shape, as an upgrade might
        return None

    monkeypatch.setattr(Connection, "process_event", process_event)

    async def start() -> None:
        async with serve_media_host(media_config, host="127.0.0.1", port=0):
            pytest.fail("the media host started with an incompatible websockets")

    with pytest.raises(SettingsError) as raised:
        asyncio.run(start())
    assert f"websockets {version} " in str(raised.value)
    assert "Connection.process_event(event)" in str(raised.value)


def test_a_missing_private_hook_is_named(monkeypatch) -> None:
    monkeypatch.delattr(Connection, "send_data")
    with pytest.raises(SettingsError, match=r"Connection\.send_data\(\)"):
        check_websockets_compatible()
