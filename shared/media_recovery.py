"""Media recovery: when a connected call loses its media (or transcription) stream, restart it. Pure.

A stream is lost when the media host reports a media socket that broke while the call is connected
(`MediaStreamEnded` with a close code other than a clean one), or when ACS reports `MediaStreamingStopped` /
`MediaStreamingFailed` (`TranscriptionStopped` / `TranscriptionFailed`) that nobody asked for: not after a stop
of ours (its operationContext starts with `STOP_CONTEXT`), not while the call is ending or ended. The call
machine (shared/call_machine.py) then starts the restart activity (`start_media_streaming` /
`start_transcription`, calls/call_orchestration/recovery_activity.py) at most `attempts` times per stream and
call, the first `backoff_seconds` after the drop and each next one twice as long after the one before failed,
all through the machine's WaitUntil timers. An attempt fails when ACS refuses the request, when ACS answers
`...Failed` to it, or when neither `...Started` nor `...Failed` comes within `START_RESULT_SECONDS`.

One socket of a call is told from the next by the media host's ended report: `socketId` (unique per socket)
and `startedAt`. A report of a socket that started before the current one (less a grace for the two clocks)
is an old socket's late report: its figures are kept for the story, and it is never taken for a new drop
nor for the call's final report. A drop's own report is held back: it becomes the call's final report only
when no later socket follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from shared import call_lifecycle as lifecycle
from shared.media_recovery_settings import MediaRecoverySettings
from shared.media_report import CLEAN_CLOSE_CODES

StreamName = Literal["media", "transcription"]
MEDIA: StreamName = "media"
TRANSCRIPTION: StreamName = "transcription"
# streaming: its socket is open; down: lost, a restart is due; starting: a restart was asked for;
# stopped: stopped on purpose; given_up: lost, every attempt spent; off: never started for this call.
Status = Literal["streaming", "down", "starting", "stopped", "given_up", "off"]
RESTART_CONTEXT = "media-recovery"  # operationContext of our restarts: "media-recovery:<stream>:<attempt>"
STOP_CONTEXT = "media-stop"  # operationContext prefix of a stop the application asked for
START_RESULT_SECONDS = 30
OLD_SOCKET_GRACE_SECONDS = 5
MAX_SOCKETS = 20
MAX_BACKOFF_DOUBLINGS = 6

_STARTED: dict[str, StreamName] = {"MediaStreamingStarted": MEDIA, "TranscriptionStarted": TRANSCRIPTION}
_LOST: dict[str, StreamName] = {
    "MediaStreamingStopped": MEDIA, "MediaStreamingFailed": MEDIA,
    "TranscriptionStopped": TRANSCRIPTION, "TranscriptionFailed": TRANSCRIPTION,
}
_SOCKET_FIGURES = ("framesReceived", "gaps", "maxGapMs", "closeCode", "transcriptSegments")


@dataclass(frozen=True)
class Stream:
    name: StreamName
    status: Status = "streaming"
    attempts: int = 0  # restarts asked for on this call, in all (bounded by the settings)
    tries: int = 0  # restarts since the last drop: the backoff's exponent
    due: datetime | None = None  # down: the next attempt; starting: when the attempt counts as failed
    # When the stream was lost and when its current socket started, by the events' own times (ACS's callback
    # `time`, the media host's `endedAt`): what "recovered after N s" measures, and what tells an earlier
    # socket's report from the current one's. The machine's clock (`now`) only places the attempts.
    dropped_at: datetime | None = None
    since: datetime | None = None
    drops: int = 0
    recovered_after: tuple[float, ...] = ()  # seconds from each drop to the next socket's start


@dataclass(frozen=True)
class Recovery:
    settings: MediaRecoverySettings
    media: Stream
    transcription: Stream
    # The call's media sockets in order: {"n", "startedAt", "lostAt"?, socketId and figures once reported}.
    sockets: tuple[Mapping[str, object], ...] = ()
    reported: tuple[str, ...] = ()  # socketIds whose report was read
    held_report: Mapping[str, object] | None = None  # a drop's own report (see the module's docstring)


@dataclass(frozen=True)
class Restart:
    """Start the restart activity for `stream`; its result goes to `on_restart_result`."""

    stream: StreamName
    attempt: int
    operation_context: str
    gap_marker: bool = False  # the first restart after a drop: mark the gap in the transcript (`_marks_gap`)


def begin(raw_input: Mapping[str, object], transcription_requested: bool) -> Recovery:
    return Recovery(MediaRecoverySettings.from_input(raw_input), Stream(MEDIA),
                    Stream(TRANSCRIPTION, status="streaming" if transcription_requested else "off"))


def _live(record: lifecycle.CallRecord) -> bool:
    """Connected and not ending: a stream lost now is worth restarting."""
    return (record.stage == "connected" and not record.hang_up_wanted and record.hang_up is None
            and record.outcome is None)


def _stream(recovery: Recovery, name: StreamName) -> Stream:
    return recovery.media if name == MEDIA else recovery.transcription


def _with(recovery: Recovery, stream: Stream) -> Recovery:
    return replace(recovery, media=stream) if stream.name == MEDIA else replace(recovery, transcription=stream)


def _note(record: lifecycle.CallRecord, stream: Stream, now: datetime, what: str, detail: str | None = None
          ) -> lifecycle.CallRecord:
    return lifecycle.note(record, lifecycle.iso(now), f"{stream.name}_{what}", detail)


def _backoff(recovery: Recovery, tries: int) -> timedelta:
    return timedelta(seconds=recovery.settings.backoff_seconds * 2 ** min(tries, MAX_BACKOFF_DOUBLINGS))


def _retry_or_give_up(recovery: Recovery, record: lifecycle.CallRecord, stream: Stream, now: datetime
                      ) -> tuple[Recovery, lifecycle.CallRecord]:
    if stream.attempts >= recovery.settings.attempts:
        record = _note(record, stream, now, "recovery_gave_up", f"after {stream.attempts} attempt(s)")
        return _with(recovery, replace(stream, status="given_up", due=None)), record
    return _with(recovery, replace(stream, status="down", due=now + _backoff(recovery, stream.tries))), record


def _lost(recovery: Recovery, record: lifecycle.CallRecord, stream: Stream, now: datetime, at: datetime, why: str
          ) -> tuple[Recovery, lifecycle.CallRecord]:
    if stream.status != "streaming":
        return recovery, record  # the same loss told twice (ACS and the media host), or already handled
    record = _note(record, stream, at, "stream_lost", why)
    stream = replace(stream, drops=stream.drops + 1, dropped_at=at, tries=0)
    if stream.name == MEDIA and recovery.sockets:
        last = recovery.sockets[-1]
        if "lostAt" not in last:
            recovery = replace(recovery, sockets=(*recovery.sockets[:-1], {**last, "lostAt": lifecycle.iso(at)}))
    return _retry_or_give_up(recovery, record, stream, now)


def _started(recovery: Recovery, record: lifecycle.CallRecord, stream: Stream, at: datetime
             ) -> tuple[Recovery, lifecycle.CallRecord]:
    if stream.status in ("down", "starting") and stream.dropped_at is not None:
        seconds = round(max(0.0, (at - stream.dropped_at).total_seconds()), 1)
        record = _note(record, stream, at, "stream_recovered", f"after {seconds} s (attempt {stream.attempts})")
        stream = replace(stream, status="streaming", due=None, tries=0, since=at,
                         recovered_after=(*stream.recovered_after, seconds))
    elif stream.status == "streaming" and stream.since is None:
        stream = replace(stream, since=at)
    else:
        return recovery, record
    recovery = _with(recovery, stream)
    if stream.name == MEDIA and len(recovery.sockets) < MAX_SOCKETS:
        recovery = replace(recovery, sockets=(*recovery.sockets,
                                              {"n": len(recovery.sockets) + 1, "startedAt": lifecycle.iso(at)}))
    return recovery, record


def _on_lost_callback(recovery: Recovery, record: lifecycle.CallRecord, kind: str, payload: Mapping[str, object],
                      now: datetime) -> tuple[Recovery, lifecycle.CallRecord]:
    stream = _stream(recovery, _LOST[kind])
    context = payload.get("operationContext")
    if isinstance(context, str) and context.startswith(STOP_CONTEXT):
        return _with(recovery, replace(stream, status="stopped", due=None)), record  # our own stop
    if not _live(record):
        return recovery, record  # the call is ending: ACS stops its streams with it
    if stream.status == "starting":
        record = _note(record, stream, now, "restart_failed", kind)
        return _retry_or_give_up(recovery, record, stream, now)
    return _lost(recovery, record, stream, now, _event_time(payload, now), kind)


def _event_time(payload: Mapping[str, object], now: datetime) -> datetime:
    return lifecycle.parse_time(payload.get("time")) or now


def _socket_entry(payload: Mapping[str, object]) -> dict[str, object]:
    entry: dict[str, object] = {key: payload[key] for key in _SOCKET_FIGURES if key in payload}
    for key, source in (("socketId", "socketId"), ("reportedStartedAt", "startedAt"), ("endedAt", "time")):
        if isinstance(payload.get(source), str):
            entry[key] = str(payload[source])[:64]
    return entry


def _attach(recovery: Recovery, payload: Mapping[str, object], started: datetime | None) -> Recovery:
    """The report's figures on the socket it belongs to: the last one started before it (with the grace)."""
    entry = _socket_entry(payload)
    sockets: list[Mapping[str, object]] = list(recovery.sockets)
    index = len(sockets) - 1
    while started is not None and index > 0:
        began = lifecycle.parse_time(sockets[index].get("startedAt"))
        if began is None or started >= began - timedelta(seconds=OLD_SOCKET_GRACE_SECONDS):
            break
        index -= 1
    if index < 0:
        sockets = [{"n": 1, **entry}]
    else:
        sockets[index] = {**sockets[index], **entry}
    return replace(recovery, sockets=tuple(sockets))


