"""The one blueprint of the call orchestration: the orchestrator and its activities register on it, and read
their input with its one decoder."""

import json
from collections.abc import Mapping

import azure.durable_functions as df

bp = df.Blueprint()


def activity_input(payload: object) -> Mapping[str, object]:
    """An activity's input as a mapping: the worker hands it over as JSON text or already decoded."""
    loaded = json.loads(payload) if isinstance(payload, str) else payload
    if not isinstance(loaded, Mapping):
        raise ValueError("activity input must be a JSON object")
    return loaded
