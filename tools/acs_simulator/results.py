"""What one scripted call did, for end-to-end assertions and `make demo` output."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tools.acs_simulator.records import CallOperation, DeliveredEmail

# Issue 7 hook: given the target URL (callback or media WebSocket), return extra request headers,
# e.g. {"Authorization": "Bearer <JWT>"}. Nothing is signed by default.
RequestSigner = Callable[[str], Mapping[str, str]]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class HttpDelivery:
    """One POST the simulator made (Event Grid event or Call Automation callback)."""

    kind: str  # "SubscriptionValidation", "IncomingCall", or the callback type ("CallConnected", ...)
    event_id: str
    url: str
    status: int | None  # None when the request failed without a response
    error: str = ""
    at_s: float = 0.0  # seconds since the scenario started


@dataclass
class MediaStats:
    opened: bool = False
    open_error: str = ""
    sample_rate: int = 0
    frames_sent: int = 0
    speech_frames_sent: int = 0
    transcripts_sent: list[str] = field(default_factory=list)  # on the transcription socket only
    transcription_opened: bool = False
    transcription_open_error: str = ""
    transcription_close_code: int | None = None
    transcription_inbound_ignored: int = 0
    bidirectional: bool = False  # the answer's enableBidirectional: is outbound audio heard at all?
    frames_ignored: int = 0  # outbound AudioData sent while bidirectional streaming was off
    dtmf_sent: list[str] = field(default_factory=list)
    participants_streamed: set[str] = field(default_factory=set)  # participantRawIDs of the AudioData sent
    frames_received: int = 0  # inbound AudioData from the application
    bytes_received: int = 0
    stop_audio_received: int = 0
    invalid_received: int = 0
    received_pcm: bytearray = field(default_factory=bytearray, repr=False)  # inbound audio, first 60 s
    dropped: bool = False  # the scripted fault cut the socket without a close frame
    close_code: int | None = None
    max_send_lateness_ms: float = 0.0  # worst delay of a frame behind its 20 ms slot


@dataclass
class ScenarioResult:
    scenario: str
    validation_ok: bool = False
    incoming_call_statuses: list[int | None] = field(default_factory=list)
    answer_statuses: list[int] = field(default_factory=list)  # every answer request the app made
    call_connection_id: str | None = None
    connected: bool = False
    ended_by: str = ""  # caller | app | transfer | timeout | abandoned | never_answered | rejected | redirected
    # | validation_failed
    callbacks: list[HttpDelivery] = field(default_factory=list)
    events: list[HttpDelivery] = field(default_factory=list)  # Event Grid deliveries
    operations: list[CallOperation] = field(default_factory=list)  # what the app asked ACS to do
    media_sockets: int = 0  # media sockets opened: more than one when streaming was restarted
    media: MediaStats = field(default_factory=MediaStats)
    emails: list[DeliveredEmail] = field(default_factory=list)  # delivered during this scenario
    timings: dict[str, float] = field(default_factory=dict)  # seconds since start, by milestone
    errors: list[str] = field(default_factory=list)

    def callback_types(self) -> list[str]:
        return [c.kind for c in self.callbacks]
