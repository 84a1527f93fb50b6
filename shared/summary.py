"""The summary's input record (`CallSummaryInput`) and its strict decoder, used by the summary activity.

The orchestration hands over `summary_fields` (shared/call_lifecycle.py); `summary_input_from_dict` reads them
back and refuses anything malformed with a BadRequest naming the field. Rendering is in shared/summary_render.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from shared.call_timeline import TimelineEntry
from shared.json_body import BadRequest


@dataclass(frozen=True)
class CallSummaryInput:
    instance_id: str
    caller: str  # raw id or number; rendering masks it
    callee: str
    outcome: str  # "completed" | "missed" | "max_duration" | "answer_failed" | "transferred" | other
    ringing_at: str
    connected_at: str | None
    ended_at: str | None
    end_reason: str | None
    timeline: tuple[TimelineEntry, ...]
    transcript_blob: str | None
    media: dict[str, object] | None
    partial: bool = False  # transcript may be incomplete (media host lost)
    # What the answer asked of ACS's real-time transcription: "requested", "off", "not_configured"
    # (shared/transcription_settings.py); the email says why a call has no transcript.
    transcription: str = "requested"
    # Set when the summary could not be prepared and the email is the orchestration's own fallback.
    summary_error: str | None = None
    # The call's recording, stored in calls/{id}/ (shared/recording_files.py): linked from the email.
    recording_url: str | None = None
    direction: str = "inbound"  # "outbound": placed by POST /api/calls; the party of interest is the callee
    # Lost streams and their restarts (shared/media_recovery.py `summary`); None when nothing was lost.
    media_recovery: dict[str, object] | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form; `summary_input_from_dict` reads it back unchanged."""
        data = asdict(self)
        data["timeline"] = [entry.to_dict() for entry in self.timeline]
        return data


def _field(data: Mapping[str, object], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadRequest(f"missing required string {key!r}", path=key)
        return None
    if not isinstance(value, str):
        raise BadRequest("expected a string", path=key)
    return value


def _timeline_from(value: object) -> tuple[TimelineEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRequest("expected an array", path="timeline")
    entries = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise BadRequest("expected an object", path=f"timeline[{index}]")
        at, event, detail = item.get("at"), item.get("event"), item.get("detail")
        if not isinstance(at, str) or not isinstance(event, str) or not (detail is None or isinstance(detail, str)):
            raise BadRequest("expected at/event strings and an optional detail string", path=f"timeline[{index}]")
        entries.append(TimelineEntry(at=at, event=event, detail=detail))
    return tuple(entries)


def summary_input_from_dict(data: Mapping[str, object]) -> CallSummaryInput:
    """Read back `CallSummaryInput.to_dict()` (also the orchestration's summary fields); BadRequest if malformed."""
    media = data.get("media")
    if media is not None and not isinstance(media, dict):
        raise BadRequest("expected an object", path="media")
    recovery = data.get("media_recovery")
    if recovery is not None and not isinstance(recovery, dict):
        raise BadRequest("expected an object", path="media_recovery")
    partial = data.get("partial", False)
    if not isinstance(partial, bool):
        raise BadRequest("expected a boolean", path="partial")
    return CallSummaryInput(
        instance_id=_field(data, "instance_id", required=True) or "",
        caller=_field(data, "caller") or "",
        callee=_field(data, "callee") or "",
        outcome=_field(data, "outcome") or "completed",
        ringing_at=_field(data, "ringing_at") or "",
        connected_at=_field(data, "connected_at"),
        ended_at=_field(data, "ended_at"),
        end_reason=_field(data, "end_reason"),
        timeline=_timeline_from(data.get("timeline")),
        transcript_blob=_field(data, "transcript_blob"),
        media=media,
        partial=partial,
        transcription=_field(data, "transcription") or "requested",
        summary_error=_field(data, "summary_error"),
        recording_url=_link(data, "recording_url"),
        direction="outbound" if _field(data, "direction") == "outbound" else "inbound",
        media_recovery=recovery,
    )


def _link(data: Mapping[str, object], key: str) -> str | None:
    # Only a web link goes into the email's href: anything else (javascript:, data:) is refused.
    value = _field(data, key)
    if value is not None and not value.startswith(("https://", "http://")):
        raise BadRequest("expected an http(s) URL", path=key)
    return value
