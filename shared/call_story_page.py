"""The call story as one small HTML page that draws the timeline (pure: story in, HTML text out).

No script and no external resource: inline CSS only, so the page works under a `default-src 'none'` content
security policy. Every value from the story is escaped, since parts of it came from outside (ACS callbacks,
the media host).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from shared.call_lifecycle import parse_time

_STATUS_COLOURS = {"ok": "#1a7f37", "info": "#0969da", "warning": "#9a6700", "error": "#cf222e"}
MIN_LABEL_GAP_PERCENT = 4.0
RIGHT_EDGE_PERCENT = 80.0
_OUTCOME_COLOURS = {"completed": "#1a7f37", "transferred": "#8250df", "handed_off": "#8250df", "missed": "#9a6700",
                    "rejected": "#cf222e", "redirected": "#8250df"}

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: #59636e; margin-bottom: 16px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 20px; }
.facts dt { color: #59636e; } .facts dd { margin: 0; }
.axis { position: relative; height: 64px; margin: 48px 12px 28px; border-bottom: 2px solid #d0d7de; }
.tick { position: absolute; bottom: -7px; width: 12px; height: 12px; margin-left: -6px; border-radius: 6px; }
.tick span { position: absolute; bottom: 16px; left: 6px; transform: rotate(-35deg); transform-origin: left;
  white-space: nowrap; font-size: 11px; color: #59636e; }
.tick.end span { left: auto; right: 6px; transform: rotate(35deg); transform-origin: right; }
.talk { position: absolute; bottom: -4px; height: 6px; background: #b6e3c0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d8dee4; vertical-align: top; }
th { color: #59636e; font-weight: 600; }
td.event { font-weight: 600; white-space: nowrap; }
td.offset { font-variant-numeric: tabular-nums; white-space: nowrap; color: #59636e; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 6px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
code { font-size: 13px; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _offsets(timeline: Sequence[Mapping[str, Any]]) -> tuple[datetime | None, float]:
    moments = [moment for moment in (parse_time(entry.get("at")) for entry in timeline) if moment is not None]
    if not moments:
        return None, 0.0
    start = min(moments)
    return start, max((max(moments) - start).total_seconds(), 0.001)


def _seconds(value: object) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) and not isinstance(value, bool) else "–"


def _axis(story: Mapping[str, Any], timeline: Sequence[Mapping[str, Any]]) -> str:
    start, span = _offsets(timeline)
    if start is None:
        return ""

    def percent(value: object) -> float | None:
        moment = parse_time(value)
        return None if moment is None else 100.0 * (moment - start).total_seconds() / span

    parts = []
    talk_from, talk_to = percent(story.get("connectedAt")), percent(story.get("endedAt"))
    if talk_from is not None and talk_to is not None and talk_to > talk_from:
        parts.append(f'<div class="talk" style="left:{talk_from:.2f}%;width:{talk_to - talk_from:.2f}%" '
                     f'title="talking"></div>')
    last_label = -100.0
    for entry in timeline:
        left = percent(entry.get("at"))
        if left is None:
            continue
        colour = _STATUS_COLOURS.get(str(entry.get("status")), "#59636e")
        # Events close together share the first one's label; the table below lists them all.
        label = f"<span>{_e(entry.get('event'))}</span>" if left - last_label >= MIN_LABEL_GAP_PERCENT else ""
        last_label = left if label else last_label
        # Labels near the right edge lean left, so they stay on the page.
        css_class = "tick end" if left > RIGHT_EDGE_PERCENT else "tick"
        parts.append(f'<div class="{css_class}" style="left:{left:.2f}%;background:{colour}" '
                     f'title="{_e(entry.get("meaning"))}">{label}</div>')
    return f'<div class="axis" aria-label="timeline">{"".join(parts)}</div>'


def _rows(timeline: Sequence[Mapping[str, Any]]) -> str:
    start, _ = _offsets(timeline)
    rows = []
    for entry in timeline:
        moment = parse_time(entry.get("at"))
        offset = f"+{(moment - start).total_seconds():.2f} s" if moment and start else "–"
        colour = _STATUS_COLOURS.get(str(entry.get("status")), "#59636e")
        detail = entry.get("detail")
        rows.append(
            f'<tr><td class="offset" title="{_e(entry.get("at"))}">{_e(offset)}</td>'
            f'<td class="event"><span class="dot" style="background:{colour}"></span>{_e(entry.get("event"))}</td>'
            f'<td>{_e(entry.get("meaning"))}{"<br><code>" + _e(detail) + "</code>" if detail else ""}</td></tr>')
    return "".join(rows)


def _facts(pairs: Sequence[tuple[str, object]]) -> str:
    return "".join(f"<dt>{_e(name)}</dt><dd>{_e(value if value not in (None, '') else '–')}</dd>"
                   for name, value in pairs)


def render_call_story_page(story: Mapping[str, Any]) -> str:
    raw_timeline = story.get("timeline")
    timeline = [entry for entry in raw_timeline if isinstance(entry, Mapping)] \
        if isinstance(raw_timeline, list) else []
    outcome = str(story.get("outcome") or story.get("runtimeStatus") or "in progress")
    durations = _mapping(story.get("durations"))
    email = _mapping(story.get("email"))
    media = story.get("media") if isinstance(story.get("media"), Mapping) else None
    facts = _facts([
        ("Caller", story.get("caller")), ("Called", story.get("callee")),
        ("Rang at", story.get("ringingAt")), ("Connected at", story.get("connectedAt")),
        ("Ended at", story.get("endedAt")), ("End reason", story.get("endReason")),
        ("Answer time", _seconds(durations.get("answerSeconds"))),
        ("Ring time", _seconds(durations.get("ringSeconds"))),
        ("Talk time", _seconds(durations.get("talkSeconds"))), ("Total", _seconds(durations.get("totalSeconds"))),
        ("Transcript", story.get("transcriptBlob")), ("Summary", story.get("summaryBlob")),
        ("Email", f"{email.get('status', '–')} (operation {email.get('operationId', '–')})" if email else None),
        ("Correlation id", story.get("correlationId")), ("Call connection id", story.get("callConnectionId")),
        ("Transcript may be incomplete", "yes" if story.get("partial") else "no"),
    ])
    recordings = [item for item in story.get("recordings") or [] if isinstance(item, Mapping)]
    recordings_html = ("<h2>Recording</h2><ul>" + "".join(
        f'<li><a href="{_e(item.get("url"))}">{_e(item.get("blob"))}</a></li>' for item in recordings) + "</ul>"
        if recordings else "")
    media_html = (f"<h2>Media</h2><dl class=\"facts\">{_facts(list(media.items()))}</dl>" if media
                  else "<h2>Media</h2><p>No media stream for this call.</p>")
    media_html += _sockets_html(_mapping(story.get("mediaRecovery")))
    colour = _OUTCOME_COLOURS.get(outcome, "#59636e")
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Call {_e(story.get('instanceId'))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Call story <span class=\"badge\" style=\"background:{colour}\">{_e(outcome)}</span></h1>"
        f"<div class=\"sub\"><code>{_e(story.get('instanceId'))}</code> · {_e(story.get('runtimeStatus'))}</div>"
        f"{_axis(story, timeline)}"
        f"<table><thead><tr><th>When</th><th>Event</th><th>What it means</th></tr></thead>"
        f"<tbody>{_rows(timeline)}</tbody></table>"
        f"<h2>Call</h2><dl class=\"facts\">{facts}</dl>{recordings_html}{media_html}"
        "</body></html>"
    )


def _sockets_html(recovery: Mapping[str, Any]) -> str:
    """One row per media socket of a call whose stream was lost and restarted (shared/media_recovery.py)."""
    sockets = [item for item in recovery.get("sockets") or [] if isinstance(item, Mapping)]
    if not sockets:
        return ""
    after = ", ".join(f"{value} s" for value in recovery.get("recoveredAfterSeconds") or [])
    verdict = f"recovered after {after}" if recovery.get("recovered") and after else "not recovered"
    rows = "".join(
        "<tr>" + "".join(f"<td>{_e(item.get(key, '–'))}</td>" for key in
                         ("n", "startedAt", "lostAt", "framesReceived", "gaps", "closeCode")) + "</tr>"
        for item in sockets)
    return (f"<h3>Media sockets ({_e(verdict)})</h3><table><thead><tr><th>#</th><th>Started</th><th>Lost</th>"
            f"<th>Frames</th><th>Gaps</th><th>Close code</th></tr></thead><tbody>{rows}</tbody></table>")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