def _on_report(recovery: Recovery, record: lifecycle.CallRecord, payload: Mapping[str, object], now: datetime
               ) -> tuple[Recovery, lifecycle.CallRecord, bool]:
    socket_id = payload.get("socketId")
    socket_id = socket_id[:64] if isinstance(socket_id, str) and socket_id else None
    if socket_id is not None and socket_id in recovery.reported:
        return recovery, record, True  # a second delivery of a report already read
    started = lifecycle.parse_time(payload.get("startedAt"))
    recovery = _attach(recovery, payload, started)
    if socket_id is not None:
        recovery = replace(recovery, reported=(*recovery.reported, socket_id)[-MAX_SOCKETS:])
    since = recovery.media.since if recovery.media.drops else None
    if since is not None and started is not None and started < since - timedelta(seconds=OLD_SOCKET_GRACE_SECONDS):
        return recovery, record, True  # an earlier socket's late report: a later socket is the call's now
    close_code = payload.get("closeCode")
    broke = isinstance(close_code, int) and not isinstance(close_code, bool) and close_code not in CLEAN_CLOSE_CODES
    if _live(record) and broke and recovery.settings.attempts > 0:
        recovery, record = _lost(recovery, record, recovery.media, now, _event_time(payload, now),
                                 f"media socket closed with {close_code}")
        return replace(recovery, held_report=payload), record, True
    return replace(recovery, held_report=None), record, False


