"""When to report caller silence to the function app: every N seconds without caller speech. Pure.

The media host feeds what it hears (`on_speech` for a non-silent caller frame, `on_utterance` for a final
transcript) and asks `due` on its own clock; each report says how long the caller has been silent and how many
utterances there were so far, which is how the call flow tells a continuing silence from a new one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SilenceReport:
    silent_ms: int
    utterances: int

    def to_json(self) -> dict[str, int]:
        return {"silentMs": self.silent_ms, "utterances": self.utterances}


class CallerSilenceTracker:
    def __init__(self, threshold_ms: int, started_ms: int) -> None:
        if threshold_ms <= 0:
            raise ValueError("threshold_ms must be positive")
        self._threshold_ms = threshold_ms
        self._last_speech_ms = started_ms
        self._reported = 0  # reports since the last speech
        self.utterances = 0

    def on_speech(self, at_ms: int) -> None:
        if at_ms > self._last_speech_ms:
            self._last_speech_ms = at_ms
            self._reported = 0

    def on_utterance(self, at_ms: int) -> None:
        self.utterances += 1
        self.on_speech(at_ms)

    def due(self, now_ms: int) -> SilenceReport | None:
        """A report when another threshold of silence has passed since the last speech (or the last report)."""
        silent_ms = now_ms - self._last_speech_ms
        if silent_ms < self._threshold_ms * (self._reported + 1):
            return None
        self._reported += 1
        return SilenceReport(silent_ms, self.utterances)
