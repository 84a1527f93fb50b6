"""One call's turn measurements (shared/voice_turns.py) on the media host's clock, recorded as histograms.

The session creates one per media socket. Hooks come from three places: the call's output (each agent frame
and each StopAudio written to ACS), the voice processor when it has a VAD of its own (the realtime service's
`speech_started` / `speech_stopped`, the model's audio), and otherwise the session itself, which finds the
caller's speech from ACS's per-frame `silent` flag (`SpeechEdges`). Every hook reads `time.monotonic()`.
"""

from __future__ import annotations

import time

from opentelemetry import metrics

from shared import kpis
from shared import voice_turns as figures
from shared.voice_turns import AudioClock, SpeechEdges, TurnTracker

_meter = metrics.get_meter("media_host")
_HISTOGRAMS = {
    figures.TURN_LATENCY: _meter.create_histogram(
        kpis.VOICE_TURN_LATENCY, unit="ms", description="End of caller speech to the first agent frame sent to ACS"),
    figures.MODEL_TO_ACS: _meter.create_histogram(
        kpis.VOICE_MODEL_TO_ACS, unit="ms",
        description="The model's first audio byte to its first frame on ACS's socket"),
    figures.CALLER_TO_MODEL: _meter.create_histogram(
        kpis.VOICE_CALLER_TO_MODEL, unit="ms",
        description="Caller frame arrival to its forwarding to the model (mean over a turn)"),
    figures.BARGE_IN_STOP_AUDIO: _meter.create_histogram(
        kpis.VOICE_BARGE_IN_STOP_AUDIO, unit="ms", description="Caller speaking over the agent to StopAudio sent"),
    figures.BARGE_IN_AUDIO_STOPPED: _meter.create_histogram(
        kpis.VOICE_BARGE_IN_AUDIO_STOPPED, unit="ms",
        description="Caller speaking over the agent to the agent's last frame sent"),
    figures.DEAD_AIR: _meter.create_histogram(
        kpis.VOICE_DEAD_AIR, unit="ms", description="A reply was expected and neither side spoke (one per silence)"),
    figures.GREETING: _meter.create_histogram(
        kpis.VOICE_GREETING_LATENCY, unit="ms", description="Media socket start to the first agent audio"),
}


class CallTurns:
    """The shell around `TurnTracker`: the clock, the histograms, the audio clock and the energy fallback."""

    def __init__(self, processor: str, dead_air_seconds: float) -> None:
        self._attributes = {"voice.processor": processor}
        self.tracker = TurnTracker(time.monotonic(), dead_air_seconds, record=self._record)
        self.clock = AudioClock()
        self.edges = SpeechEdges()

    def _record(self, figure: str, value_ms: float) -> None:
        _HISTOGRAMS[figure].record(value_ms, self._attributes)

    # --- from the call's output ---------------------------------------------------------------------------

    def agent_frame(self) -> None:
        self.tracker.agent_frame(time.monotonic())

    def stop_audio(self) -> None:
        self.tracker.stop_audio(time.monotonic())

    # --- from the session, for processors without a VAD ------------------------------------------------------

    def caller_frame(self, silent: bool, duration_ms: float) -> None:
        edge = self.edges.feed(not silent, duration_ms, time.monotonic())
        if edge == "started":
            self.tracker.caller_started(self.edges.edge_at)
        elif edge == "stopped":
            self.tracker.caller_stopped(self.edges.edge_at)

    # --- from a processor with a VAD (the realtime bridge) ---------------------------------------------------

    def forwarded(self, duration_ms: float, arrived_at: float) -> None:
        """A caller frame was sent to the model: its place on the audio clock and its delay here."""
        self.clock.add(duration_ms, arrived_at)
        self.tracker.caller_forwarded(time.monotonic() - arrived_at)

    def _on_audio_clock(self, audio_ms: int | None) -> float:
        at = self.clock.arrival(audio_ms) if audio_ms is not None else None
        now = time.monotonic()
        return now if at is None or at > now else at

    def speech_started(self, audio_start_ms: int | None, prefix_padding_ms: int) -> None:
        """The service's `speech_started`: dated when the detected speech reached us (its `audio_start_ms`
        is backdated by the VAD's prefix padding)."""
        start = None if audio_start_ms is None else audio_start_ms + prefix_padding_ms
        self.tracker.caller_started(self._on_audio_clock(start))

    def speech_stopped(self, audio_end_ms: int | None) -> None:
        self.tracker.caller_stopped(self._on_audio_clock(audio_end_ms))

    def model_audio(self, response_id: str | None) -> None:
        self.tracker.model_audio(time.monotonic(), response_id)

    # --- the end ---------------------------------------------------------------------------------------------

    def finish(self) -> dict[str, object]:
        self.tracker.finish(time.monotonic())
        return self.tracker.summary()