def on_event(recovery: Recovery, record: lifecycle.CallRecord, kind: str, payload: Mapping[str, object],
             now: datetime) -> tuple[Recovery, lifecycle.CallRecord, bool]:
    """Read one inbox event. True when the event is this module's alone: a media report of a drop or of an
    earlier socket, which the lifecycle must not take for the call's final report."""
    if kind == lifecycle.MEDIA_STREAM_ENDED:
        return _on_report(recovery, record, payload, now)
    if kind in _STARTED:
        recovery, record = _started(recovery, record, _stream(recovery, _STARTED[kind]), _event_time(payload, now))
    elif kind in _LOST:
        recovery, record = _on_lost_callback(recovery, record, kind, payload, now)
    return recovery, record, False


def on_restart_result(recovery: Recovery, record: lifecycle.CallRecord, name: StreamName,
                      result: Mapping[str, object], now: datetime) -> tuple[Recovery, lifecycle.CallRecord]:
    """The restart activity finished: ACS took the start request ("accepted"), or refused it, or it failed."""
    stream = _stream(recovery, name)
    if stream.status != "starting":
        return recovery, record  # the stream came back (or the call ended) before the request's own answer
    status = str(result.get("status", "failed"))[:40]
    if status == "accepted":
        return recovery, _note(record, stream, now, "restart_accepted", f"attempt {stream.attempts}")
    detail = str(result.get("message") or result.get("error") or status)[:lifecycle.MAX_DETAIL_CHARS]
    record = _note(record, stream, now, "restart_failed", detail)
    return _retry_or_give_up(recovery, record, stream, now)


def _marks_gap(recovery: Recovery, name: StreamName) -> bool:
    """A stream's first restart after its drop marks the gap in the transcript: a lost media socket loses what
    the voice processor heard, a lost transcription socket the segments ACS would have sent. One outage, one
    marker: when media is down too (a media host killed takes both sockets), the media restart writes it."""
    return name == MEDIA or recovery.media.status not in ("down", "starting")


