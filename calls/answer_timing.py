"""Where the IncomingCall-to-answer time goes, step by step, as one log record per call.

The caller hears ringing for all of it, so `bench.e2e_load` reads these records to print each step's p50
and p99. Its own logger, kept at INFO, so the record is written even when the host logs only warnings.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("calls.answer_timing")
log.setLevel(logging.INFO)

MESSAGE = "Answer timing"
PREFIX = "answerMs_"  # one flat field per step: the JSON log format keeps only scalar values


class AnswerTiming:
    """Milliseconds per named step since the request arrived; `done` logs them with the total."""

    def __init__(self, received: float | None = None) -> None:
        self.received = time.perf_counter() if received is None else received
        self._last = self.received
        self.steps: dict[str, float] = {}

    def step(self, name: str, at: float | None = None) -> None:
        """Closes the step `name` (now, or at `at`): the time since the previous step or the request's arrival."""
        now = time.perf_counter() if at is None else at
        self.steps[name] = round((now - self._last) * 1000.0, 2)
        self._last = now

    def done(self, outcome: str) -> None:
        total = round((time.perf_counter() - self.received) * 1000.0, 2)
        fields: dict[str, object] = {PREFIX + name: value for name, value in {**self.steps, "total": total}.items()}
        log.info(MESSAGE, extra={**fields, "answerOutcome": outcome})


def steps_of(record: dict[str, object]) -> dict[str, float]:
    """The step durations of one logged record (parsed JSON), by step name."""
    return {key.removeprefix(PREFIX): float(value) for key, value in record.items()
            if key.startswith(PREFIX) and isinstance(value, int | float)}
