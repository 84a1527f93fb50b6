"""The email summary of one call, rendered as plain text and HTML from its record (shared/summary.py).

Pure: the activity reads the transcript blob and the media report, calls `render_summary`, and sends the
result. Every value that came from outside is escaped in the HTML, phone numbers and ids are masked, and
each section is bounded so that the email stays far below ACS Email's 10 MB limit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.call_timeline import TimelineEntry
from shared.pii import mask_phone_number, mask_phone_numbers_in_text, mask_raw_id
from shared.summary import CallSummaryInput
from shared.topics import extract_topics
from shared.transcript_lines import GAP, TranscriptSegment

MAX_TIMELINE_ENTRIES = 200
MAX_DETAIL_CHARS = 300
MAX_MEDIA_ENTRIES = 30
MAX_SPEAKER_CHARS = 64
MAX_SUBJECT_CHARS = 200

OUTCOME_LABELS = {
    "completed": "Call completed",
    "missed": "Missed call",
    "max_duration": "Call ended at maximum duration",
    "answer_failed": "Call could not be answered",
    "transferred": "Call transferred",
    "handed_off": "Call handed off to an agent",
    "rejected": "Call rejected",
    "redirected": "Call redirected",
    "not_answered": "Call not answered",
    "after_hours_message": "After-hours message played",
}
# Outcomes of calls never connected, or answered only for the after-hours message: a short email, without
# transcript, timeline or media.
SHORT_OUTCOMES = ("missed", "rejected", "redirected", "not_answered", "after_hours_message")
INCOMPLETE_NOTE = "The transcript may be incomplete: the media connection was lost before the call ended."
NOT_TRANSCRIBED_NOTE = ("No transcript: real-time transcription is not configured (ACS_COGNITIVE_SERVICES_ENDPOINT "
                        "is not set), so ACS did not transcribe this call.")
NOT_STARTED_NOTE = ("Real-time transcription was not started at answer (CALL_TRANSCRIPTION=off); only a "
                    "start_transcription request transcribes a call.")
SUMMARY_FAILED_NOTE = "The call's summary could not be prepared ({error}); this email holds what the call's record has."


def voice_line(media: Mapping[str, object] | None) -> str | None:
    """One line on the voice agent's turns (shared/media_report.py `turn_figures`), or None without turns."""
    if not media or not isinstance(media.get("turns"), int | float) or not media.get("turns"):
        return None
    parts = [f"{media['turns']} turn(s)"]
    if "turnLatencyP50Ms" in media:
        parts.append(f"latency p50 {media['turnLatencyP50Ms']} ms, p95 {media.get('turnLatencyP95Ms')} ms, "
                     f"max {media.get('turnLatencyMaxMs')} ms")
    if media.get("bargeIns"):
        parts.append(f"{media['bargeIns']} barge-in(s), StopAudio p95 {media.get('bargeInStopAudioP95Ms', '-')} ms")
    if media.get("deadAirCount"):
        parts.append(f"dead air {media['deadAirCount']} time(s), {media.get('deadAirMs')} ms in all")
    return "; ".join(parts)


def recovery_note(recovery: Mapping[str, object] | None) -> str | None:
    """The media recovery's one line (shared/media_recovery.py `summary`), or None when nothing was lost."""
    if not recovery or not isinstance(recovery.get("drops"), int):
        return None
    listed = recovery.get("recoveredAfterSeconds")
    after = [value for value in listed if isinstance(value, int | float)] if isinstance(listed, list) else []
    drops = f"The media connection was lost {recovery['drops']} time(s)"
    if after and recovery.get("recovered") is True:
        times = ", ".join(format_duration(value) for value in after)
        return f"{drops} and recovered after {times}; speech in the gap is missing from the transcript."
    return f"{drops} and could not be restarted ({recovery.get('attempts', 0)} attempt(s))."


