"""The few host.json settings the dev host honours, parsed from the file's text (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# Durable's default task hub name when running locally, and its default start-over policy
# (DurableTaskOptions.OverridableExistingInstanceStates).
DEFAULT_HUB_NAME = "TestHubName"
NON_RUNNING_STATES = "NonRunningStates"
ANY_STATE = "AnyState"


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    hub_name: str = DEFAULT_HUB_NAME
    overridable_existing_instance_states: str = NON_RUNNING_STATES


def parse_host_json(text: str) -> HostConfig:
    """Read `extensions.http.routePrefix` and `extensions.durableTask.{hubName, overridableExistingInstanceStates}`.

    Unknown keys are ignored, as the dev host implements only these; a malformed file is an error, as it is for
    the real host.
    """
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("host.json must be a JSON object")
    extensions = document.get("extensions") or {}
    http = extensions.get("http") or {}
    durable = extensions.get("durableTask") or {}
    prefix = http.get("routePrefix", "api")
    if not isinstance(prefix, str):
        raise ValueError("extensions.http.routePrefix must be a string")
    states = durable.get("overridableExistingInstanceStates", NON_RUNNING_STATES)
    if states not in (NON_RUNNING_STATES, ANY_STATE):
        raise ValueError(f"unsupported overridableExistingInstanceStates: {states!r}")
    hub = durable.get("hubName", DEFAULT_HUB_NAME)
    if not isinstance(hub, str) or not hub:
        raise ValueError("extensions.durableTask.hubName must be a non-empty string")
    return HostConfig(route_prefix=prefix.strip("/"), hub_name=hub, overridable_existing_instance_states=states)


def parse_local_settings(text: str) -> dict[str, str]:
    """The `Values` of a local.settings.json, which `func start` exports as environment variables."""
    document = json.loads(text)
    values = document.get("Values") if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise ValueError("local.settings.json needs a \"Values\" object")
    return {str(name): str(value) for name, value in values.items() if value is not None}


def load_host_config(path: Path | None) -> HostConfig:
    """The settings from `path`, or the defaults when no file is given or it does not exist."""
    if path is None or not path.is_file():
        return HostConfig()
    return parse_host_json(path.read_text(encoding="utf-8"))
