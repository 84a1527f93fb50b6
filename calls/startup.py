"""What the function app's process does once, before any function runs.

Masking first, so that no raw phone number reaches any log handler; telemetry next (exporters chosen from
the environment); then every setting is validated, so a misconfigured deployment fails at start-up with a
message naming the variable, rather than on the first ringing call. No network is touched here.
"""

from __future__ import annotations

import logging

from adapters.pii_logging import install_phone_number_masking
from calls.app_context import acs_jwt_verifier, config, event_grid_jwt_verifier
from calls.telemetry import configure as configure_telemetry
from shared.transcription_settings import NOT_CONFIGURED_MESSAGE

log = logging.getLogger(__name__)


def prepare_process() -> None:
    install_phone_number_masking()
    configure_telemetry(config().telemetry)
    if not config().transcription.available:
        log.warning(NOT_CONFIGURED_MESSAGE)
    acs_jwt_verifier()
    event_grid_jwt_verifier()
