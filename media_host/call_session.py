"""One call's media socket: message handling, then the end-of-call writes.

`handle_text` decodes each message (pure codec), updates statistics, hands audio to the voice processor and
final transcription segments to the call's append buffer. It is synchronous and runs inside the socket's
`data_received` (see inline_connection.py): nothing in it waits, on storage or on anything else. What
websockets still queues (binary or fragmented messages) reaches it through the public `recv()` loop in `run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from websockets.exceptions import ConnectionClosed

from media_host.blob_store import CallBlobStore
from media_host.call_control import CallControl
from media_host.call_output import WebSocketCallOutput
from media_host.call_transcripts import TRANSCRIPTION_CLOSE_WAIT_SECONDS, CallTranscripts
from media_host.call_turns import CallTurns
from media_host.host_logging import CallLogger
from media_host.inline_connection import InlineServerConnection
from media_host.telemetry import MediaCallTelemetry
from media_host.voice import VoiceProcessor
from shared.blob_names import media_report_blob
from shared.media_call_stats import MediaCallStats, media_document
from shared.media_codec import (
    AudioData,
    AudioMetadata,
    DtmfData,
    MediaMessage,
    MediaMessageError,
    TranscriptionData,
    TranscriptionMetadata,
    decode_media_message,
    encode_json,
)
from shared.media_report import CLEAN_CLOSE_CODES
from shared.media_route import TRANSCRIPTION, MediaSocketRoute
from shared.transcript_lines import segment_from_acs

log = logging.getLogger("media_host.call")

MAX_CONSECUTIVE_MALFORMED = 50
CLOSE_INVALID_DATA = 1007


class CallSession:
    def __init__(
        self,
        ws: InlineServerConnection,
        route: MediaSocketRoute,
        processor: VoiceProcessor,
        store: CallBlobStore,
        *,
        flush_timeout: float = 10.0,
        on_ended: Callable[[str, str, dict[str, Any]], Awaitable[object]] | None = None,
        call_control: CallControl | None = None,
        transcripts: CallTranscripts | None = None,
        dead_air_seconds: float = 3.0,
        socket_id: str | None = None,
        socket_seq: int | None = None,
    ) -> None:
        headers = ws.request.headers if ws.request is not None else {}
        self.ws = ws
        self.route = route
        # Tells this socket of the call from the next one (a restart after a drop): shared/media_recovery.py.
        self.socket_id, self.socket_seq = socket_id, socket_seq
        self.processor = processor
        self.store = store
        self.flush_timeout = flush_timeout
        self.on_ended = on_ended
        self.last_activity = time.monotonic()
        self.stats = MediaCallStats(
            instance_id=route.instance_id,
            call_connection_id=headers.get("x-ms-call-connection-id"),
            correlation_id=headers.get("x-ms-call-correlation-id"),
            started_at=datetime.now(UTC),
            voice_processor=processor.name,
        )
        # The media socket reports the call's end; a transcription socket only adds to the shared transcript.
        self.is_transcription = route.stream == TRANSCRIPTION
        self.transcripts = transcripts or CallTranscripts(store)
        self.call_transcript = self.transcripts.acquire(route.instance_id, transcription=self.is_transcription)
        self.transcript = self.call_transcript.buffer
        self._speakers = self.call_transcript.speakers
        # Turns of the media socket only; a processor with a VAD of its own reports the caller's speech itself.
        speaks = getattr(processor, "speaks", True)
        self.turns = None if self.is_transcription or not speaks else CallTurns(processor.name, dead_air_seconds)
        bind_turns = getattr(processor, "bind_turns", None)
        if self.turns is not None and bind_turns is not None:
            bind_turns(self.turns)
        self._on_caller_frame = (self.turns.caller_frame if self.turns is not None and bind_turns is None
                                 else None)
        self.output = WebSocketCallOutput(ws, self.stats, self.transcript, turns=self.turns)
        self.log = CallLogger(log, {"instanceId": route.instance_id, "correlationId": self.stats.correlation_id,
                                    "stream": route.stream})
        # The call's trace continues here (traceparent in the socket URL or headers); logs carry its ids.
        self.telemetry = MediaCallTelemetry(ws.request.path if ws.request is not None else "", headers,
                                            route.instance_id, self.stats)
        self.log.extra = {**(self.log.extra or {}), **self.telemetry.log_fields}
        self._on_frame_timing = self.telemetry.on_frame
        self._on_audio = processor.on_audio
        self._validate = processor.needs_pcm
        self._sample_rate: int | None = None
        self._handlers: dict[type, Callable[[MediaMessage], None]] = {
            TranscriptionData: self._on_transcription, AudioMetadata: self._on_metadata, DtmfData: self._on_dtmf,
            TranscriptionMetadata: self._on_transcription_metadata}
        self._malformed_run = 0
        self._closing = False
        self.call_control = call_control
        self._on_frame_silence: Callable[[bool, float], None] | None = None
        if call_control is not None:
            self._bind_call_control(call_control)

    def _bind_call_control(self, call_control: CallControl) -> None:
        call_control.log = self.log  # its lines carry the call's ids
        self._on_frame_silence = call_control.on_frame
        if not self.is_transcription:
            self.call_transcript.on_utterance = call_control.on_utterance
        bind = getattr(self.processor, "bind_call_control", None)
        if bind is not None:
            bind(call_control)  # before start(): a realtime session offers its tools from the first update

    async def run(self) -> dict[str, Any]:
        """Serve the socket until it closes; then flush, write media.json and return it."""
        self.log.info("media socket opened", extra={"voiceProcessor": self.processor.name})
        ws = self.ws
        handle = self.handle_text
        # From here on complete text frames are handled inside data_received (no task switch), starting with
        # those that arrived since the upgrade, also while the processor starts (a realtime session connects
        # to its model and waits for the call's AudioMetadata).
        starting = asyncio.get_running_loop().create_task(self.processor.start(self.output))
        starting.add_done_callback(self._started)
        # One loop step first: a processor with nothing to wait for (echo, transcribe) is ready before the
        # frames held since the upgrade are replayed; one that waits (realtime) gets as far as its first await.
        await asyncio.sleep(0)
        ws.set_text_sink(handle)
        try:
            while True:  # only what websockets still queues: binary or fragmented messages
                message = await ws.recv()
                if ws.text_sink is None:
                    continue  # handling failed and the socket is closing: discard
                handle(message if type(message) is str else "")  # a binary message is not ACS's protocol
        except ConnectionClosed:
            pass
        finally:
            ws.set_text_sink(None)
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
            summary = await self._finish()
        return summary

    def _started(self, starting: asyncio.Task[None]) -> None:
        if not starting.cancelled() and starting.exception() is not None:
            self.log.error("voice processor failed to start: %r; closing this socket", starting.exception())
            self._closing = True
            asyncio.get_running_loop().create_task(self.ws.close(1011, "internal error"))

    def handle_text(self, message: bytes | str) -> None:
        """Handle one message from ACS, synchronously. An empty message stands for a binary one."""
        if self._closing:
            return
        self.last_activity = time.monotonic()
        try:
            if not message:
                raise MediaMessageError("binary or empty messages are not part of the protocol")
            # Any whole number of 16-bit samples up to a bound: nothing published promises 20 ms frames.
            decoded = decode_media_message(message, validate_audio=self._validate, sample_rate=self._sample_rate)
        except MediaMessageError as error:
            self._on_malformed(error)
            return
        self._malformed_run = 0
        if type(decoded) is AudioData:  # the hot path, 50 times a second: no table lookup
            self._on_audio_data(decoded)
        else:
            handler = self._handlers.get(type(decoded))  # kinds ACS added since (UnknownMediaMessage): ignored
            if handler is not None:
                handler(decoded)

    def _on_malformed(self, error: MediaMessageError) -> None:
        stats = self.stats
        stats.malformed_messages += 1
        self._malformed_run += 1
        if self._malformed_run == 1 or stats.malformed_messages % 100 == 0:
            self.log.warning("malformed media message: %s", error)
        if self._malformed_run >= MAX_CONSECUTIVE_MALFORMED:
            self._closing = True
            # The receive loop keeps reading while the closing handshake runs, so the peer's closing frame is
            # seen even if it keeps sending.
            asyncio.get_running_loop().create_task(self.ws.close(CLOSE_INVALID_DATA, "malformed media messages"))

    def _on_audio_data(self, decoded: AudioData) -> None:
        participant = decoded.participant_raw_id
        duration = self.stats.on_audio(decoded.timestamp, decoded.silent, decoded.byte_length, participant)
        if not self._speakers.is_caller(participant):
            # Unmixed audio (MEDIA_AUDIO_CHANNEL=unmixed): another participant's own stream, counted and labelled;
            # the voice processor, silence handling and turns follow the caller's.
            return
        self._on_frame_timing(decoded.timestamp)
        self._on_audio(decoded)
        if self._on_frame_silence is not None:
            self._on_frame_silence(decoded.silent, duration)
        if self._on_caller_frame is not None:
            self._on_caller_frame(decoded.silent, duration)

    def _on_transcription(self, decoded: MediaMessage) -> None:
        assert isinstance(decoded, TranscriptionData)
        if decoded.is_final and decoded.text:
            self.output.add_transcript(segment_from_acs(decoded, self._speakers.label(decoded.participant_raw_id)))
            on_utterance = self.call_transcript.on_utterance
            if on_utterance is not None:
                on_utterance()

    def _on_metadata(self, decoded: MediaMessage) -> None:
        assert isinstance(decoded, AudioMetadata)
        self.stats.sample_rate = self._sample_rate = decoded.sample_rate
        self.output.set_sample_rate(decoded.sample_rate)
        self.processor.on_metadata(decoded)

    def _on_dtmf(self, decoded: MediaMessage) -> None:
        assert isinstance(decoded, DtmfData)
        self.stats.on_dtmf(decoded.data, datetime.now(UTC))  # into media.json's dtmfEvents: the call's timeline
        on_dtmf = getattr(self.processor, "on_dtmf", None)  # optional for processors (media_host/voice.py)
        if on_dtmf is not None:
            on_dtmf(decoded)

    def _on_transcription_metadata(self, decoded: MediaMessage) -> None:
        assert isinstance(decoded, TranscriptionMetadata)
        stats = self.stats
        stats.call_connection_id = stats.call_connection_id or decoded.call_connection_id
        stats.correlation_id = stats.correlation_id or decoded.correlation_id

    async def _finish(self) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            await self.processor.close()
        if self.call_control is not None:
            await self.call_control.close()
        await self.output.close()
        if self.ws.state.name not in ("CLOSED",):
            # The loop ended on our side (processor error, drain deadline): close before reading the code.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(1001, "media host closing"), 5)
        if self.is_transcription:
            return await self._finish_transcription()
        if self.call_transcript.on_utterance is not None:
            self.call_transcript.on_utterance = None
        clean = self.ws.close_code in CLEAN_CLOSE_CODES
        # Broken mid-call: report at once (it triggers the restart); see media_host/call_transcripts.py.
        transcription_closed = await self.transcripts.wait_for_transcription(
            self.call_transcript, TRANSCRIPTION_CLOSE_WAIT_SECONDS if clean else 0.0)
        if not transcription_closed and not clean:
            self.call_transcript.reported_without_transcription = self.socket_id
        flushed = await self.transcripts.release(self.route.instance_id, self.call_transcript, transcription=False,
                                                 flush_timeout=self.flush_timeout)
        if not flushed:
            self.log.error("transcript lines lost: %d not written", self.transcript.pending_lines)
        summary = self.stats.summary(datetime.now(UTC), self.ws.close_code, self.ws.close_reason)
        summary["transcriptLinesDropped"] = self.transcript.dropped_lines + self.transcript.pending_lines
        if self.socket_id is not None:
            summary["socketId"], summary["socketSeq"] = self.socket_id, self.socket_seq
        if self.turns is not None:
            summary["turns"] = self.turns.finish()
        if self.call_transcript.transcription_stats or not transcription_closed:
            summary["transcription"] = {**self.call_transcript.transcription_stats,
                                        "socketOpenAtReport": not transcription_closed}
        self.telemetry.finish(summary)
        await self._write_summary(summary)
        self.log.info("media socket closed", extra={"closeCode": summary["closeCode"],
                                                    "framesReceived": summary["framesReceived"],
                                                    "gaps": summary["gaps"]})
        if self.on_ended is not None:
            with contextlib.suppress(Exception):
                await self.on_ended(self.route.instance_id, self.route.token, summary)
        return summary

    async def _finish_transcription(self) -> dict[str, Any]:
        stats = self.stats
        summary: dict[str, Any] = {"segments": stats.transcript_segments, "closeCode": self.ws.close_code,
                                   "malformedMessages": stats.malformed_messages}
        self.call_transcript.transcription_stats = summary
        await self._report_transcription_later(summary)
        flushed = await self.transcripts.release(self.route.instance_id, self.call_transcript, transcription=True,
                                                 flush_timeout=self.flush_timeout)
        if not flushed:
            self.log.error("transcript lines lost: %d not written", self.transcript.pending_lines)
        self.log.info("transcription socket closed", extra={"closeCode": self.ws.close_code,
                                                            "segments": stats.transcript_segments})
        return summary

    async def _report_transcription_later(self, figures: dict[str, Any]) -> None:
        """A broken media socket reported without this socket's figures: add them to its media.json entry, if it
        is still the call's latest report (a later socket's report stands on its own)."""
        socket_id = self.call_transcript.reported_without_transcription
        if socket_id is None or self.call_transcript.transcription_sockets > 1:
            return
        self.call_transcript.reported_without_transcription = None
        name = media_report_blob(self.route.instance_id)
        try:
            async with self.call_transcript.report_lock:
                previous = await self.store.get(name)
                document = json.loads(previous) if previous else None
                if isinstance(document, dict) and document.get("socketId") == socket_id:
                    document["transcription"] = {**figures, "socketOpenAtReport": False, "reportedAfter": True}
                    await self.store.put(name, encode_json(document))
        except Exception as error:  # noqa: BLE001 - the figures are a nicety; the report went out already
            self.log.warning("transcription figures not added to media.json: %s", type(error).__name__)

    async def _write_summary(self, summary: dict[str, Any]) -> None:
        name = media_report_blob(self.route.instance_id)
        deadline = time.monotonic() + self.flush_timeout
        delay = 0.2
        while True:
            try:
                async with self.call_transcript.report_lock:  # read, then write: every socket in `sockets`
                    body = encode_json(media_document(await self.store.get(name), summary))
                    await self.store.put(name, body)
                return
            except Exception as error:  # noqa: BLE001 - storage errors of any kind: retry until the deadline
                if time.monotonic() + delay > deadline:
                    self.log.error("media.json not written: %s", type(error).__name__)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
