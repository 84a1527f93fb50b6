"""The call orchestration's single inbox: every event for a call is raised under ONE Durable event name.

Callbacks (CallConnected, PlayCompleted, ...), the control API's and the media host's action requests,
silence reports and the media report all travel as `INBOX_EVENT`, with their own kind in the payload. The
orchestration then has exactly one fresh waiter in each wait (see calls/call_orchestration/orchestrator.py
for why that matters under the Durable extension's replay), and the story (shared/call_story.py) shows
each event under its own kind again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

INBOX_EVENT = "CallInbox"
KIND = "kind"
MAX_KIND_CHARS = 80


def inbox_payload(kind: str, payload: Mapping[str, object]) -> dict[str, object]:
    """What the raisers send: the event's own payload with its kind added."""
    return {**payload, KIND: kind}


def decode_json_object(value: object) -> Mapping[str, object]:
    """A payload as a mapping; Durable hands event and activity payloads back as JSON text (durable-python
    #295), sometimes twice encoded. Anything else is an empty mapping."""
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


def read_inbox(value: object) -> tuple[str, Mapping[str, object]]:
    """(kind, payload) of one inbox event; a missing or malformed kind reads as "" (ignored by the machine)."""
    payload = decode_json_object(value)
    kind = payload.get(KIND)
    return (kind[:MAX_KIND_CHARS] if isinstance(kind, str) else ""), payload
