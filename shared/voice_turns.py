"""Per-turn voice measurements of one call (pure: the shell passes every time in, in seconds).

What callers feel, measured on the audio path of the media host:
- turn latency: from the end of the caller's speech to the first agent audio frame written to ACS;
- our own share of it: the model's first audio byte to its first frame on the ACS socket ("modelToAcs"), and
  caller frames from arrival to being forwarded to the model ("callerToModel", the mean over the turn);
- barge-in: from the caller starting to speak over the agent to StopAudio written ("stopAudio"), and to the
  agent's last audio frame written while the caller speaks ("audioStopped", at least the StopAudio time);
- dead air: a reply was expected (the caller had finished) and neither side spoke for `dead_air_seconds` or
  more: counted once per silence, with the silence's whole duration;
- greeting latency: from the media socket's start to the first agent audio, when the agent speaks first.

The end and start of caller speech come from the voice processor's own VAD (the realtime service's
`speech_started` / `speech_stopped`) or, for processors without one, from `SpeechEdges` below.
Sizes are bounded: at most `MAX_SAMPLES` values per figure and `MAX_ENTRIES` entries per list in media.json.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLES = 1000
MAX_ENTRIES = 50
AGENT_SPEAKING_SECONDS = 0.1  # an agent frame written this recently: the agent is talking (ACS holds ~60 ms)

TURN_LATENCY = "turnLatency"
MODEL_TO_ACS = "modelToAcs"
CALLER_TO_MODEL = "callerToModel"
BARGE_IN_STOP_AUDIO = "bargeInStopAudio"
BARGE_IN_AUDIO_STOPPED = "bargeInAudioStopped"
DEAD_AIR = "deadAir"
GREETING = "greeting"

Recorder = Callable[[str, float], None]  # (figure, milliseconds): the shell's histograms


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (`fraction` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))  # ceil without floats drifting
    return ordered[min(rank, len(ordered)) - 1]


def distribution(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"p50": round(percentile(values, 0.5) or 0.0, 1), "p95": round(percentile(values, 0.95) or 0.0, 1),
            "max": round(max(values), 1), "count": len(values)}


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


@dataclass
class _Figures:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value_ms: float) -> None:
        values = self.samples.setdefault(name, [])
        if len(values) < MAX_SAMPLES:
            values.append(value_ms)


class TurnTracker:
    """One call's turns. Call the `caller_*`, `agent_frame`, `model_audio`, `stop_audio` hooks as things
    happen, `finish` at the end, then `summary` for media.json. `record` gets each figure as it is measured."""

    def __init__(self, started_at: float, dead_air_seconds: float, *, record: Recorder | None = None) -> None:
        self.started_at = started_at
        self.dead_air_seconds = dead_air_seconds
        self._record = record
        self._figures = _Figures()
        self.turns: list[dict[str, Any]] = []
        self.barge_ins: list[dict[str, Any]] = []
        self.dead_air: list[dict[str, Any]] = []
        self.turn_count = 0
        self.barge_in_count = 0
        self.dead_air_count = 0
        self.dead_air_ms = 0.0
        self.greeting_ms: float | None = None
        self._caller_speaking = False
        self._awaiting: float | None = None  # end of the caller's turn whose answer has not started
        self._quiet_since: float | None = None  # a reply is expected and nobody has spoken since then
        self._last_agent: float | None = None
        self._model_first: float | None = None
        self._model_response: str | None = None
        self._upstream_count = 0
        self._upstream_total = 0.0
        self._barge: dict[str, Any] | None = None
        self._barge_started = 0.0

    # --- figures -----------------------------------------------------------------------------------------

    def _add(self, name: str, value_ms: float) -> None:
        self._figures.add(name, value_ms)
        if self._record is not None:
            self._record(name, value_ms)

    def _offset(self, at: float) -> int:
        return max(0, round((at - self.started_at) * 1000))

    def _end_quiet(self, at: float) -> None:
        since = self._quiet_since
        self._quiet_since = None
        if since is not None and at - since >= self.dead_air_seconds:
            duration = _ms(at - since)
            self.dead_air_count += 1
            self.dead_air_ms += duration
            self._add(DEAD_AIR, duration)
            if len(self.dead_air) < MAX_ENTRIES:
                self.dead_air.append({"atMs": self._offset(since), "durationMs": duration})

    # --- the caller ----------------------------------------------------------------------------------------

    def caller_started(self, at: float) -> None:
        if self._caller_speaking:
            return
        self._caller_speaking = True
        self._upstream_count, self._upstream_total = 0, 0.0  # the turn's caller audio starts here
        self._end_quiet(at)
        self._awaiting = None  # the caller speaks again before any answer: a new turn starts
        if self._last_agent is not None and at - self._last_agent <= AGENT_SPEAKING_SECONDS and self._barge is None:
            self._barge_started = at
            self._barge = {"atMs": self._offset(at), "stopAudioMs": None, "audioStoppedMs": None}

    def caller_stopped(self, at: float) -> None:
        if not self._caller_speaking and self._awaiting is not None:
            return
        self._caller_speaking = False
        self._close_barge_in()
        self._awaiting = at
        self._quiet_since = at

    def caller_forwarded(self, delay_seconds: float) -> None:
        """A caller frame went to the model `delay_seconds` after it arrived (runs per frame: arithmetic only)."""
        self._upstream_count += 1
        self._upstream_total += delay_seconds

    # --- the agent -----------------------------------------------------------------------------------------

    def model_audio(self, at: float, response_id: str | None) -> None:
        """A delta of the model's audio arrived (only those that will be played)."""
        if response_id != self._model_response or self._model_response is None:
            self._model_response = response_id
            self._model_first = at

    def agent_frame(self, at: float) -> None:
        """An agent audio frame was written to ACS (runs per frame: the usual path is two comparisons)."""
        self._last_agent = at
        if (self._awaiting is None and self._model_first is None and self._barge is None
                and self.greeting_ms is not None):
            return
        self._on_agent_audio(at)

    def _on_agent_audio(self, at: float) -> None:
        if self._model_first is not None:
            self._add(MODEL_TO_ACS, _ms(at - self._model_first))
            own_downstream: float | None = _ms(at - self._model_first)
            self._model_first = None
        else:
            own_downstream = None
        if self._barge is not None:
            self._barge["audioStoppedMs"] = _ms(at - self._barge_started)
        if self.greeting_ms is None:
            # The first agent audio: a greeting when no caller turn came before it.
            self.greeting_ms = -1.0 if self.turn_count or self._awaiting is not None else _ms(at - self.started_at)
            if self.greeting_ms >= 0:
                self._add(GREETING, self.greeting_ms)
        if self._awaiting is not None and not self._caller_speaking:
            self._complete_turn(at, own_downstream)

    def _complete_turn(self, at: float, own_downstream: float | None) -> None:
        assert self._awaiting is not None
        latency = _ms(at - self._awaiting)
        self._end_quiet(at)
        self.turn_count += 1
        self._add(TURN_LATENCY, latency)
        upstream = _ms(self._upstream_total / self._upstream_count) if self._upstream_count else None
        if upstream is not None:
            self._add(CALLER_TO_MODEL, upstream)
        if len(self.turns) < MAX_ENTRIES:
            self.turns.append({"atMs": self._offset(self._awaiting), "latencyMs": latency,
                               "modelToAcsMs": own_downstream, "callerToModelMs": upstream})
        self._awaiting = None

    def stop_audio(self, at: float) -> None:
        """StopAudio was written to ACS. Also ends the wait for an interrupted response's first frame."""
        self._model_first = None
        self._model_response = None
        barge = self._barge
        if barge is not None and barge["stopAudioMs"] is None:
            barge["stopAudioMs"] = _ms(at - self._barge_started)
            if barge["audioStoppedMs"] is None or barge["audioStoppedMs"] < barge["stopAudioMs"]:
                barge["audioStoppedMs"] = barge["stopAudioMs"]

    def _close_barge_in(self) -> None:
        barge, self._barge = self._barge, None
        if barge is None:
            return
        self.barge_in_count += 1
        if barge["stopAudioMs"] is not None:
            self._add(BARGE_IN_STOP_AUDIO, barge["stopAudioMs"])
        if barge["audioStoppedMs"] is not None:
            self._add(BARGE_IN_AUDIO_STOPPED, barge["audioStoppedMs"])
        if len(self.barge_ins) < MAX_ENTRIES:
            self.barge_ins.append(barge)

    # --- the end -------------------------------------------------------------------------------------------

    def finish(self, at: float) -> None:
        """The call ended: a barge-in still open is closed, a silence still waiting for a reply is counted."""
        self._close_barge_in()
        self._end_quiet(at)

    def summary(self) -> dict[str, Any]:
        """The `turns` section of media.json: distributions (ms: p50, p95, max, count) and bounded entries."""
        samples = self._figures.samples
        return {
            "turns": self.turn_count,
            "latencyMs": distribution(samples.get(TURN_LATENCY, [])),
            "modelToAcsMs": distribution(samples.get(MODEL_TO_ACS, [])),
            "callerToModelMs": distribution(samples.get(CALLER_TO_MODEL, [])),
            "greetingMs": self.greeting_ms if self.greeting_ms is not None and self.greeting_ms >= 0 else None,
            "bargeIns": self.barge_in_count,
            "bargeInStopAudioMs": distribution(samples.get(BARGE_IN_STOP_AUDIO, [])),
            "bargeInAudioStoppedMs": distribution(samples.get(BARGE_IN_AUDIO_STOPPED, [])),
            "deadAir": {"count": self.dead_air_count, "totalMs": round(self.dead_air_ms, 1),
                        "thresholdMs": _ms(self.dead_air_seconds)},
            "entries": {"turns": self.turns, "bargeIns": self.barge_ins, "deadAir": self.dead_air},
        }


