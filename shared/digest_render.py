"""The daily digest email: counts by outcome and direction, the reasons of rejected and redirected calls, and a
bounded list of the calls that were not served, each linked to its story (pure; text and HTML parts).

Values from outside (callers, reasons, instance ids) are masked where they could hold a phone number and escaped
in the HTML; the links go to the story page, which asks for the function key like every ops route.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from shared.daily_digest import NOT_SERVED, DigestCall, DigestCounts, count_calls
from shared.transfer_context import story_url

MAX_LISTED = 50
LABELS = {
    "completed": "Answered (completed)",
    "max_duration": "Answered, ended at the maximum duration",
    "transferred": "Transferred",
    "handed_off": "Handed off to an agent",
    "missed": "Missed",
    "rejected": "Rejected",
    "redirected": "Redirected",
    "after_hours_message": "After-hours message",
    "not_answered": "Outbound, not answered",
    "answer_failed": "Answer failed",
    "running": "No outcome recorded (still running?)",
}


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    plain_text: str
    html: str


def _label(outcome: str) -> str:
    return LABELS.get(outcome, outcome)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class _Listed:
    time: str
    caller: str
    outcome: str
    reason: str
    link: str


def _listed(calls: Sequence[DigestCall], zone: tzinfo, base_url: str) -> list[_Listed]:
    unserved = sorted((call for call in calls if call.outcome in NOT_SERVED),
                      key=lambda call: (call.ringing_at is None, call.ringing_at or 0, call.instance_id))
    return [_Listed(call.ringing_at.astimezone(zone).strftime("%H:%M") if call.ringing_at else "--:--",
                    call.caller, _label(call.outcome), call.reason or "-", story_url(base_url, call.instance_id))
            for call in unserved[:MAX_LISTED]]


def _sections(counts: DigestCounts) -> list[tuple[str, list[tuple[str, str]]]]:
    sections = [("By outcome", [(_label(outcome), str(n)) for outcome, n in counts.by_outcome]
                 + [("Dropped (connected, then cut off)", str(counts.dropped))]),
                ("By direction", [(direction, str(n)) for direction, n in counts.by_direction])]
    for outcome, reasons in counts.reasons.items():
        sections.append((f"{_label(outcome)}: reasons", [(reason, str(n)) for reason, n in reasons]))
    return sections


def render_digest(day: date, calls: Sequence[DigestCall], zone: tzinfo, base_url: str,
                  truncated: bool = False) -> RenderedDigest:
    """The digest of `day` (local in `zone`); `truncated`: the index read stopped early, so counts are lower
    bounds. `base_url` is the function app's (CALLBACK_BASE_URL), for the story links."""
    counts = count_calls(calls)
    listed = _listed(calls, zone, base_url)
    subject = f"Daily call digest {day.isoformat()}: {counts.total} calls, {counts.not_served} not answered"
    title = f"Calls on {day.isoformat()} ({zone})"
    notes = []
    if truncated:
        notes.append("Only part of the day could be read: the figures are lower bounds.")
    if counts.not_served > len(listed):
        notes.append(f"{counts.not_served - len(listed)} more calls not answered are not listed.")
    sections = _sections(counts)
    return RenderedDigest(subject, _plain(title, counts.total, sections, listed, notes),
                          _html(title, counts.total, sections, listed, notes))


def _plain(title: str, total: int, sections: list[tuple[str, list[tuple[str, str]]]], listed: list[_Listed],
           notes: list[str]) -> str:
    lines = [title, "=" * len(title), "", f"Calls: {total}"]
    for heading, rows in sections:
        lines += ["", heading, *(f"  {label}: {value}" for label, value in rows)]
    lines += ["", "Calls not answered" if listed else "Calls not answered: none"]
    lines += [f"  {row.time}  {row.caller}  {row.outcome}  {row.reason}  {row.link}" for row in listed]
    lines += [f"  {note}" for note in notes]
    return "\n".join([*lines, ""])


def _html(title: str, total: int, sections: list[tuple[str, list[tuple[str, str]]]], listed: list[_Listed],
          notes: list[str]) -> str:
    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{_e(title)}</title></head>',
             f'<body style="font-family:sans-serif"><h2>{_e(title)}</h2><p>Calls: {total}</p>']
    for heading, rows in sections:
        parts.append(f"<h3>{_e(heading)}</h3><table>"
                     + "".join(f"<tr><td>{_e(label)}</td><td>{_e(value)}</td></tr>" for label, value in rows)
                     + "</table>")
    parts.append("<h3>Calls not answered</h3>")
    if listed:
        parts.append("<table><tr><th align=left>Time</th><th align=left>Caller</th><th align=left>Outcome</th>"
                     "<th align=left>Reason</th><th align=left>Story</th></tr>"
                     + "".join(f"<tr><td>{_e(row.time)}</td><td>{_e(row.caller)}</td><td>{_e(row.outcome)}</td>"
                               f'<td>{_e(row.reason)}</td><td><a href="{_e(row.link)}">story</a></td></tr>'
                               for row in listed)
                     + "</table>")
    else:
        parts.append("<p>None.</p>")
    parts += [f"<p><em>{_e(note)}</em></p>" for note in notes]
    parts.append("</body></html>")
    return "".join(parts)
