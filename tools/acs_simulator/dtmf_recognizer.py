"""A pending DTMF recognize operation: collects tones until max tones or a stop tone. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.acs_simulator.cloud_events import MAX_DIGITS, STOP_TONE, Result
from tools.acs_simulator.media_messages import DTMF_TONE_NAMES

DEFAULT_INITIAL_SILENCE_S = 5.0


@dataclass
class PendingRecognize:
    operation_context: str | None
    callback_uri: str | None
    max_tones: int
    stop_tones: frozenset[str]  # tone names, e.g. "pound"
    initial_silence_s: float
    tones: list[str] = field(default_factory=list)  # digits as pressed, e.g. "5"

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> PendingRecognize:
        options = _object(body.get("recognizeOptions"))
        dtmf = _object(options.get("dtmfOptions"))
        max_tones = dtmf.get("maxTonesToCollect")
        silence = options.get("initialSilenceTimeoutInSeconds")
        return cls(
            operation_context=body.get("operationContext"),
            callback_uri=body.get("operationCallbackUri"),
            max_tones=max_tones if isinstance(max_tones, int) and max_tones > 0 else 1,
            stop_tones=frozenset(t for t in dtmf.get("stopTones") or [] if isinstance(t, str)),
            initial_silence_s=float(silence) if isinstance(silence, int | float) and silence > 0
            else DEFAULT_INITIAL_SILENCE_S,
        )

    def feed(self, digit: str) -> Result | None:
        """The result once complete; the stop tone itself is not reported among the tones."""
        if DTMF_TONE_NAMES.get(digit, digit) in self.stop_tones:
            return STOP_TONE
        self.tones.append(digit)
        return MAX_DIGITS if len(self.tones) >= self.max_tones else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
