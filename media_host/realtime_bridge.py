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
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from media_host.call_control import CallControl
from media_host.call_turns import CallTurns
from media_host.config import MediaHostConfig, RealtimeSettings
from media_host.realtime_fallback import fallback_pcm
from media_host.realtime_player import RealtimePlayer
from media_host.realtime_tools import RealtimeTools
from media_host.telemetry import record_realtime_failure
from media_host.voice import CallOutput
from shared.call_action_tools import RESPONSE_CREATE, with_tools
from shared.media_codec import AudioData, AudioMetadata, DtmfData
from shared.transcript_lines import segment_from_voice
from shared.voice_realtime_protocol import (
    PREFIX_PADDING_MS,
    AssistantTranscript,
    AudioDelta,
    CallerTranscript,
    RealtimeProtocolError,
    ResponseDone,
    ResponseStarted,
    ServerError,
    SessionOptions,
    SpeechStarted,
    SpeechStopped,
    ToolCallDone,
    TranscriptionFailed,
    append_audio,
    auto_truncates,
    key_press_item,
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
CONNECT_TIMEOUT = 10.0
METADATA_WAIT_SECONDS = 2.0  # Voice Live takes the call's rate: wait a moment for ACS's AudioMetadata
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
        # (base64 audio at the model's rate, when its frame arrived from ACS)
        self._queue: asyncio.Queue[tuple[str, float]] = asyncio.Queue(maxsize=UPSTREAM_QUEUE_FRAMES)
        self._tasks: list[asyncio.Task[None]] = []
        self._responses = ResponseTracker()
        self._player: RealtimePlayer | None = None
        self._speech_starts: dict[str, int] = {}
        self.dropped_upstream = 0
        self._unavailable = False
        self._call_control: CallControl | None = None
        self._tools: RealtimeTools | None = None
        self._turns: CallTurns | None = None

    def bind_turns(self, turns: CallTurns) -> None:
        """Report the caller's speech (the service's VAD), the model's audio and forwarded frames to `turns`."""
        self._turns = turns

    def bind_call_control(self, control: CallControl) -> None:
        """Offer the model the call-control tools (transfer, end call); called before `start`."""
        self._call_control = control

    async def _create_response(self) -> None:
        """`response.create`, now or (if a response is active) when that one is done."""
        if self._responses.want_create():
            await self._send(RESPONSE_CREATE)

    # --- start --------------------------------------------------------------------------------------------

    async def start(self, output: CallOutput) -> None:
        self._output = output
        self._player = RealtimePlayer(output, self._call_rate)
        if self._call_control is not None:
            self._tools = RealtimeTools(self._call_control, self._player, self._send, self._create_response)
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
        self._tasks += [loop.create_task(self._send_upstream()), loop.create_task(self._receive()),
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
        arrived = time.monotonic()
        if self._upstream is None:
            audio_b64 = frame.data_b64  # already at the model's rate: forwarded as sent, not re-encoded
        else:
            audio_b64 = base64.b64encode(self._upstream.process(frame.pcm)).decode("ascii")
        if self._queue.full():  # the model's socket is behind: keep the most recent second
            self._queue.get_nowait()
            self.dropped_upstream += 1
        self._queue.put_nowait((audio_b64, arrived))

    async def _send_upstream(self) -> None:
        assert self._model is not None
        with contextlib.suppress(ConnectionClosed):  # _receive reports the closure
            while True:
                audio_b64, arrived = await self._queue.get()
                await self._model.send(append_audio(audio_b64))
                if self._turns is not None:
                    # base64 length -> PCM bytes -> ms at the model's rate: the input buffer's own clock
                    self._turns.forwarded(len(audio_b64) * 1500 / (4 * self._model_rate), arrived)

    def on_dtmf(self, dtmf: DtmfData) -> None:
        """A key press (MEDIA_DTMF=on) reaches the model as the caller's text, and asks for its answer. Called
        synchronously by the media socket: the sends run as a task of their own."""
        item = key_press_item(dtmf.data)
        if item is None or self._model is None:
            return  # before the model's socket is up, or without one, the key is in the timeline only
        self._tasks = [task for task in self._tasks if not task.done()]
        self._tasks.append(asyncio.get_running_loop().create_task(self._send_key(item)))

    async def _send_key(self, item: str) -> None:
        await self._send(item)
        await self._create_response()

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

    async def _on_event(self, event: object) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            await handler(self, event)

    async def _on_audio_delta(self, event: AudioDelta) -> None:
        assert self._player is not None
        if self._responses.plays(event.response_id):
            if self._turns is not None:
                self._turns.model_audio(event.response_id)
            pcm = base64.b64decode(event.audio_b64)
            model_ms = len(pcm) * 500 / self._model_rate
            if self._downstream is not None:
                pcm = self._downstream.process(pcm)
            self._player.add(pcm, event.item_id, event.response_id, model_ms)

    async def _on_speech_started(self, event: SpeechStarted) -> None:
        if self._turns is not None:
            self._turns.speech_started(event.audio_start_ms, PREFIX_PADDING_MS)
        await self._barge_in()
        if event.item_id is not None and event.audio_start_ms is not None and len(self._speech_starts) < 64:
            self._speech_starts[event.item_id] = event.audio_start_ms

    async def _on_speech_stopped(self, event: SpeechStopped) -> None:
        if self._turns is not None:
            self._turns.speech_stopped(event.audio_end_ms)

    async def _on_caller_transcript(self, event: CallerTranscript) -> None:
        assert self._output is not None
        offset = self._speech_starts.pop(event.item_id or "", None)
        if event.text:
            self._output.add_transcript(segment_from_voice(
                "caller", event.text, offset if offset is not None else self._output.call_offset_ms()))

    async def _on_assistant_transcript(self, event: AssistantTranscript) -> None:
        assert self._output is not None
        if event.text:
            self._output.add_transcript(segment_from_voice("assistant", event.text, self._output.call_offset_ms()))

    async def _on_response_started(self, event: ResponseStarted) -> None:
        self._responses.on_created(event.response_id)

    async def _on_tool_call(self, event: ToolCallDone) -> None:
        # Held until the response's own response.done: only a completed response's calls run.
        if self._call_control is None:
            log.warning("realtime tool call ignored: call control is off (no CALLBACK_BASE_URL)")
        elif not self._responses.on_tool_call(event.response_id, event.fields):
            log.warning("realtime tool call dropped: too many in one response")

    async def _on_transcription_failed(self, event: TranscriptionFailed) -> None:
        self._speech_starts.pop(event.item_id or "", None)
        log.warning("realtime caller transcription failed: item %s, %s: %s", event.item_id, event.code,
                    event.message[:300])
        record_realtime_failure("transcription_failed", event.code)

    async def _on_server_error(self, event: ServerError) -> None:
        self._responses.on_error()
        log.warning("realtime error event: %s (%s, param %s): %s", event.code, event.type, event.param,
                    event.message[:300])
        record_realtime_failure("error", event.code)

    async def _on_response_done(self, event: ResponseDone) -> None:
        assert self._player is not None
        finished = self._responses.on_done(event.response_id, event.status)
        if finished.dropped_tool_calls:
            log.info("tool calls of a %s response not run: %d", event.status, finished.dropped_tool_calls)
        # cancelled means barge-in here (the service's own cancel): expected, not a failure.
        unsuccessful = event.status not in ("completed", "cancelled")
        if unsuccessful:
            log.warning("realtime response %s %s: %s %s", event.response_id, event.status,
                        event.reason or event.error_code, (event.error_message or "")[:300])
            record_realtime_failure(f"response_{event.status}"[:32], event.error_code or event.reason)
        if unsuccessful and (event.status == "failed" or not finished.had_audio):
            self._play_fallback()  # the caller would otherwise hear silence
        elif event.status != "cancelled":
            self._player.end_of_response(None, event.response_id)
        if finished.send_create:
            await self._send(RESPONSE_CREATE)
        if self._tools is not None:
            for fields in finished.tool_calls:
                self._tools.start(event.response_id, fields)

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

    # --- close ----------------------------------------------------------------------------------------------

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._tools is not None:
            await self._tools.close()
        if self._model is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._model.close(), 2)
        if self.dropped_upstream:
            log.warning("caller audio dropped before the model: %d frames", self.dropped_upstream)
        if self._player is not None and self._player.frames_dropped:
            log.warning("model audio dropped (buffer full): %d frames", self._player.frames_dropped)


_HANDLERS: dict[type, Callable[[RealtimeProcessor, Any], Awaitable[None]]] = {
    AudioDelta: RealtimeProcessor._on_audio_delta,
    SpeechStarted: RealtimeProcessor._on_speech_started,
    SpeechStopped: RealtimeProcessor._on_speech_stopped,
    CallerTranscript: RealtimeProcessor._on_caller_transcript,
    AssistantTranscript: RealtimeProcessor._on_assistant_transcript,
    ResponseStarted: RealtimeProcessor._on_response_started,
    ResponseDone: RealtimeProcessor._on_response_done,
    ToolCallDone: RealtimeProcessor._on_tool_call,
    TranscriptionFailed: RealtimeProcessor._on_transcription_failed,
    ServerError: RealtimeProcessor._on_server_error,
}
_shared_tokens = EntraTokenSource()
# The fallback phrase is decoded (and converted to 24 kHz) once, when the media host starts, not per call.
fallback_pcm(16000)
fallback_pcm(24000)


def realtime_processor_factory(config: MediaHostConfig) -> RealtimeProcessor:
    if config.realtime is None:
        raise ValueError("REALTIME_ENDPOINT and REALTIME_DEPLOYMENT are not set")
    return RealtimeProcessor(config.realtime, _shared_tokens)
