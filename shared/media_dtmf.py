"""DTMF that arrived on the media socket (`DtmfData`, sent when the answer set `enableDtmfTones`), from the
media host's report to the call's timeline (pure).

The media host records each tone with the time it arrived (`DtmfData` carries none of its own:
shared/reference/acs-wire-formats.md "Inbound kinds") under `dtmfEvents` in media.json; the report keeps at
most `MAX_DTMF_EVENTS` well-formed ones, and the call's record adds one `dtmf_received` entry per tone, at its
own time, so the story shows the key press where it happened.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

DTMF_EVENTS = "dtmfEvents"
DTMF_RECEIVED = "dtmf_received"
MAX_DTMF_EVENTS = 32
_TONES = re.compile(r"[0-9A-D*#]{1,32}")
_MAX_TIME_CHARS = 40


def dtmf_event(tone: str, at: datetime) -> dict[str, str]:
    """One entry of media.json's `dtmfEvents`."""
    return {"tone": tone, "at": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}


def _well_formed(item: object) -> dict[str, str] | None:
    if not isinstance(item, Mapping):
        return None
    tone, at = item.get("tone"), item.get("at")
    if not isinstance(tone, str) or _TONES.fullmatch(tone.upper()) is None:
        return None
    if not isinstance(at, str) or len(at) > _MAX_TIME_CHARS:
        return None
    try:
        datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return {"tone": tone.upper(), "at": at}


def compact_dtmf(value: object) -> list[dict[str, str]]:
    """The report's `dtmfEvents`, bounded and checked: only tones and times reach history."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    kept = (_well_formed(item) for item in list(value)[:MAX_DTMF_EVENTS])
    return [item for item in kept if item is not None]


def dtmf_notes(report: Mapping[str, object]) -> list[tuple[str, str]]:
    """(at, tone) of each key press in a compacted report, for the timeline."""
    return [(item["at"], item["tone"]) for item in compact_dtmf(report.get(DTMF_EVENTS))]
