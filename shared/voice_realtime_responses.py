"""Bookkeeping of a realtime session's responses (pure): which one is active, which were cut by barge-in,
whose tool calls wait for the end of their response, and when `response.create` may be sent.

Rules it keeps (the `openai` package's Realtime types):
- only one response may write to the default conversation at a time (response_create_event_param.py), so a
  `response.create` wanted while one is active waits for that one's `response.done`;
- `response.function_call_arguments.done` also comes for responses that end cancelled, failed or incomplete,
  so a tool call is released only by a `response.done` whose status is `completed` (realtime_response.py);
- after `speech_started` the service cancels the active response itself (interrupt_response), but deltas
  already in flight still arrive: they belong to an interrupted response and are not played.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_TOOL_CALLS_PER_RESPONSE = 8


@dataclass(frozen=True)
class Finished:
    """What a `response.done` releases."""

    tool_calls: tuple[Mapping[str, Any], ...]  # to run: empty unless the response completed
    dropped_tool_calls: int  # from a response that did not complete: never run
    had_audio: bool
    send_create: bool  # a response.create was waiting for this one to end


@dataclass
class ResponseTracker:
    active: str | None = None
    create_sent: bool = False
    create_wanted: bool = False
    interrupted: set[str] = field(default_factory=set)
    _tool_calls: dict[str | None, list[Mapping[str, Any]]] = field(default_factory=dict)
    _with_audio: set[str | None] = field(default_factory=set)

    def on_created(self, response_id: str | None) -> None:
        self.active = response_id
        self.create_sent = False

    def plays(self, response_id: str | None) -> bool:
        """A delta of this response may be played (it was not cut by barge-in)."""
        if response_id is not None and response_id in self.interrupted:
            return False
        self._with_audio.add(response_id)
        return True

    def on_speech_started(self) -> None:
        if self.active is not None:
            self.interrupted.add(self.active)

    def on_tool_call(self, response_id: str | None, event: Mapping[str, Any]) -> bool:
        """Hold a tool call until its response ends. False when the response already holds too many."""
        calls = self._tool_calls.setdefault(response_id, [])
        if len(calls) >= MAX_TOOL_CALLS_PER_RESPONSE:
            return False
        calls.append(event)
        return True

    def on_done(self, response_id: str | None, status: str) -> Finished:
        calls = tuple(self._tool_calls.pop(response_id, ()))
        had_audio = response_id in self._with_audio
        self._with_audio.discard(response_id)
        if response_id is not None:
            self.interrupted.discard(response_id)
        if self.active == response_id or response_id is None:
            self.active = None
        completed = status == "completed"
        send_create = self.create_wanted and self.active is None and not self.create_sent
        if send_create:
            self.create_wanted, self.create_sent = False, True
        return Finished(calls if completed else (), 0 if completed else len(calls), had_audio, send_create)

    def want_create(self) -> bool:
        """True: send `response.create` now. False: it is sent when the active response ends."""
        if self.create_sent:
            return False  # one is on its way: its response answers this wish too
        if self.active is None:
            self.create_sent = True
            return True
        self.create_wanted = True
        return False

    def on_error(self) -> None:
        """An `error` after our `response.create` (e.g. a response already active): try again at the next
        `response.done` rather than never."""
        if self.create_sent and self.active is None:
            self.create_sent, self.create_wanted = False, True
