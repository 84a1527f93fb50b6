"""One transcript segment and its line in `calls/{instanceId}/transcript.jsonl` (one JSON object per line).

The media host writes the lines (`to_line`) and the summary activity reads them back (`parse_transcript`), so
the keys are fixed here once: speaker, text, offsetMs, durationMs, confidence, source. `source` is "acs" for
ACS's own transcription, "caller"/"assistant" for the two sides of a realtime voice session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from shared.json_body import MAX_JSON_DEPTH, json_nesting_depth_exceeds
from shared.media_codec import TranscriptionData

TranscriptSource = Literal["acs", "caller", "assistant", "gap"]
_SOURCES: tuple[TranscriptSource, ...] = ("acs", "caller", "assistant", "gap")


@dataclass(frozen=True)
class TranscriptSegment:
    speaker: str
    text: str
    offset_ms: int
    duration_ms: int | None = None
    confidence: float | None = None
    source: TranscriptSource = "acs"

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


def segment_from_acs(data: TranscriptionData, speaker: str | None = None) -> TranscriptSegment:
    """A segment for a final ACS TranscriptionData (offsets converted from 100-ns ticks to ms); `speaker` is its
    label (shared/speaker_labels.py), so that no participantRawID, a phone number for a phone, is written."""
    return TranscriptSegment(
        speaker=speaker or data.participant_raw_id or "caller",
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


@dataclass(frozen=True)
class ParsedTranscript:
    segments: list[TranscriptSegment]
    skipped_lines: int  # non-empty lines that were not a valid segment


def _source(value: object) -> TranscriptSource:
    return next((source for source in _SOURCES if source == value), "acs")


def segment_from_line(line: str) -> TranscriptSegment | None:
    """The segment of one line, or None when it is not one (bad JSON, missing or mistyped keys)."""
    if json_nesting_depth_exceeds(line, MAX_JSON_DEPTH):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    speaker, text, offset = value.get("speaker"), value.get("text"), value.get("offsetMs")
    if isinstance(offset, float) and offset.is_integer():
        offset = int(offset)
    if not isinstance(speaker, str) or not isinstance(text, str):
        return None
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        return None
    duration, confidence = value.get("durationMs"), value.get("confidence")
    return TranscriptSegment(
        speaker=speaker, text=text, offset_ms=offset,
        duration_ms=duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
        confidence=float(confidence) if isinstance(confidence, int | float) and not isinstance(confidence, bool)
        else None,
        source=_source(value.get("source")),
    )


def parse_transcript(text: str) -> ParsedTranscript:
    """Lenient JSONL parsing: malformed lines are skipped and counted, blank lines ignored."""
    segments: list[TranscriptSegment] = []
    skipped = 0
    # Split on "\n" only: JSON written with ensure_ascii=False may hold U+2028 and friends inside strings.
    for line in text.split("\n"):
        if not line.strip():
            continue
        segment = segment_from_line(line)
        if segment is None:
            skipped += 1
        else:
            segments.append(segment)
    return ParsedTranscript(segments=segments, skipped_lines=skipped)


# A gap marker (source "gap"): the media stream was lost and restarted here (shared/media_recovery.py). Offsets
# start again with each new socket, so a reader orders segments within the stretches between markers.
GAP = "gap"
GAP_TEXT = "[media stream lost at {at}; restarted: speech in the gap is missing]"


def gap_marker_line(at: str) -> str:
    """The transcript line marking a gap, at the moment `at` (ISO 8601)."""
    return TranscriptSegment("-", GAP_TEXT.format(at=at[:40]), 0, None, None, "gap").to_line()
