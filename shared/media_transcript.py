"""Rendering of transcript lines for `calls/{instanceId}/transcript.jsonl` (one JSON object per line).

The summary renderer parses these lines, so the keys are fixed: speaker, text, offsetMs, durationMs,
confidence, source. `source` is "acs" for ACS's own transcription, "caller"/"assistant" for the two sides
of a realtime voice session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from shared.media_codec import TranscriptionData

TranscriptSource = Literal["acs", "caller", "assistant"]


@dataclass(frozen=True)
class TranscriptSegment:
    speaker: str
    text: str
    offset_ms: int
    duration_ms: int | None
    confidence: float | None
    source: TranscriptSource

    def to_line(self) -> str:
        """One JSON line, newline-terminated, ready to append."""
        return json.dumps(
            {
                "speaker": self.speaker,
                "text": self.text,
                "offsetMs": self.offset_ms,
                "durationMs": self.duration_ms,
                "confidence": self.confidence,
                "source": self.source,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ) + "\n"


def segment_from_acs(data: TranscriptionData) -> TranscriptSegment:
    """A segment for a final ACS TranscriptionData (offsets converted from 100-ns ticks to ms)."""
    return TranscriptSegment(
        speaker=data.participant_raw_id or "caller",
        text=data.text,
        offset_ms=data.offset_ms,
        duration_ms=data.duration_ms,
        confidence=data.confidence,
        source="acs",
    )


def segment_from_voice(
    side: Literal["caller", "assistant"], text: str, offset_ms: int, duration_ms: int | None = None
) -> TranscriptSegment:
    """A segment for one side of a realtime voice session; the side is both speaker and source."""
    return TranscriptSegment(side, text, max(0, offset_ms), duration_ms, None, side)
