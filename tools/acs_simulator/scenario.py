"""Scenario files: a scripted call as JSON, parsed and validated into frozen dataclasses. No network I/O.

Times are seconds. `at_s` of utterances, DTMF, hang-up and media drop count from CallConnected.
See tools/acs_simulator/README.md for the schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
AUDIO_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "audio"


AGENT_ANSWERS = ("answered", "declined", "no_answer")


class ScenarioError(ValueError):
    """The scenario file is not valid; the message names the field."""


@dataclass(frozen=True)
class Utterance:
    text: str  # what TranscriptionData carries; equals the words spoken in `audio`
    audio: str  # a WAV path, or a stem resolved as AUDIO_DIR/<stem>_16k.wav / _24k.wav by audioFormat
    at_s: float
    # Who says it: the caller when None, else another participant of the call (E.164 or ACS user id). With
    # unmixed audio each participant has its own stream; that participant's stream begins with its first words
    # (added to the call then), the caller's at connect.
    speaker: str | None = None


@dataclass(frozen=True)
class DtmfPress:
    tone: str
    at_s: float


@dataclass(frozen=True)
class Fault:
    status: int
    times: int
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Faults:
    answer: Fault | None = None
    email: Fault | None = None
    duplicate_callbacks: bool = False
    reorder_callbacks: bool = False
    drop_media_socket_at_s: float | None = None
    play_fails: bool = False
    transfer_fails: bool = False
    duplicate_recording_file_event: bool = False  # RecordingFileStatusUpdated delivered twice (at least once)


@dataclass(frozen=True)
class OutboundScript:
    """How the dialed party takes an outbound call (createCall): answers after N s, never, or the call fails."""

    answer_after_s: float | None = None  # None: rings until the application gives up (or `fail`)
    fail_code: int | None = None  # CreateCallFailed resultInformation, when set
    fail_sub_code: int = 0
    fail_message: str = ""
    fail_after_s: float = 0.5


@dataclass(frozen=True)
class Scenario:
    name: str
    caller: str
    callee: str
    caller_display_name: str = ""
    description: str = ""
    utterances: tuple[Utterance, ...] = ()
    dtmf: tuple[DtmfPress, ...] = ()
    connects: bool = True  # False: CallConnected is never sent (a missed call)
    abandon_at_s: float | None = None  # caller gives up this long after IncomingCall, before connecting
    hangup_by: str = "app"  # "caller" at hangup_at_s, or "app": wait for the application's hang-up
    hangup_at_s: float | None = None
    max_wait_s: float = 30.0  # cap from CallConnected to the end; the simulator then ends the call
    # How long to wait for an answer after IncomingCall. ACS publishes no ring limit (searched: Call Automation
    # docs, incoming-call-notification concepts); 10 s is on the strict side of any carrier's ringing time.
    answer_timeout_s: float = 10.0
    connect_delay_s: float = 0.1  # between a successful answer and CallConnected
    play_duration_s: float = 0.3  # how long a play takes before PlayCompleted
    incoming_call_deliveries: int = 1  # IncomingCall delivered N times at once (at-least-once delivery)
    expect_emails: int = 0  # after the call, wait up to email_wait_s for this many new emails
    email_wait_s: float = 20.0
    locale: str = "en-US"
    faults: Faults = field(default_factory=Faults)
    outbound: OutboundScript | None = None  # set: the app places the call; caller = its caller id
    # An agent added to the call (participants:add): "answered", "declined", or "no_answer" (rings until the
    # request's invitationTimeoutInSeconds), deciding after `agent_after_s`.
    agent_answer: str = "answered"
    agent_after_s: float = 0.5
    # How long after an agent answers the AddParticipantSucceeded event reaches the application (a late or
    # slow callback: the agent is in the call meanwhile).
    agent_callback_delay_s: float = 0.0
    source_dir: Path | None = None  # the scenario file's folder: relative .wav paths resolve from there

    def audio_path(self, utterance: Utterance, sample_rate: int, base_dir: Path | None = None) -> Path:
        candidate = Path(utterance.audio)
        if candidate.suffix.lower() == ".wav":
            return candidate if candidate.is_absolute() else (base_dir or self.source_dir or AUDIO_DIR) / candidate
        return AUDIO_DIR / f"{utterance.audio}_{sample_rate // 1000}k.wav"


def _number(raw: dict[str, Any], key: str, default: float | None, *, minimum: float = 0.0) -> float | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ScenarioError(f"{key} must be a number >= {minimum}")
    return float(value)


def _fault(raw: Any, key: str) -> Fault | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ScenarioError(f"faults.{key} must be an object")
    status, times = raw.get("status", 429), raw.get("times", 1)
    if not isinstance(status, int) or not 400 <= status <= 599 or not isinstance(times, int) or times < 1:
        raise ScenarioError(f"faults.{key} needs status 4xx/5xx and times >= 1")
    retry = _number(raw, "retry_after_s", 1.0 if status == 429 else None)
    return Fault(status, times, retry)


def _outbound(raw: Any) -> OutboundScript | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or ("answer_after_s" in raw and "fail" in raw):
        raise ScenarioError('outbound must be {"answer_after_s": N}, {"answer": "never"} or {"fail": {...}}')
    fail = raw.get("fail")
    if fail is None:
        if raw.get("answer") == "never":
            return OutboundScript()
        return OutboundScript(answer_after_s=_number(raw, "answer_after_s", 1.0))
    code, sub_code, message = (fail.get(k) for k in ("code", "subCode", "message")) if isinstance(fail, dict) \
        else (None, None, None)
    if not isinstance(code, int) or not isinstance(sub_code, int) or not isinstance(message, str):
        raise ScenarioError("outbound.fail needs code, subCode and message (CreateCallFailed resultInformation)")
    return OutboundScript(fail_code=code, fail_sub_code=sub_code, fail_message=message,
                          fail_after_s=_number(raw, "fail_after_s", 0.5) or 0.0)


# Unmixed audio carries the four most dominant speakers (Azure docs, concepts/call-automation/
# audio-streaming-concept.md): a scenario with more could not be streamed as written.
MAX_UNMIXED_STREAMS = 4
_SPEAKER = re.compile(r"\+[1-9][0-9]{6,14}|8:acs:[A-Za-z0-9_-]{1,256}")


def _speaker(raw: dict[str, Any], index: int) -> str | None:
    speaker = raw.get("speaker")
    if speaker is None:
        return None
    if not isinstance(speaker, str) or _SPEAKER.fullmatch(speaker) is None:
        raise ScenarioError(f"utterances[{index}].speaker must be an E.164 number or an ACS user id")
    return speaker


def parse_scenario(raw: Any, default_name: str = "scenario") -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("a scenario is a JSON object")
    for key in ("caller", "callee"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ScenarioError(f"{key} is required (E.164 number or ACS user id)")
    hangup = raw.get("hangup", {"by": "app"})
    if not isinstance(hangup, dict) or hangup.get("by") not in ("caller", "app"):
        raise ScenarioError('hangup must be {"by": "caller", "at_s": N} or {"by": "app"}')
    hangup_at = _number(hangup, "at_s", None)
    if hangup["by"] == "caller" and hangup_at is None:
        raise ScenarioError("hangup.at_s is required when the caller hangs up")
    utterances = []
    for i, u in enumerate(raw.get("utterances", [])):
        if not isinstance(u, dict) or not isinstance(u.get("text"), str) or not isinstance(u.get("audio"), str):
            raise ScenarioError(f"utterances[{i}] needs text and audio")
        utterances.append(Utterance(u["text"], u["audio"], _number(u, "at_s", 0.0) or 0.0, _speaker(u, i)))
    if len({u.speaker for u in utterances} | {None}) > MAX_UNMIXED_STREAMS:
        raise ScenarioError(f"at most {MAX_UNMIXED_STREAMS} speakers, the caller included (ACS streams at most "
                            "four participants unmixed)")
    presses = []
    for i, d in enumerate(raw.get("dtmf", [])):
        tone = d.get("tone") if isinstance(d, dict) else None
        if not isinstance(tone, str) or len(tone) != 1 or tone.upper() not in "0123456789*#ABCD":
            raise ScenarioError(f"dtmf[{i}].tone must be one of 0-9 * # A-D")
        presses.append(DtmfPress(tone.upper(), _number(d, "at_s", 0.0) or 0.0))
    faults_raw = raw.get("faults", {})
    if not isinstance(faults_raw, dict):
        raise ScenarioError("faults must be an object")
    faults = Faults(
        answer=_fault(faults_raw.get("answer"), "answer"),
        email=_fault(faults_raw.get("email"), "email"),
        duplicate_callbacks=bool(faults_raw.get("duplicate_callbacks", False)),
        reorder_callbacks=bool(faults_raw.get("reorder_callbacks", False)),
        drop_media_socket_at_s=_number(faults_raw, "drop_media_socket_at_s", None),
        play_fails=bool(faults_raw.get("play_fails", False)),
        transfer_fails=bool(faults_raw.get("transfer_fails", False)),
        duplicate_recording_file_event=bool(faults_raw.get("duplicate_recording_file_event", False)),
    )
    agent = raw.get("agent", {})
    if not isinstance(agent, dict) or agent.get("answer", "answered") not in AGENT_ANSWERS:
        raise ScenarioError(f"agent.answer must be one of {', '.join(AGENT_ANSWERS)}")
    deliveries = raw.get("incoming_call_deliveries", 1)
    expect_emails = raw.get("expect_emails", 0)
    if not isinstance(deliveries, int) or not 1 <= deliveries <= 20:
        raise ScenarioError("incoming_call_deliveries must be 1..20")
    if not isinstance(expect_emails, int) or expect_emails < 0:
        raise ScenarioError("expect_emails must be >= 0")
    return Scenario(
        name=str(raw.get("name", default_name)),
        caller=raw["caller"],
        callee=raw["callee"],
        caller_display_name=str(raw.get("caller_display_name", "")),
        description=str(raw.get("description", "")),
        utterances=tuple(sorted(utterances, key=lambda u: u.at_s)),
        dtmf=tuple(sorted(presses, key=lambda d: d.at_s)),
        connects=bool(raw.get("connects", True)),
        abandon_at_s=_number(raw, "abandon_at_s", None),
        hangup_by=hangup["by"],
        hangup_at_s=hangup_at,
        max_wait_s=_number(raw, "max_wait_s", 30.0, minimum=0.1) or 30.0,
        answer_timeout_s=_number(raw, "answer_timeout_s", 10.0, minimum=0.1) or 10.0,
        connect_delay_s=_number(raw, "connect_delay_s", 0.1) or 0.0,
        play_duration_s=_number(raw, "play_duration_s", 0.3) or 0.0,
        incoming_call_deliveries=deliveries,
        expect_emails=expect_emails,
        email_wait_s=_number(raw, "email_wait_s", 20.0) or 0.0,
        locale=str(raw.get("locale", "en-US")),
        faults=faults,
        outbound=_outbound(raw.get("outbound")),
        agent_answer=str(agent.get("answer", "answered")),
        agent_after_s=_number(agent, "after_s", 0.5) or 0.0,
        agent_callback_delay_s=_number(agent, "callback_delay_s", 0.0) or 0.0,
    )


def bundled_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.json"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A bundled scenario by name ("happy_path") or a JSON file path."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = SCENARIO_DIR / f"{name_or_path}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScenarioError(f"no scenario {name_or_path!r}; bundled: {', '.join(bundled_scenarios())}") from exc
    except ValueError as exc:
        raise ScenarioError(f"{path.name}: not JSON ({exc})") from exc
    return replace(parse_scenario(raw, default_name=path.stem), source_dir=path.resolve().parent)
