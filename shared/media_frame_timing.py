"""Frame timing of one media stream: latency, jitter and late frames, in windows (pure, no clock).

Latency is a frame's arrival time minus ACS's own timestamp for it (so it includes ACS's side and the network;
clock skew between ACS and us shifts it, and negative values count as 0). Jitter is RFC 3550's interarrival
jitter, a running estimate of how much arrival spacing departs from timestamp spacing. A late frame is one whose
latency is above the KPI's 200 ms.

Frames arrive 50 times a second per call; recording each one into OpenTelemetry costs about 8 µs, too much for
hundreds of streams on one core. So frames are folded into windows (one second of audio: `WINDOW_FRAMES`, or as
many of its frames as the shell times), and the shell records one latency value per window: the window's mean,
so the sum/count that the KPI uses stays the mean over all timed frames (all full windows have the same size).
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_FRAMES = 50
LATE_FRAME_MS = 200.0
_JITTER_GAIN = 1.0 / 16.0  # RFC 3550, section 6.4.1


@dataclass(frozen=True)
class TimingWindow:
    frames: int
    mean_latency_ms: float
    max_latency_ms: float
    late_frames: int
    jitter_ms: float


class FrameTiming:
    def __init__(self, window_frames: int = WINDOW_FRAMES) -> None:
        self.window_frames = window_frames
        self.jitter_ms = 0.0
        # Totals of the windows already taken; the properties add the current window.
        self._frames = 0
        self._late = 0
        self._max = 0.0
        self._latency_total = 0.0
        self._window_frames = 0
        self._window_latency = 0.0
        self._window_max = 0.0
        self._window_late = 0
        self._last_timestamp: float | None = None
        self._last_arrival = 0.0

    @property
    def frames(self) -> int:
        return self._frames + self._window_frames

    @property
    def late_frames(self) -> int:
        return self._late + self._window_late

    @property
    def max_latency_ms(self) -> float:
        return max(self._max, self._window_max)

    @property
    def mean_latency_ms(self) -> float | None:
        frames = self.frames
        return (self._latency_total + self._window_latency) / frames if frames else None

    def on_frame(self, timestamp_ms: float | None, arrival_ms: float) -> bool:
        """Fold in one frame; True when a window is full (then call `take_window`). Runs 50 times a second per
        call: plain arithmetic on locals, no allocation."""
        if timestamp_ms is None:
            return False
        latency = arrival_ms - timestamp_ms
        if latency < 0.0:
            latency = 0.0
        last_timestamp = self._last_timestamp
        if last_timestamp is not None:
            spacing = (arrival_ms - self._last_arrival) - (timestamp_ms - last_timestamp)
            if spacing < 0.0:
                spacing = -spacing
            self.jitter_ms += (spacing - self.jitter_ms) * _JITTER_GAIN
        self._last_timestamp = timestamp_ms
        self._last_arrival = arrival_ms
        self._window_latency += latency
        if latency > self._window_max:
            self._window_max = latency
        if latency > LATE_FRAME_MS:
            self._window_late += 1
        self._window_frames += 1
        return self._window_frames >= self.window_frames

    def take_window(self) -> TimingWindow | None:
        """The frames folded in since the last window (None when there are none), and start a new one."""
        frames = self._window_frames
        if frames == 0:
            return None
        window = TimingWindow(frames, self._window_latency / frames, self._window_max, self._window_late,
                              self.jitter_ms)
        self._frames += frames
        self._late += self._window_late
        self._max = max(self._max, self._window_max)
        self._latency_total += self._window_latency
        self._window_frames, self._window_latency, self._window_max, self._window_late = 0, 0.0, 0.0, 0
        return window
