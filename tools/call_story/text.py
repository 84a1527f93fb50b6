"""The call story and the call list as plain text for a terminal (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.call_lifecycle import parse_time


def _value(value: object) -> str:
    if value is None or value == "":
        return "-"
    return str(value).replace("\n", " ").replace("\r", " ")


def _seconds(value: object) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) and not isinstance(value, bool) else "-"


def render_story(story: Mapping[str, Any]) -> str:
    durations = _mapping(story.get("durations"))
    email = _mapping(story.get("email"))
    lines = [
        f"Call {_value(story.get('instanceId'))}: {_value(story.get('outcome'))} "
        f"({_value(story.get('runtimeStatus'))})",
        f"  caller {_value(story.get('caller'))} -> {_value(story.get('callee'))}",
        f"  rang {_value(story.get('ringingAt'))}, connected {_value(story.get('connectedAt'))}, "
        f"ended {_value(story.get('endedAt'))}",
        f"  end reason: {_value(story.get('endReason'))}",
        f"  answer {_seconds(durations.get('answerSeconds'))}, ring {_seconds(durations.get('ringSeconds'))}, "
        f"talk {_seconds(durations.get('talkSeconds'))}, total {_seconds(durations.get('totalSeconds'))}",
        f"  correlation {_value(story.get('correlationId'))}, connection {_value(story.get('callConnectionId'))}",
        f"  transcript {_value(story.get('transcriptBlob'))}"
        f"{' (may be incomplete)' if story.get('partial') else ''}",
        f"  email {_value(email.get('status'))}, operation {_value(email.get('operationId'))}",
    ]
    media = story.get("media")
    if isinstance(media, Mapping) and media:
        lines.append("  media " + ", ".join(f"{key} {_value(value)}" for key, value in media.items()))
    lines.append("")
    lines.append("Timeline")
    raw_timeline = story.get("timeline")
    timeline: list[Any] = raw_timeline if isinstance(raw_timeline, list) else []
    moments = [parse_time(entry.get("at")) for entry in timeline if isinstance(entry, Mapping)]
    start = min((moment for moment in moments if moment is not None), default=None)
    for entry in timeline:
        if not isinstance(entry, Mapping):
            continue
        moment = parse_time(entry.get("at"))
        offset = f"+{(moment - start).total_seconds():7.2f} s" if moment and start else "         -"
        marker = {"error": "!", "warning": "?"}.get(str(entry.get("status")), " ")
        lines.append(f"  {offset} {marker} {_value(entry.get('event')):<24} {_value(entry.get('meaning'))}")
        if entry.get("detail"):
            lines.append(f"  {'':10}   {'':<24} {_value(entry.get('detail'))}")
    return "\n".join(lines) + "\n"


def render_list(calls: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{'ringing at':<28} {'outcome':<14} {'ended at':<28} {'caller':<20} instance id"]
    for row in calls:
        # The call index has no outcome until the call's summary is prepared.
        lines.append(f"{_value(row.get('ringingAt')):<28} {_value(row.get('outcome') or '(running)'):<14} "
                     f"{_value(row.get('endedAt')):<28} {_value(row.get('caller')):<20} "
                     f"{_value(row.get('instanceId'))}")
    return "\n".join(lines) + "\n"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
