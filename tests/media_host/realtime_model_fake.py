"""A loopback realtime model that behaves like Azure OpenAI Realtime / Voice Live, for the bridge's tests.

Each behaviour cites where the service is documented to do it. Sources: the `openai` package's generated
types, `src/openai/types/realtime/*.py` (named below by file), the `azure-ai-voicelive` models
(`azure.ai.voicelive.models`), and Microsoft Learn's "How to use the Voice Live API". Where the sources
leave room, the fake is stricter than the service (it answers with an `error` rather than guessing).

- `session.created` first, `session.updated` after each `session.update` (session_created_event.py,
  session_updated_event.py); a GA session without `type: "realtime"` is refused
  (realtime_session_create_request_param.py: `type` is required).
- Server VAD on the appended audio: `speech_started` when the caller's audio gets loud, with
  `audio_start_ms` in the input buffer's time, `speech_stopped` after `silence_duration_ms` of quiet, then
  `committed`, the transcription (completed or failed) and, with `create_response`, a response
  (realtime_audio_input_turn_detection_param.py, input_audio_buffer_speech_started_event.py,
  conversation_item_input_audio_transcription_failed_event.py).
- With `interrupt_response` the active response is cancelled by the service itself on `speech_started`:
  `response.done` with status `cancelled`, reason `turn_detected` (realtime_response_status.py).
- `response.cancel` with no active response gets an `error` (response_cancel_event_param.py: "If there is
  no response to cancel, the server will respond with an error").
- `response.create` while a response is active gets an `error`: one response writes to the default
  conversation at a time (response_create_event_param.py).
- Audio streams faster than real time (conversation_item_truncate_event_param.py: "The server will produce
  audio faster than realtime"); answers are as long as the test asks (20 s in the barge-in test), after a
  `think_seconds` the test may set (the model's own time to its first audio byte; 0 by default).
- `conversation.item.truncate`: only an assistant item, `content_index` 0, and `audio_end_ms` not beyond
  the audio sent, else an `error`; success answers `conversation.item.truncated`
  (conversation_item_truncate_event_param.py, conversation_item_truncated_event.py).
- A tool call's `response.function_call_arguments.done` is sent whatever becomes of the response, so a
  cancelled response can carry one (response_function_call_arguments_done_event.py; realtime_response.py
  lists the function call in `output` of every status).
- Failed responses: `response.done` status `failed` with `status_details.error` (realtime_response_status.py).
- Voice Live: the voice is an object `{"name", "type": "azure-standard"}` (AzureStandardVoice), input at
  `input_audio_sampling_rate` and output `pcm16_16000hz` (OutputAudioFormat); with
  `turn_detection.auto_truncate` it truncates the interrupted item itself (AzureSemanticVad).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import json
import math
import time
from array import array
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

Service = Literal["ga", "preview", "voice_live"]
LOUD_RMS = 500.0


def _user_text_message(item: dict[str, Any]) -> bool:
    content = item.get("content")
    return item.get("role") == "user" and isinstance(content, list) and bool(content) and all(
        isinstance(part, dict) and part.get("type") == "input_text" and isinstance(part.get("text"), str)
        for part in content)


@dataclass
class Answer:
    """One response of the model."""

    audio_seconds: float = 2.0
    transcript: str = "Sure, I can help."
    tool: str | None = None  # a function call in the response, sent after `tool_after_seconds` of audio
    tool_after_seconds: float = 0.0
    status: Literal["completed", "failed"] = "completed"
    error_code: str = "rate_limit_exceeded"
    think_seconds: float = 0.0  # from response.created to the first audio delta


@dataclass
class Turn:
    """What the service makes of one caller utterance."""

    transcript: str = "I need help."
    transcription_fails: bool = False


@functools.lru_cache(maxsize=32)  # the load bench asks for the same answers many times
def tone(rate: int, seconds: float, frequency: float = 440.0) -> bytes:
    count = int(rate * seconds)
    return array("h", (int(8000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(count))).tobytes()


def rms(pcm: bytes) -> float:
    samples = array("h", pcm[: len(pcm) // 2 * 2])
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


@dataclass
class LoopbackRealtimeModel:
    service: Service = "ga"
    answers: list[Answer] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    speed: float = 4.0  # times real time
    chunk_ms: int = 100
    # what was seen
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    session: dict[str, Any] = field(default_factory=dict)
    appended: list[bytes] = field(default_factory=list)
    client_events: list[dict[str, Any]] = field(default_factory=list)
    errors_sent: list[dict[str, Any]] = field(default_factory=list)
    truncated: list[dict[str, Any]] = field(default_factory=list)
    speech_started_at: list[float] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # the final response.done bodies
    audio_items: dict[str, int] = field(default_factory=dict)  # assistant item -> ms of audio sent
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _active: asyncio.Task[None] | None = None
    _cancel_reason: str | None = None
    _input_ms: int = 0
    _speaking: bool = False
    _quiet_ms: int = 0
    _user_item: str | None = None

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.client_events if event["type"] == kind]

    @property
    def rate(self) -> int:
        if self.service == "voice_live":
            return int(self.session.get("input_audio_sampling_rate") or 24000)
        return 24000

    @property
    def output_rate(self) -> int:
        if self.service == "voice_live" and self.session.get("output_audio_format") == "pcm16_16000hz":
            return 16000
        return 24000

    @property
    def turn_detection(self) -> dict[str, Any]:
        if self.service == "ga":
            return dict(self.session.get("audio", {}).get("input", {}).get("turn_detection") or {})
        return dict(self.session.get("turn_detection") or {})

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    async def _send(self, ws: ServerConnection, event: dict[str, Any]) -> None:
        event.setdefault("event_id", self._id("event"))
        if event["type"] == "error":
            self.errors_sent.append(event)
        if event["type"] == "input_audio_buffer.speech_started":
            self.speech_started_at.append(time.monotonic())
        await ws.send(json.dumps(event))

    async def _error(self, ws: ServerConnection, code: str, message: str, client_event: dict[str, Any]) -> None:
        await self._send(ws, {"type": "error", "error": {"type": "invalid_request_error", "code": code,
                                                         "message": message, "param": None,
                                                         "event_id": client_event.get("event_id")}})

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.headers, self.path = dict(ws.request.headers), ws.request.path
        await self._send(ws, {"type": "session.created", "session": {"id": self._id("sess"), "model": "gpt-realtime"}})
        try:
            async for message in ws:
                event = json.loads(message)
                self.client_events.append(event)
                await self._on_client_event(ws, event)
        except ConnectionClosed:
            pass
        finally:
            if self._active is not None:
                self._active.cancel()

    async def _on_client_event(self, ws: ServerConnection, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "session.update":
            session = event["session"]
            if self.service == "ga" and session.get("type") != "realtime":
                await self._error(ws, "invalid_value", "session.type must be 'realtime'", event)
                return
            self.session = session
            await self._send(ws, {"type": "session.updated", "session": session})
        elif kind == "input_audio_buffer.append":
            await self._on_audio(ws, base64.b64decode(event["audio"]))
        elif kind == "response.cancel":
            if self._active is None or self._active.done():
                await self._error(ws, "response_cancel_not_active", "Cancellation failed: no active response "
                                  "found", event)
            else:
                self._cancel_reason = "client_cancelled"
        elif kind == "response.create":
            if self._active is not None and not self._active.done():
                await self._error(ws, "conversation_already_has_active_response",
                                  "Conversation already has an active response", event)
            else:
                self._respond(ws)
        elif kind == "conversation.item.truncate":
            await self._truncate(ws, event)
        elif kind == "conversation.item.create":
            item = event["item"]
            if item.get("type") == "message" and not _user_text_message(item):
                # Strict: a client message item here is the user's, with text content parts only (OpenAI realtime
                # RealtimeConversationItemUserMessage, content type input_text).
                await self._error(ws, "invalid_value", "a user message needs role user and input_text content", event)
                return
            await self._send(ws, {"type": "conversation.item.created", "item": item})

    async def _on_audio(self, ws: ServerConnection, pcm: bytes) -> None:
        self.appended.append(pcm)
        chunk_ms = len(pcm) * 500 // self.rate
        self._input_ms += chunk_ms
        vad = self.turn_detection
        if not vad:
            return
        loud = rms(pcm) >= LOUD_RMS
        if loud and not self._speaking:
            self._speaking, self._quiet_ms = True, 0
            self._user_item = self._id("item")
            start = max(0, self._input_ms - chunk_ms - int(vad.get("prefix_padding_ms", 300)))
            await self._send(ws, {"type": "input_audio_buffer.speech_started", "audio_start_ms": start,
                                  "item_id": self._user_item})
            if vad.get("interrupt_response", True) and self._active is not None and not self._active.done():
                self._cancel_reason = "turn_detected"
                if vad.get("auto_truncate"):
                    self._cancel_reason = "turn_detected+auto_truncate"
        elif self._speaking and not loud:
            self._quiet_ms += chunk_ms
            if self._quiet_ms >= int(vad.get("silence_duration_ms", 500)):
                self._speaking = False
                await self._end_of_turn(ws, vad)

    async def _end_of_turn(self, ws: ServerConnection, vad: dict[str, Any]) -> None:
        item = self._user_item
        await self._send(ws, {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": self._input_ms,
                              "item_id": item})
        await self._send(ws, {"type": "input_audio_buffer.committed", "item_id": item, "previous_item_id": None})
        turn = self.turns.pop(0) if self.turns else Turn()
        if turn.transcription_fails:
            await self._send(ws, {"type": "conversation.item.input_audio_transcription.failed", "item_id": item,
                                  "content_index": 0, "error": {"type": "transcription_error",
                                                                "code": "audio_unintelligible",
                                                                "message": "Audio could not be transcribed"}})
        else:
            await self._send(ws, {"type": "conversation.item.input_audio_transcription.completed",
                                  "item_id": item, "content_index": 0, "transcript": turn.transcript})
        if vad.get("create_response", True) and (self._active is None or self._active.done()):
            self._respond(ws)

    def _respond(self, ws: ServerConnection) -> None:
        if not self.answers:
            return  # the test has nothing more for the model to say
        self._cancel_reason = None
        self._active = asyncio.get_running_loop().create_task(self._stream(ws, self.answers.pop(0)))

    async def _stream(self, ws: ServerConnection, answer: Answer) -> None:
        response_id, item_id = self._id("resp"), self._id("item")
        delta = "response.output_audio.delta" if self.service == "ga" else "response.audio.delta"
        transcript_done = ("response.output_audio_transcript.done" if self.service == "ga"
                           else "response.audio_transcript.done")
        await self._send(ws, {"type": "response.created", "response": {"id": response_id, "status": "in_progress",
                                                                        "output": []}})
        output: list[dict[str, Any]] = []
        if answer.status == "failed":
            await self._done(ws, response_id, output, "failed", {
                "type": "failed", "error": {"type": "server_error", "code": answer.error_code,
                                            "message": "Rate limit reached for the deployment"}})
            return
        thinking_from = time.monotonic()
        audio = tone(self.output_rate, answer.audio_seconds)  # its own cost counts in the think time
        if answer.think_seconds:
            await asyncio.sleep(max(0.0, thinking_from + answer.think_seconds - time.monotonic()))
        output.append({"id": item_id, "type": "message", "role": "assistant", "status": "in_progress"})
        self.audio_items[item_id] = 0
        chunk = self.output_rate * 2 * self.chunk_ms // 1000
        sent_ms = 0.0
        for offset in range(0, len(audio), chunk):
            if self._cancel_reason is not None:
                break
            if answer.tool is not None and sent_ms >= answer.tool_after_seconds * 1000 and not output[1:]:
                await self._tool_call(ws, response_id, answer.tool, output)
            piece = audio[offset:offset + chunk]
            await self._send(ws, {"type": delta, "response_id": response_id, "item_id": item_id,
                                  "output_index": 0, "content_index": 0, "delta": base64.b64encode(piece).decode()})
            self.audio_items[item_id] += len(piece) * 500 // self.output_rate
            sent_ms += len(piece) * 500 / self.output_rate
            await asyncio.sleep(len(piece) / 2 / self.output_rate / self.speed)
        if self._cancel_reason is not None:
            if self._cancel_reason.endswith("auto_truncate"):
                self.truncated.append({"item_id": item_id, "by": "service"})
            reason = "client_cancelled" if self._cancel_reason == "client_cancelled" else "turn_detected"
            await self._done(ws, response_id, output, "cancelled", {"type": "cancelled", "reason": reason})
            return
        if answer.tool is not None and not output[1:]:
            await self._tool_call(ws, response_id, answer.tool, output)
        await self._send(ws, {"type": transcript_done, "response_id": response_id, "item_id": item_id,
                              "output_index": 0, "content_index": 0, "transcript": answer.transcript})
        await self._done(ws, response_id, output, "completed", None)

    async def _tool_call(self, ws: ServerConnection, response_id: str, name: str, output: list[dict[str, Any]]) -> None:
        call_item = {"id": self._id("item"), "type": "function_call", "call_id": self._id("call"), "name": name,
                     "arguments": '{"reason": "the caller is done"}', "status": "completed"}
        output.append(call_item)
        await self._send(ws, {"type": "response.function_call_arguments.done", "response_id": response_id,
                              "item_id": call_item["id"], "output_index": len(output) - 1,
                              "call_id": call_item["call_id"], "name": name, "arguments": call_item["arguments"]})

    async def _done(self, ws: ServerConnection, response_id: str, output: list[dict[str, Any]], status: str,
                    details: dict[str, Any] | None) -> None:
        body = {"id": response_id, "object": "realtime.response", "status": status, "status_details": details,
                "output": output}
        self.responses.append(body)
        await self._send(ws, {"type": "response.done", "response": body})

    async def _truncate(self, ws: ServerConnection, event: dict[str, Any]) -> None:
        item_id, end = event.get("item_id"), event.get("audio_end_ms")
        if item_id not in self.audio_items or event.get("content_index") != 0:
            await self._error(ws, "invalid_value", "Only assistant message items can be truncated", event)
        elif not isinstance(end, int) or end < 0 or end > self.audio_items[item_id]:
            await self._error(ws, "invalid_value", "audio_end_ms is greater than the audio duration", event)
        else:
            self.truncated.append({"item_id": item_id, "audio_end_ms": end, "by": "client"})
            await self._send(ws, {"type": "conversation.item.truncated", "item_id": item_id, "content_index": 0,
                                  "audio_end_ms": end})