def step(recovery: Recovery, record: lifecycle.CallRecord, now: datetime
         ) -> tuple[Recovery, lifecycle.CallRecord, list[Restart]]:
    """What is due now: restarts to start, overdue attempts counted failed, the held report handed over."""
    restarts: list[Restart] = []
    names: tuple[StreamName, ...] = (MEDIA, TRANSCRIPTION)
    for name in names:
        stream = _stream(recovery, name)
        if stream.status not in ("down", "starting"):
            continue
        if not _live(record):
            recovery = _with(recovery, replace(stream, due=None, status="given_up"))  # the call is ending
            continue
        if stream.due is None or stream.due > now:
            continue
        if stream.status == "starting":
            record = _note(record, stream, now, "restart_failed", f"no result in {START_RESULT_SECONDS} s")
            recovery, record = _retry_or_give_up(recovery, record, stream, now)
            stream = _stream(recovery, name)
            if stream.status != "down" or stream.due is None or stream.due > now:
                continue
        attempt, first = stream.attempts + 1, stream.tries == 0
        stream = replace(stream, status="starting", attempts=attempt, tries=stream.tries + 1,
                         due=now + timedelta(seconds=START_RESULT_SECONDS))
        record = _note(record, stream, now, "restart_requested", f"attempt {attempt} of {recovery.settings.attempts}")
        recovery = _with(recovery, stream)
        marks = first and _marks_gap(recovery, name)
        restarts.append(Restart(name, attempt, f"{RESTART_CONTEXT}:{name}:{attempt}", marks))
    if record.stage == "ended" and record.media_report is None and recovery.held_report is not None \
            and recovery.media.status != "streaming":
        # No socket followed the drop: its report is the call's last word on media.
        held = recovery.held_report
        recovery = replace(recovery, held_report=None)
        record = lifecycle.on_event(record, lifecycle.MEDIA_STREAM_ENDED, held, now)
    return recovery, record, restarts


def next_due(recovery: Recovery) -> datetime | None:
    """The earliest moment `step` has something to do (for the machine's WaitUntil)."""
    dues = [stream.due for stream in (recovery.media, recovery.transcription)
            if stream.due is not None and stream.status in ("down", "starting")]
    return min(dues, default=None)


def summary(recovery: Recovery) -> dict[str, object] | None:
    """For the summary input, the orchestration output and the story; None when no stream was ever lost."""
    streams = [stream for stream in (recovery.media, recovery.transcription) if stream.drops]
    if not streams:
        return None
    return {
        "drops": sum(stream.drops for stream in streams),
        "attempts": sum(stream.attempts for stream in streams),
        "recoveredAfterSeconds": list(recovery.media.recovered_after or recovery.transcription.recovered_after),
        "recovered": all(stream.status == "streaming" or stream.recovered_after for stream in streams),
        "streams": {stream.name: stream.status for stream in streams},
        "sockets": [dict(socket) for socket in recovery.sockets],
    }


# One media socket in the story (shared/call_story.py): when it ran, and its figures once reported.
STORY_SOCKET_KEYS = ("n", "startedAt", "lostAt", "socketId", "reportedStartedAt", "endedAt", "framesReceived",
                     "gaps", "maxGapMs", "closeCode")


def story_view(recovery: object) -> dict[str, object] | None:
    """The orchestration output's `mediaRecovery` (see `summary`) as the story shows it: bounded, typed."""
    if not isinstance(recovery, Mapping):
        return None
    drops, after, sockets = recovery.get("drops"), recovery.get("recoveredAfterSeconds"), recovery.get("sockets")
    return {
        "drops": drops if isinstance(drops, int) and not isinstance(drops, bool) else None,
        "recovered": recovery.get("recovered") is True,
        "recoveredAfterSeconds": [value for value in after if isinstance(value, int | float)][:MAX_SOCKETS]
        if isinstance(after, list) else [],
        "sockets": [{key: (item[key][:64] if isinstance(item[key], str) else item[key])
                     for key in STORY_SOCKET_KEYS if isinstance(item.get(key), int | float | str)
                     and not isinstance(item.get(key), bool)}
                    for item in (sockets if isinstance(sockets, list) else [])[:MAX_SOCKETS]
                    if isinstance(item, Mapping)],
    }
