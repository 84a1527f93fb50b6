"""The `realtime` voice processor: bridges a call to Azure OpenAI Realtime (GA or preview) or Voice Live.

Caller audio goes up as `input_audio_buffer.append` (resampled only where the call's rate and the model's
differ). The model's socket is read continuously: its audio deltas are parked in the player's bounded buffer
(media_host/realtime_player.py), which a task of its own paces to ACS, so `speech_started`, tool calls and
errors are acted on the moment they arrive, never behind seconds of unplayed audio.

Barge-in (`input_audio_buffer.speech_started`): StopAudio to ACS at once, the local buffer dropped, and
`conversation.item.truncate` with the milliseconds the caller actually heard (Voice Live truncates itself:
`auto_truncate`). The service cancels the response itself (`interrupt_response`), so no `response.cancel`.

Tool calls run only for a response whose `response.done` says `completed`, and a hang-up or transfer waits
(bounded) until that response's audio has been heard. Every `error`, failed transcription and failed or
incomplete response is logged with its details and counted; a failed response leaves the caller a short
spoken fallback instead of silence.

Failure policy: if the model cannot be reached or drops, the call goes on without a voice (ACS
transcription, if configured, is still stored); nothing here closes the ACS socket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from media_host.call_control import CallControl
from media_host.config import MediaHostConfig, RealtimeSettings
from media_host.realtime_fallback import fallback_pcm
from media_host.realtime_player import RealtimePlayer
from media_host.telemetry import record_realtime_failure
from media_host.voice import CallOutput
from shared.call_action_tools import (
    END_CALL_TOOL,
    RESPONSE_CREATE,
    ToolCall,
    action_request_for,
    function_call_output,
    parse_tool_call,
    with_tools,
)
from shared.media_codec import AudioData, AudioMetadata
from shared.media_transcript import segment_from_voice
from shared.voice_realtime_protocol import (
    AssistantTranscript,
    AudioDelta,
    CallerTranscript,
    RealtimeProtocolError,
    ResponseDone,
    ResponseStarted,
    ServerError,
    SessionOptions,
    SpeechStarted,
    ToolCallDone,
    TranscriptionFailed,
    append_audio,
    auto_truncates,
    model_sample_rate,
    parse_server_event,
    realtime_url,
    session_update,
    truncate_item,
)
from shared.voice_realtime_responses import ResponseTracker
from shared.voice_resample import Resampler

log = logging.getLogger("media_host.realtime")

# Entra ID scopes: Azure OpenAI takes Cognitive Services tokens; Voice Live documents ai.azure.com (and
# still accepts the legacy Cognitive Services scope).
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
VOICE_LIVE_SCOPE = "https://ai.azure.com/.default"
UPSTREAM_QUEUE_FRAMES = 50  # 1 s of caller audio waiting for the model's socket; then the oldest is dropped
MAX_TOOL_CALLS_IN_FLIGHT = 4
CONNECT_TIMEOUT = 10.0
METADATA_WAIT_SECONDS = 2.0  # Voice Live takes the call's rate: wait a moment for ACS's AudioMetadata
AUDIO_PLAYED_WAIT_SECONDS = 30.0  # a hang-up or transfer waits at most this long for its goodbye to play
FALLBACK_RESPONSE = "local-fallback"


class EntraTokenSource:
    """Bearer tokens from DefaultAzureCredential (managed identity in Azure), shared by all calls."""

    def __init__(self) -> None:
        self._credential: Any = None

    async def header(self, scope: str = COGNITIVE_SERVICES_SCOPE) -> dict[str, str]:
        if self._credential is None:
            from azure.identity.aio import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        token = await self._credential.get_token(scope)
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
        self._call_rate = 16000
        self._model_rate = model_sample_rate(settings.service, self._call_rate)
        self._metadata = asyncio.Event()
        self._upstream: Resampler | None = None
        self._downstream: Resampler | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=UPSTREAM_QUEUE_FRAMES)
        self._tasks: list[asyncio.Task[None]] = []
        self._responses = ResponseTracker()
        self._player: RealtimePlayer | None = None
        self._speech_starts: dict[str, int] = {}
        self.dropped_upstream = 0
        self._unavailable = False
        self._call_control: CallControl | None = None
        self._tool_tasks: set[asyncio.Task[None]] = set()

    def bind_call_control(self, control: CallControl) -> None:
        """Offer the model the call-control tools (transfer, end call); called before `start`."""
        self._call_control = control

    # --- start --------------------------------------------------------------------------------------------

    async def start(self, output: CallOutput) -> None:
        self._output = output
        self._player = RealtimePlayer(output, self._call_rate)
        settings = self._settings
        url = realtime_url(settings.service, settings.endpoint, settings.deployment, settings.api_version)
        try:
            if settings.api_key is not None:
                headers = {"api-key": settings.api_key}
            else:
                scope = VOICE_LIVE_SCOPE if settings.service == "voice_live" else COGNITIVE_SERVICES_SCOPE
                headers = await (self._tokens or EntraTokenSource()).header(scope)
            self._model = await asyncio.wait_for(
                connect(url, additional_headers=headers, compression=None, max_size=2**24, open_timeout=None),
                CONNECT_TIMEOUT,
            )
            if settings.service == "voice_live":  # its session takes the call's own rate
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._metadata.wait(), METADATA_WAIT_SECONDS)
            self._model_rate = model_sample_rate(settings.service, self._call_rate)
            self._set_resamplers()
            update = session_update(SessionOptions(settings.service, settings.instructions, settings.voice,
                                                   settings.transcription_model, self._call_rate))
            await self._model.send(with_tools(update) if self._call_control is not None else update)
        except Exception as error:  # noqa: BLE001 - network, handshake or credential: the call must go on
            log.error("realtime model unreachable (%s): the call continues without a voice", type(error).__name__)
            self._model = None
            self._unavailable = True
            while not self._queue.empty():
                self._queue.get_nowait()
            return
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._send_upstream()), loop.create_task(self._receive()),
                       loop.create_task(self._player.run())]

    def on_metadata(self, metadata: AudioMetadata) -> None:
        self._call_rate = metadata.sample_rate
        if self._player is not None:
            self._player.set_sample_rate(metadata.sample_rate)
        self._set_resamplers()
        self._metadata.set()

    def _set_resamplers(self) -> None:
        # The model's rate is fixed once its session is set up; the call's may be announced before or after.
        same = self._call_rate == self._model_rate
        self._upstream = None if same else Resampler(self._call_rate, self._model_rate)
        self._downstream = None if same else Resampler(self._model_rate, self._call_rate)

    # --- caller audio (hot path) ----------------------------------------------------------------------------

    def on_audio(self, frame: AudioData) -> None:
        # Before the model's socket is up, audio waits in the bounded queue (the caller's first words are
        # kept); after a failed connection there is nobody to send it to.
        if self._unavailable:
            return
        if self._upstream is None:
            audio_b64 = frame.data_b64  # already at the model's rate: forwarded as sent, not re-encoded
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

    # --- the model's events ---------------------------------------------------------------------------------

    async def _receive(self) -> None:
        assert self._model is not None
        try:
            async for message in self._model:
                try:
                    event = parse_server_event(message)
                except RealtimeProtocolError as error:
                    log.warning("unreadable realtime event: %s", error)
                    continue
                await self._on_event(event)
        except ConnectionClosed as closed:
            log.warning("realtime model connection closed (%s)", closed.rcvd.code if closed.rcvd else "no close frame")

    async def _on_event(self, event: object) -> None:  # noqa: C901 - one branch per event kind, each short
        assert self._output is not None and self._player is not None
        output, responses = self._output, self._responses
        if isinstance(event, AudioDelta):
            if responses.plays(event.response_id):
                pcm = base64.b64decode(event.audio_b64)
                model_ms = len(pcm) * 500 / self._model_rate
                if self._downstream is not None:
                    pcm = self._downstream.process(pcm)
                self._player.add(pcm, event.item_id, event.response_id, model_ms)
        elif isinstance(event, SpeechStarted):
            await self._barge_in()
            if event.item_id is not None and event.audio_start_ms is not None and len(self._speech_starts) < 64:
                self._speech_starts[event.item_id] = event.audio_start_ms
        elif isinstance(event, CallerTranscript):
            offset = self._speech_starts.pop(event.item_id or "", None)
            if event.text:
                output.add_transcript(segment_from_voice(
                    "caller", event.text, offset if offset is not None else output.call_offset_ms()))
        elif isinstance(event, AssistantTranscript):
            if event.text:
                output.add_transcript(segment_from_voice("assistant", event.text, output.call_offset_ms()))
        elif isinstance(event, ResponseStarted):
            responses.on_created(event.response_id)
        elif isinstance(event, ResponseDone):
            await self._on_response_done(event)
        elif isinstance(event, ToolCallDone):
            if self._call_control is None:
                log.warning("realtime tool call ignored: call control is off (no CALLBACK_BASE_URL)")
            elif not responses.on_tool_call(event.response_id, event.fields):
                log.warning("realtime tool call dropped: too many in one response")
        elif isinstance(event, TranscriptionFailed):
            self._speech_starts.pop(event.item_id or "", None)
            log.warning("realtime caller transcription failed: item %s, %s: %s", event.item_id, event.code,
                        event.message[:300])
            record_realtime_failure("transcription_failed", event.code)
        elif isinstance(event, ServerError):
            responses.on_error()
            log.warning("realtime error event: %s (%s, param %s): %s", event.code, event.type, event.param,
                        event.message[:300])
            record_realtime_failure("error", event.code)

    async def _on_response_done(self, event: ResponseDone) -> None:
        assert self._player is not None
        finished = self._responses.on_done(event.response_id, event.status)
        if event.status in ("completed", "cancelled"):
            if event.status == "completed":
                self._player.end_of_response(None, event.response_id)
            if finished.dropped_tool_calls:
                log.info("tool calls of a %s response not run: %d", event.status, finished.dropped_tool_calls)
        else:
            log.warning("realtime response %s %s: %s %s", event.response_id, event.status,
                        event.reason or event.error_code, (event.error_message or "")[:300])
            record_realtime_failure(f"response_{event.status}"[:32], event.error_code or event.reason)
            if finished.dropped_tool_calls:
                log.info("tool calls of a %s response not run: %d", event.status, finished.dropped_tool_calls)
            if event.status == "failed" or not finished.had_audio:
                self._play_fallback()
            else:
                self._player.end_of_response(None, event.response_id)
        if finished.send_create:
            await self._send(RESPONSE_CREATE)
        for fields in finished.tool_calls:
            self._start_tool_call(event.response_id, fields)

    def _play_fallback(self) -> None:
        assert self._player is not None
        self._player.end_of_response(None, None)
        self._player.play(fallback_pcm(self._call_rate), FALLBACK_RESPONSE)

    async def _barge_in(self) -> None:
        assert self._output is not None and self._player is not None
        self._output.stop_audio()  # first: ACS drops what it holds while we tidy up
        self._responses.on_speech_started()
        cut = self._player.interrupt()
        if self._downstream is not None:
            self._downstream.reset()
        if auto_truncates(self._settings.service):
            return
        for item in cut:
            await self._send(truncate_item(item.item_id, item.played_ms))

    async def _send(self, message: str) -> None:
        if self._model is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._model.send(message)

    # --- tool calls -----------------------------------------------------------------------------------------

    def _start_tool_call(self, response_id: str | None, fields: Mapping[str, Any]) -> None:
        call = parse_tool_call(fields)
        if call is None:
            call_id = fields.get("call_id")
            log.warning("realtime tool call refused: not one of ours")
            if isinstance(call_id, str) and call_id:  # answered, so the model does not wait for it
                self._spawn_tool_task(self._answer_tool_call(ToolCall(call_id[:128], "unknown"), False,
                                                             "unknown tool"))
            return
        # The model's events keep flowing (and the caller keeps hearing it) while the function app answers.
        self._spawn_tool_task(self._run_tool_call(response_id, call))

    def _spawn_tool_task(self, work: Coroutine[Any, Any, None]) -> None:
        if len(self._tool_tasks) >= MAX_TOOL_CALLS_IN_FLIGHT:
            work.close()
            log.warning("realtime tool call dropped: too many in flight")
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tool_tasks.add(task)
        task.add_done_callback(self._tool_tasks.discard)

    async def _answer_tool_call(self, call: ToolCall, accepted: bool, detail: str | None) -> None:
        await self._send(function_call_output(call, accepted, detail))
        # An accepted hang-up or transfer ends the conversation: asking for another answer would only have
        # the model talk over the end of the call. A refusal is something the model should tell the caller.
        if not accepted and self._responses.want_create():
            await self._send(RESPONSE_CREATE)

    async def _run_tool_call(self, response_id: str | None, call: ToolCall) -> None:
        assert self._call_control is not None and self._player is not None
        # The goodbye ("transferring you now") is heard in full before the call changes.
        if not await self._player.wait_played(response_id, AUDIO_PLAYED_WAIT_SECONDS):
            if self._player.pending(response_id):
                log.warning("realtime %s: its audio did not finish playing in %.0f s; acting anyway",
                            call.name, AUDIO_PLAYED_WAIT_SECONDS)
            else:
                log.info("realtime %s not run: the caller spoke over the announcement", call.name)
                await self._send(function_call_output(call, False, "the caller interrupted; ask again"))
                return
        reply = await self._call_control.request_action(action_request_for(call))
        detail = reply.error or (None if reply.status is not None else "call control unreachable")
        if reply.accepted and call.name == END_CALL_TOOL:
            log.info("realtime end_call accepted: the call is ending")
        await self._answer_tool_call(call, reply.accepted, detail)

    # --- close ----------------------------------------------------------------------------------------------

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
        if self._player is not None and self._player.frames_dropped:
            log.warning("model audio dropped (buffer full): %d frames", self._player.frames_dropped)


_shared_tokens = EntraTokenSource()
# The fallback phrase is decoded (and converted to 24 kHz) once, when the media host starts, not per call.
fallback_pcm(16000)
fallback_pcm(24000)


def realtime_processor_factory(config: MediaHostConfig) -> RealtimeProcessor:
    if config.realtime is None:
        raise ValueError("REALTIME_ENDPOINT and REALTIME_DEPLOYMENT are not set")
    return RealtimeProcessor(config.realtime, _shared_tokens)
