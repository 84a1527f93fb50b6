"""Who spoke, as the transcript says it: `caller`, `participant 2`, ... instead of ACS's participantRawID, which
for a phone is the number itself ("4:+14255550100") and must not reach the transcript (pure).

Labels go by first appearance on the call's sockets, media or transcription (media_host/call_transcripts.py
shares one `SpeakerLabels` per call). Streaming starts at answer, when the caller is the call's only
participant, so the first participantRawID heard is the caller's; anyone added later (a transfer target, an
added participant) comes after. With unmixed audio (`MEDIA_AUDIO_CHANNEL=unmixed`) each participant's frames
name their participantRawID (shared/reference/acs-wire-formats.md "Inbound kinds"); mixed frames may carry the
caller's or none, which also counts as the caller.
"""

from __future__ import annotations

CALLER = "caller"
MAX_SPEAKERS = 16  # ACS streams at most four participants unmixed; transcription may name a few more
OTHER = "participant"  # beyond MAX_SPEAKERS: still never the raw id


class SpeakerLabels:
    def __init__(self) -> None:
        self._labels: dict[str, str] = {}

    def label(self, raw_id: str | None) -> str:
        """The speaker's label, given on first sight and kept for the call."""
        if not raw_id:
            return CALLER
        label = self._labels.get(raw_id)
        if label is not None:
            return label
        count = len(self._labels) + 1
        if count > MAX_SPEAKERS:
            return OTHER
        label = CALLER if count == 1 else f"{OTHER} {count}"
        self._labels[raw_id] = label
        return label

    def is_caller(self, raw_id: str | None) -> bool:
        """True for the caller's frames (or mixed frames without an id); called per AudioData, so one lookup."""
        if raw_id is None:
            return True
        label = self._labels.get(raw_id)
        return (label if label is not None else self.label(raw_id)) == CALLER

    @property
    def count(self) -> int:
        return len(self._labels)
