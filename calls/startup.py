"""What the function app's process does once, before any function runs.

Masking first, so that no raw phone number reaches any log handler; the Durable SDK's two hooks; telemetry
next (exporters chosen from the environment); then every setting is validated, so a misconfigured deployment
fails at start-up with a message naming the variable, rather than on the first ringing call. No network is
touched here.
"""

from __future__ import annotations

import logging

from adapters.pii_logging import install_phone_number_masking
from calls import durable_connections, replay_timestamps
from calls.app_context import acs_jwt_verifier, config, event_grid_jwt_verifier
from calls.telemetry import configure as configure_telemetry
from shared.transcription_settings import NOT_CONFIGURED_MESSAGE

log = logging.getLogger(__name__)
# azure-communication-callautomation 1.6.0's TranscriptionOptions._to_generated passes
# speech_recognition_model_endpoint_id to a generated model that has no such attribute, and its serializer
# logs a WARNING for it on every answer that asks for transcription; nothing is lost (the field is optional).
SDK_SERIALIZATION_LOGGER = "azure.communication.callautomation._generated._utils.serialization"
KNOWN_SDK_NOISE = "speech_recognition_model_endpoint_id is not a known attribute"
# Its `hold` and `unhold` pass `kwargs=kwargs` into HoldRequest / UnholdRequest: one more such warning per
# hand-off step, with nothing lost (the keyword arguments still reach the pipeline).
KNOWN_HOLD_NOISE = ("kwargs is not a known attribute of class", ".HoldRequest'>", ".UnholdRequest'>")


class _DropKnownSdkNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hold_noise = KNOWN_HOLD_NOISE[0] in message and any(name in message for name in KNOWN_HOLD_NOISE[1:])
        return KNOWN_SDK_NOISE not in message and not hold_noise


def quiet_known_sdk_noise() -> None:
    """Drop that one warning, and only it: any other serializer warning still reaches the logs."""
    sdk_log = logging.getLogger(SDK_SERIALIZATION_LOGGER)
    if not any(isinstance(existing, _DropKnownSdkNoise) for existing in sdk_log.filters):
        sdk_log.addFilter(_DropKnownSdkNoise())


def prepare_process() -> None:
    install_phone_number_masking()
    quiet_known_sdk_noise()
    replay_timestamps.install()  # the Durable SDK's replay parses timestamps 300x faster (calls/replay_timestamps.py)
    durable_connections.install()  # its client gets 100 connections to the host, not 30 (calls/durable_connections.py)
    configure_telemetry(config().telemetry)
    if not config().transcription.available:
        log.warning(NOT_CONFIGURED_MESSAGE)
    acs_jwt_verifier()
    event_grid_jwt_verifier()