class SpeechEdges:
    """Start and end of the caller's speech from per-frame loudness, for processors without a VAD of their own.

    Speech starts after `start_ms` of loud frames in a row and ends after `end_ms` of quiet ones (the realtime
    services' server VAD waits 500 ms of silence too: `silence_duration_ms`). `feed` returns "started",
    "stopped" or None; `at` is when the frame arrived, and an end is dated at the first quiet frame."""

    def __init__(self, start_ms: float = 100.0, end_ms: float = 500.0) -> None:
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.speaking = False
        self._run_ms = 0.0
        self._quiet_from = 0.0

    def feed(self, loud: bool, duration_ms: float, at: float) -> str | None:
        if loud == self.speaking:
            self._run_ms = 0.0
            return None
        if self._run_ms == 0.0:
            self._quiet_from = at
        self._run_ms += duration_ms
        if self._run_ms < (self.end_ms if self.speaking else self.start_ms):
            return None
        self._run_ms = 0.0
        self.speaking = loud
        return "started" if loud else "stopped"

    @property
    def edge_at(self) -> float:
        """When the run that made the last edge began (the first quiet frame of an end)."""
        return self._quiet_from


class AudioClock:
    """Maps a position in the audio sent to the model (its input buffer's milliseconds, as `speech_started`
    and `speech_stopped` give them) to when that audio arrived from ACS: the caller's own timeline. Keeps the
    last `frames` frames in two preallocated rings (no allocation per frame)."""

    def __init__(self, frames: int = 500) -> None:
        self._size = frames
        self._end_ms = array("d", bytes(8 * frames))
        self._arrived = array("d", bytes(8 * frames))
        self._count = 0
        self.sent_ms = 0.0

    def add(self, duration_ms: float, arrived_at: float) -> None:
        self.sent_ms += duration_ms
        slot = self._count % self._size
        self._end_ms[slot] = self.sent_ms
        self._arrived[slot] = arrived_at
        self._count += 1

    def arrival(self, audio_ms: float) -> float | None:
        """When the frame holding `audio_ms` arrived; None when it is older than the ring or not yet sent."""
        count, size = self._count, self._size
        if count == 0 or audio_ms > self.sent_ms + 20.0:
            return None
        low, high = max(0, count - size), count - 1  # frames in the ring, oldest to newest
        if audio_ms <= self._end_ms[low % size] - 40.0 and low > 0:
            return None
        while low < high:  # the first frame whose end is at or after audio_ms
            middle = (low + high) // 2
            if self._end_ms[middle % size] < audio_ms:
                low = middle + 1
            else:
                high = middle
        return self._arrived[low % size]
