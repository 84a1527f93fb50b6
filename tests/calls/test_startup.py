"""The function app's start-up: the SDK's one known noisy warning is dropped, and only that one."""

from __future__ import annotations

import logging

import pytest
from azure.communication.callautomation import StreamingTransportType, TranscriptionOptions

from calls.startup import SDK_SERIALIZATION_LOGGER, quiet_known_sdk_noise


def test_the_transcription_options_warning_is_dropped_and_others_are_kept(caplog: pytest.LogCaptureFixture,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The filter is process-wide, and importing function_app installs it: start from a logger without it.
    monkeypatch.setattr(logging.getLogger(SDK_SERIALIZATION_LOGGER), "filters", [])
    options = TranscriptionOptions(transport_url="wss://media.contoso.com/ws/x/y/transcription",
                                   transport_type=StreamingTransportType.WEBSOCKET, locale="en-US",
                                   start_transcription=True)
    with caplog.at_level(logging.WARNING, logger=SDK_SERIALIZATION_LOGGER):
        options._to_generated()  # what answer_call does with them
        noisy = [r for r in caplog.records if r.name == SDK_SERIALIZATION_LOGGER]
        assert noisy, "the pinned SDK no longer logs it: remove quiet_known_sdk_noise"
        caplog.clear()
        quiet_known_sdk_noise()
        quiet_known_sdk_noise()  # idempotent
        options._to_generated()
        logging.getLogger(SDK_SERIALIZATION_LOGGER).warning("some other serializer problem")
    assert [r.getMessage() for r in caplog.records if r.name == SDK_SERIALIZATION_LOGGER] == [
        "some other serializer problem"]
    assert len(logging.getLogger(SDK_SERIALIZATION_LOGGER).filters) == 1


def test_the_hold_request_warning_is_dropped(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.communication.callautomation._generated.models import HoldRequest, UnholdRequest

    monkeypatch.setattr(logging.getLogger(SDK_SERIALIZATION_LOGGER), "filters", [])
    target = {"rawId": "4:+14255550100", "phoneNumber": {"value": "+14255550100"}}
    with caplog.at_level(logging.WARNING, logger=SDK_SERIALIZATION_LOGGER):
        HoldRequest(target_participant=target, kwargs={})  # what CallConnectionClient.hold builds
        assert [r for r in caplog.records if r.name == SDK_SERIALIZATION_LOGGER], "the SDK no longer logs it"
        caplog.clear()
        quiet_known_sdk_noise()
        HoldRequest(target_participant=target, kwargs={})
        UnholdRequest(target_participant=target, kwargs={})
    assert [r for r in caplog.records if r.name == SDK_SERIALIZATION_LOGGER] == []
