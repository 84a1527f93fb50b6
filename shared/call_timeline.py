"""One entry of a call's timeline: the orchestration writes it, the summary renders it, the story reads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimelineEntry:
    at: str  # ISO-8601 UTC
    event: str  # e.g. "ringing", "CallConnected", "hang_up_requested", "CallDisconnected"
    detail: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"at": self.at, "event": self.event, "detail": self.detail}
