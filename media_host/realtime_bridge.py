"""The `realtime` voice processor: bridges a call to Azure OpenAI Realtime / Voice Live over WebSocket.

Caller audio goes up as `input_audio_buffer.append` (24 kHz; resampled from 16 kHz when ACS streams at
16 kHz); the model's audio comes back as deltas, is cut into 20 ms frames and paced to ACS. Server VAD
decides turns; when the caller starts speaking (`input_audio_buffer.speech_started`) the bridge barges in:
StopAudio to ACS (drops what ACS queued) and our own queue, and `response.cancel` to the model. Both
sides' final transcripts go into the call's transcript (source "caller" / "assistant").

Failure policy: if the model cannot be reached or drops, the call goes on without a voice (ACS
transcription, if configured, is still stored); nothing here closes the ACS socket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Coroutine
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from media_host.call_control import CallControl
from media_host.config import MediaHostConfig, RealtimeSettings
from media_host.voice import CallOutput
from shared.call_action_tools import (
    RESPONSE_CREATE,
    TOOL_CALL_EVENT,
    ToolCall,
    action_request_for,
    function_call_output,
    parse_tool_call,
    with_tools,
)
from shared.media_codec import AudioData, AudioMetadata
from shared.transcript_lines import segment_from_voice
from shared.voice_realtime_protocol import (
    MODEL_SAMPLE_RATE,
    AssistantTranscript,
    AudioDelta,
    CallerTranscript,
    OtherEvent,
    RealtimeProtocolError,
    ResponseDone,
    ResponseStarted,
    ServerError,
    SpeechStarted,
    append_audio,
    cancel_response,
    parse_server_event,
    realtime_url,
    session_update,
)
from shared.voice_resample import Resampler

log = logging.getLogger("media_host.realtime")

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
UPSTREAM_QUEUE_FRAMES = 50  # 1 s of caller audio waiting for the model's socket; then the oldest is dropped
MAX_TOOL_CALLS_IN_FLIGHT = 4
CONNECT_TIMEOUT = 10.0


class EntraTokenSource:
    """Bearer tokens from DefaultAzureCredential (managed identity in Azure), shared by all calls."""

    def __init__(self) -> None:
        self._credential: Any = None

    async def header(self) -> dict[str, str]:
        if self._credential is None:
            from azure.identity.aio import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        token = await self._credential.get_token(COGNITIVE_SERVICES_SCOPE)
        return {"Authorization": f"Bearer {token.token}"}

    async def close(self) -> None:
        if self._credential is not None:
            await self._credential.close()


class RealtimeProcessor:
    name = "realtime"
    needs_pcm = True  # validated up front: this audio leaves our network

    def __init__(self, settings: RealtimeSettings, tokens: EntraTokenSource | None = None) -> None:
        self._settings = settings
        self._tokens = tokens
        self._output: CallOutput | None = None
        self._model: ClientConnection | None = None
        self._sample_rate = MODEL_SAMPLE_RATE
        self._upstream: Resampler | None = None
        self._downstream: Resampler | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=UPSTREAM_QUEUE_FRAMES)
        self._tasks: list[asyncio.Task[None]] = []
        self._responding = False
        self._speech_starts: dict[str, int] = {}
        self.dropped_upstream = 0
        self._unavailable = False
        self._call_control: CallControl | None = None
        self._tool_tasks: set[asyncio.Task[None]] = set()

    def bind_call_control(self, control: CallControl) -> None:
        """Offer the model the call-control tools (transfer, end call); called before `start`."""
        self._call_control = control

    async def start(self, output: CallOutput) -> None:
        self._output = output
        settings = self._settings
        url = realtime_url(settings.endpoint, settings.deployment, settings.api_version)
        try:
            if settings.api_key is not None:
                headers = {"api-key": settings.api_key}
            else:
                headers = await (self._tokens or EntraTokenSource()).header()
            self._model = await asyncio.wait_for(
                connect(url, additional_headers=headers, compression=None, max_size=2**24, open_timeout=None),
                CONNECT_TIMEOUT,
            )
            shape = "preview" if settings.api_version else "ga"
            update = session_update(shape, settings.instructions, settings.voice, settings.transcription_model)
            await self._model.send(with_tools(update) if self._call_control is not None else update)
        except Exception as error:  # noqa: BLE001 - network, handshake or credential: the call must go on
            log.error("realtime model unreachable (%s): the call continues without a voice", type(error).__name__)
            self._model = None
            self._unavailable = True
            while not self._queue.empty():
                self._queue.get_nowait()
            return
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._send_upstream()), loop.create_task(self._receive())]

    def on_metadata(self, metadata: AudioMetadata) -> None:
        self._sample_rate = metadata.sample_rate
        if metadata.sample_rate != MODEL_SAMPLE_RATE:
            self._upstream = Resampler(metadata.sample_rate, MODEL_SAMPLE_RATE)
            self._downstream = Resampler(MODEL_SAMPLE_RATE, metadata.sample_rate)
        else:
            self._upstream = self._downstream = None

    def on_audio(self, frame: AudioData) -> None:
        # Before the model's socket is up, audio waits in the bounded queue (the caller's first words are
        # kept); after a failed connection there is nobody to send it to.
        if self._unavailable:
            return
        if self._upstream is None:
            audio_b64 = frame.data_b64  # already 24 kHz: forwarded as sent, not decoded or re-encoded
        else:
            audio_b64 = base64.b64encode(self._upstream.process(frame.pcm)).decode("ascii")
        if self._queue.full():  # the model's socket is behind: keep the most recent second
            self._queue.get_nowait()
            self.dropped_upstream += 1
        self._queue.put_nowait(audio_b64)

    async def _send_upstream(self) -> None:
        assert self._model is not None
        with contextlib.suppress(ConnectionClosed):  # _receive reports the closure
            while True:
                audio_b64 = await self._queue.get()
                await self._model.send(append_audio(audio_b64))

    async def _receive(self) -> None:
        assert self._model is not None and self._output is not None
        output = self._output
        try:
            async for message in self._model:
                try:
                    event = parse_server_event(message)
                except RealtimeProtocolError as error:
                    log.warning("unreadable realtime event: %s", error)
                    continue
                if isinstance(event, AudioDelta):
                    self._responding = True
                    pcm = base64.b64decode(event.audio_b64)
                    if self._downstream is not None:
                        pcm = self._downstream.process(pcm)
                    await output.wait_for_room()  # back-pressure: the model's socket waits, audio is not lost
                    output.send_audio_pcm(pcm)
                elif isinstance(event, SpeechStarted):
                    await self._barge_in()
                    if event.item_id is not None and event.audio_start_ms is not None:
                        self._speech_starts[event.item_id] = event.audio_start_ms
                elif isinstance(event, CallerTranscript):
                    if event.text:
                        offset = self._speech_starts.pop(event.item_id or "", None)
                        output.add_transcript(segment_from_voice(
                            "caller", event.text, offset if offset is not None else output.call_offset_ms()))
                elif isinstance(event, AssistantTranscript):
                    if event.text:
                        output.add_transcript(segment_from_voice("assistant", event.text, output.call_offset_ms()))
                elif isinstance(event, ResponseStarted):
                    self._responding = True
                elif isinstance(event, ResponseDone):
                    self._responding = False
                    output.flush_audio()
                elif isinstance(event, ServerError):
                    log.warning("realtime error event: %s", event.code or event.message)
                elif isinstance(event, OtherEvent) and event.type == TOOL_CALL_EVENT:
                    self._on_tool_call(message)
        except ConnectionClosed as closed:
            log.warning("realtime model connection closed (%s)", closed.rcvd.code if closed.rcvd else "no close frame")

    def _on_tool_call(self, message: str | bytes) -> None:
        # Rare, so parsed a second time here rather than typed in the protocol module.
        if self._call_control is None:
            log.warning("realtime tool call ignored: call control is off (no CALLBACK_BASE_URL)")
            return
        event = json.loads(message)
        call = parse_tool_call(event)
        if call is None:
            call_id = event.get("call_id")
            log.warning("realtime tool call refused: not one of ours")
            if isinstance(call_id, str) and call_id:  # answered, so the model does not wait for it
                self._spawn_tool_task(self._refuse_tool_call(ToolCall(call_id[:128], "unknown")))
            return
        # The model's events keep flowing (and the caller keeps hearing it) while the function app answers.
        self._spawn_tool_task(self._run_tool_call(call))

    def _spawn_tool_task(self, work: Coroutine[Any, Any, None]) -> None:
        if len(self._tool_tasks) >= MAX_TOOL_CALLS_IN_FLIGHT:
            work.close()
            log.warning("realtime tool call dropped: too many in flight")
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tool_tasks.add(task)
        task.add_done_callback(self._tool_tasks.discard)

    async def _refuse_tool_call(self, call: ToolCall) -> None:
        assert self._model is not None
        with contextlib.suppress(ConnectionClosed):
            await self._model.send(function_call_output(call, False, "unknown tool"))
            await self._model.send(RESPONSE_CREATE)

    async def _run_tool_call(self, call: ToolCall) -> None:
        assert self._call_control is not None and self._model is not None
        reply = await self._call_control.request_action(action_request_for(call))
        detail = reply.error or (None if reply.status is not None else "call control unreachable")
        with contextlib.suppress(ConnectionClosed):
            await self._model.send(function_call_output(call, reply.accepted, detail))
            await self._model.send(RESPONSE_CREATE)

    async def _barge_in(self) -> None:
        assert self._output is not None and self._model is not None
        self._output.stop_audio()
        if self._downstream is not None:
            self._downstream.reset()
        if self._responding:
            self._responding = False
            with contextlib.suppress(ConnectionClosed):
                await self._model.send(cancel_response())

    async def close(self) -> None:
        for task in [*self._tasks, *self._tool_tasks]:
            task.cancel()
        for task in [*self._tasks, *self._tool_tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._model is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._model.close(), 2)
        if self.dropped_upstream:
            log.warning("caller audio dropped before the model: %d frames", self.dropped_upstream)


_shared_tokens = EntraTokenSource()


def realtime_processor_factory(config: MediaHostConfig) -> RealtimeProcessor:
    if config.realtime is None:
        raise ValueError("REALTIME_ENDPOINT and REALTIME_DEPLOYMENT are not set")
    return RealtimeProcessor(config.realtime, _shared_tokens)