def summary_notes(call: CallSummaryInput) -> list[str]:
    """Why this email may lack what a reader expects: a lost media connection, no transcription, a failure."""
    notes = [INCOMPLETE_NOTE] if call.partial else []
    recovery = recovery_note(call.media_recovery)
    if recovery is not None:
        notes.append(recovery)
    if call.transcription == "not_configured":
        notes.append(NOT_TRANSCRIBED_NOTE)
    elif call.transcription == "off":
        notes.append(NOT_STARTED_NOTE)
    if call.summary_error is not None:
        notes.append(SUMMARY_FAILED_NOTE.format(error=_one_line(call.summary_error, 200)))
    return notes
# C0/C1 controls and Unicode line breaks: none may reach a subject line or a one-line field.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class RenderedSummary:
    subject: str
    plain_text: str
    html: str
    topics: tuple[str, ...]
    transcript_truncated: bool


# --- rendering helpers --------------------------------------------------------------------------------


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_duration(seconds: float) -> str:
    """Human form: "45 s", "2 min 5 s", "1 h 3 min"."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)


def call_duration(call: CallSummaryInput) -> str | None:
    connected, ended = parse_iso(call.connected_at), parse_iso(call.ended_at)
    if connected is None or ended is None or ended < connected:
        return None
    return format_duration((ended - connected).total_seconds())


def mask_party(party: str) -> str:
    """A caller/callee/speaker label for display: raw ids and numbers masked, plain labels kept."""
    party = party.strip()
    if not party:
        return "unknown"
    if party.startswith(("+", "4:")):
        return mask_phone_number(party.removeprefix("4:"))
    if re.match(r"^\d{1,2}:", party):
        return mask_raw_id(party)
    return mask_phone_numbers_in_text(_clip(party, MAX_SPEAKER_CHARS))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: str, limit: int) -> str:
    return _clip(_CONTROL_CHARACTERS.sub(" ", text).strip(), limit)


def _offset(offset_ms: int) -> str:
    minutes, seconds = divmod(offset_ms // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def _media_rows(media: Mapping[str, object]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in media.items():
        items = value.items() if isinstance(value, Mapping) else [(None, value)]
        for sub_key, sub_value in items:
            if isinstance(sub_value, (dict, Mapping)):
                continue
            if isinstance(sub_value, list):
                parts = [str(item) for item in sub_value[:100]]
                # Keyed-in tones are joined so that a typed phone number is recognised and masked.
                shown = "".join(parts) if all(len(part) == 1 for part in parts) else ", ".join(parts)
            else:
                shown = "-" if sub_value is None else str(sub_value)
            name = str(key) if sub_key is None else f"{key}.{sub_key}"
            rows.append((_one_line(name, 80), mask_phone_numbers_in_text(_one_line(shown, MAX_DETAIL_CHARS))))
            if len(rows) >= MAX_MEDIA_ENTRIES:
                return rows
    return rows


# --- rendering ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TranscriptRows:
    rows: list[tuple[str, str, str]]  # (offset, masked speaker, text)
    truncated: bool


def in_order(transcript: Sequence[TranscriptSegment]) -> list[TranscriptSegment]:
    """By offset within each stretch between gap markers, the stretches as written: a restarted stream's
    offsets start again from zero (shared/transcript_lines.py)."""
    ordered: list[TranscriptSegment] = []
    stretch: list[TranscriptSegment] = []
    for segment in transcript:
        if segment.source == GAP:
            ordered += [*sorted(stretch, key=lambda item: item.offset_ms), segment]
            stretch = []
        else:
            stretch.append(segment)
    return ordered + sorted(stretch, key=lambda item: item.offset_ms)


def _transcript_rows(transcript: Sequence[TranscriptSegment], max_chars: int) -> _TranscriptRows:
    rows: list[tuple[str, str, str]] = []
    budget = max(0, max_chars)
    for segment in in_order(transcript):
        text = _CONTROL_CHARACTERS.sub(" ", segment.text).strip()
        if not text:
            continue
        offset, speaker = _offset(segment.offset_ms), mask_party(segment.speaker)
        cost = len(offset) + len(speaker) + len(text) + 6
        if cost > budget:
            room = budget - (len(offset) + len(speaker) + 6)
            if room > 20:
                rows.append((offset, speaker, text[: room - 3] + "..."))
            return _TranscriptRows(rows, truncated=True)
        rows.append((offset, speaker, text))
        budget -= cost
    return _TranscriptRows(rows, truncated=False)


def _subject(call: CallSummaryInput, caller: str, duration: str | None) -> str:
    label = OUTCOME_LABELS.get(call.outcome, f"Call ended ({call.outcome})")
    if call.direction == "outbound":  # the app called: whom it called matters, not its own caller id
        label, caller = label.replace("Call ", "Outbound call ", 1), mask_party(call.callee)
    subject = f"{label}: {caller}" + (f", {duration}" if duration else "")
    return _one_line(subject, MAX_SUBJECT_CHARS)


def _facts(call: CallSummaryInput, caller: str, duration: str | None, topics: tuple[str, ...]) -> list[tuple[str, str]]:
    facts = [
        ("Caller", caller),
        ("Called", mask_party(call.callee)),
        ("Outcome", _one_line(call.outcome, 80)),
        ("Rang at", _one_line(call.ringing_at, 64) or "-"),
    ]
    if call.outcome not in SHORT_OUTCOMES:
        facts.append(("Connected at", _one_line(call.connected_at or "not connected", 64)))
    if call.ended_at:
        facts.append(("Ended at", _one_line(call.ended_at, 64)))
    if duration:
        facts.append(("Duration", duration))
    if call.end_reason:
        facts.append(("End reason", mask_phone_numbers_in_text(_one_line(call.end_reason, MAX_DETAIL_CHARS))))
    if topics:
        facts.append(("Topics", ", ".join(topics)))
    return facts


def _timeline_rows(call: CallSummaryInput) -> list[tuple[str, str, str]]:
    return [
        (
            _one_line(entry.at, 64),
            _one_line(entry.event, 80),
            "" if entry.detail is None else mask_phone_numbers_in_text(_one_line(entry.detail, MAX_DETAIL_CHARS)),
        )
        for entry in sorted(call.timeline[:MAX_TIMELINE_ENTRIES], key=_entry_moment)
    ]


_UNDATED = datetime.max.replace(tzinfo=UTC)


def _entry_moment(entry: TimelineEntry) -> datetime:
    # In time order: some entries are noted after the fact at their own earlier time (a key press that arrives
    # with the media host's report). The sort is stable, and an entry without a readable time goes last.
    try:
        moment = datetime.fromisoformat(entry.at.replace("Z", "+00:00"))
    except ValueError:
        return _UNDATED
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _truncation_note(call: CallSummaryInput, max_chars: int) -> str:
    where = f"in blob {call.transcript_blob}" if call.transcript_blob else "stored with the call"
    return f"The transcript was shortened to {max_chars} characters; the full transcript is {where}."


def _e(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class _Section:
    heading: str
    rows: list[tuple[str, ...]]
    plain_row: Callable[[tuple[str, ...]], str]  # how one row reads in the plain-text email
    notes_before: tuple[str, ...] = ()
    notes_after: tuple[str, ...] = ()


def _plain_text(title: str, facts: list[tuple[str, str]], notes: list[str], sections: list[_Section],
                links: Sequence[tuple[str, str]] = ()) -> str:
    lines = [title, "=" * len(title), "", *(f"{label}: {value}" for label, value in [*facts, *links])]
    lines += ["", *notes] if notes else []
    for section in sections:
        lines += ["", section.heading, "-" * len(section.heading)]
        lines += [f"  {note}" for note in section.notes_before]
        lines += [f"  {section.plain_row(row)}" for row in section.rows]
        lines += [f"  {note}" for note in section.notes_after]
    return "\n".join([*lines, ""])


def _html(title: str, facts: list[tuple[str, str]], notes: list[str], sections: list[_Section],
          links: Sequence[tuple[str, str]] = ()) -> str:
    def table(rows: Sequence[Sequence[str]], header: bool = False) -> str:
        first = "th align=left" if header else "td"
        cells = ("<tr>" + f"<{first}>{_e(row[0])}</{first.split()[0]}>" + "".join(f"<td>{_e(c)}</td>" for c in row[1:])
                 + "</tr>" for row in rows)  # fmt: skip
        return "<table>" + "".join(cells) + "</table>"

    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{_e(title)}</title></head>',
             f'<body style="font-family:sans-serif"><h2>{_e(title)}</h2>', table(facts, header=True),
             *(f'<p>{_e(label)}: <a href="{_e(url)}">{_e(url)}</a></p>' for label, url in links),
             *(f"<p><strong>{_e(note)}</strong></p>" for note in notes)]  # fmt: skip
    for section in sections:
        parts.append(f"<h3>{_e(section.heading)}</h3>")
        parts += [f"<p><strong>{_e(note)}</strong></p>" for note in section.notes_before]
        parts.append(table(section.rows) if section.rows else "")
        parts += [f"<p><em>{_e(note)}</em></p>" for note in section.notes_after]
    return "".join([*parts, "</body></html>"])


def render_summary(
    call: CallSummaryInput,
    transcript: Sequence[TranscriptSegment],
    max_transcript_chars: int = 50_000,
    *,
    skipped_transcript_lines: int = 0,
) -> RenderedSummary:
    """The email for one call; a missed call gets a short one without transcript, timeline or media."""
    caller = mask_party(call.caller)
    call_id = ("Call id", _one_line(call.instance_id, 256))
    missed = call.outcome in SHORT_OUTCOMES
    duration = None if missed else call_duration(call)
    topics = () if missed else extract_topics([segment.text for segment in transcript])
    subject = _subject(call, caller, duration)
    facts = [*_facts(call, caller, duration, topics), call_id]
    if missed:
        return RenderedSummary(subject, _plain_text(subject, facts, [], []), _html(subject, facts, [], []), (), False)

    notes = summary_notes(call)
    voice = voice_line(call.media)
    if voice is not None:
        notes.append(f"Voice: {voice}.")
    if skipped_transcript_lines:
        notes.append(f"{skipped_transcript_lines} unreadable transcript line(s) were skipped.")
    sections: list[_Section] = []
    media_rows = _media_rows(call.media) if call.media else []
    if media_rows:
        sections.append(_Section("Media statistics", list(media_rows), lambda row: f"{row[0]}: {row[1]}"))
    timeline = _timeline_rows(call)
    if timeline:
        sections.append(
            _Section("Timeline", list(timeline), lambda row: f"{row[0]}  {row[1]}" + (f" - {row[2]}" if row[2] else ""))
        )
    rows = _transcript_rows(transcript, max_transcript_chars)
    after = [_truncation_note(call, max_transcript_chars)] if rows.truncated else []
    if not rows.rows:
        after.insert(0, "No transcript was recorded.")
    sections.append(
        _Section(
            "Transcript",
            [(f"[{offset}]", f"{speaker}:", text) for offset, speaker, text in rows.rows],
            lambda row: " ".join(row),
            notes_before=(INCOMPLETE_NOTE,) if call.partial else (),
            notes_after=tuple(after),
        )
    )
    links = [("Recording", call.recording_url)] if call.recording_url else []
    return RenderedSummary(
        subject=subject,
        plain_text=_plain_text(subject, facts, notes, sections, links),
        html=_html(subject, facts, notes, sections, links),
        topics=topics,
        transcript_truncated=rows.truncated,
    )
