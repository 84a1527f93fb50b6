"""Plays ACS's part in one answered call: callbacks, media, DTMF, scripted hang-ups, reacting to the
application's Call Automation requests. One asyncio task; decisions come from the scenario."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.acs_simulator import agent_invitations, identifiers
from tools.acs_simulator import cloud_events as ce
from tools.acs_simulator.call_registry import OfferedCall
from tools.acs_simulator.callback_sender import CallbackSender
from tools.acs_simulator.dtmf_recognizer import PendingRecognize
from tools.acs_simulator.media_streamer import MediaStreamer
from tools.acs_simulator.recording_delivery import RecordingSession, deliver_recording_file, recording_session_after
from tools.acs_simulator.records import CallOperation
from tools.acs_simulator.results import RequestSigner, ScenarioResult
from tools.acs_simulator.scenario import Scenario
from tools.acs_simulator.server import AcsSimulatorServer
from tools.acs_simulator.transcription_streamer import TranscriptionStreamer
from tools.acs_simulator.wav_audio import AudioFileError, read_wav, sample_rate_for

TRANSFER_DELAY_S = 0.2


# Timeline kinds that end the call from the caller's side, and how the result names each.
_ENDED_BY = {"abandon": "abandoned", "caller_hangup": "caller", "max_wait": "timeout"}
_STREAM_KINDS = frozenset({"drop_media", "media_lost", "transcription_lost", "utterance_end"})


class CallEngine:
    def __init__(self, *, scenario: Scenario, simulator: AcsSimulatorServer, offered: OfferedCall,
                 callbacks: CallbackSender, result: ScenarioResult, clock: Callable[[], float],
                 progress: Callable[[str], None], signer: RequestSigner | None, audio_base_dir: Path | None) -> None:
        self._scenario = scenario
        self._simulator = simulator
        self._offered = offered
        self._callbacks = callbacks
        self._result = result
        self._clock = clock
        self._progress = progress
        self._signer = signer
        self._audio_base_dir = audio_base_dir
        self._loop = asyncio.get_running_loop()
        self._ops: asyncio.Queue[CallOperation | None] = asyncio.Queue()  # None: only a wake-up
        self._timeline: list[tuple[float, int, str, Any]] = []  # (loop time, seq, kind, payload)
        self._seq = itertools.count()
        self._ids: ce.CallIds | None = None
        self._answer: dict[str, Any] = {}
        self._streamer: MediaStreamer | None = None
        self._transcriber: TranscriptionStreamer | None = None
        self._recognize: PendingRecognize | None = None
        self._recognize_generation = 0
        self._connected_at = 0.0
        self._ended_by = ""
        self._recording: RecordingSession | None = None
        self._agents = agent_invitations.AgentInvitations(scenario, simulator, self._callback, self._at)

    # called on a server thread
    def observe(self, operation: CallOperation) -> None:
        self._loop.call_soon_threadsafe(self._ops.put_nowait, operation)

    def _mine(self, op: CallOperation) -> bool:
        if op.kind in ("answer", "reject", "redirect"):
            return op.body.get("incomingCallContext") == self._offered.incoming_call_context
        return self._ids is not None and op.call_connection_id == self._ids.call_connection_id

    def _at(self, delay_s: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(self._timeline, (self._loop.time() + delay_s, next(self._seq), kind, payload))

    def _callback(self, event_type: str, result: ce.Result | None, operation_context: str | None = None,
                  extra: dict[str, Any] | None = None, uri: str | None = None) -> None:
        assert self._ids is not None
        event = ce.cloud_event(event_type, self._ids, operation_context, result, extra)
        self._callbacks.send(uri or self._answer["callbackUri"], event)
        self._progress(f"callback {event_type}")

    async def _next(self) -> tuple[str, Any]:
        """The next application request or due timeline entry, whichever comes first."""
        while True:
            timeout = None
            if self._timeline:
                timeout = max(0.0, self._timeline[0][0] - self._loop.time())
                if timeout == 0.0:
                    _, _, kind, payload = heapq.heappop(self._timeline)
                    return kind, payload
            try:
                op = await asyncio.wait_for(self._ops.get(), timeout)
            except TimeoutError:
                continue
            if op is not None and self._mine(op):
                self._result.operations.append(op)
                return "op", op

    async def run(self) -> None:
        s = self._scenario
        self._at(s.answer_timeout_s, "answer_timeout")
        if s.abandon_at_s is not None:
            self._at(s.abandon_at_s, "abandon")
        abandon_once_answered = False
        while True:
            kind, payload = await self._next()
            if kind == "op" and payload.kind == "answer":
                self._on_answered(payload)
                break
            if kind == "op" and payload.kind in ("reject", "redirect"):
                # The app refused the ringing call: it never connects here (a redirect rings elsewhere).
                self._result.ended_by = "rejected" if payload.kind == "reject" else "redirected"
                self._progress(f"call {self._result.ended_by} while ringing")
                return
            if kind in ("answer_timeout", "abandon"):
                if not self._simulator.withdraw_call(self._offered.incoming_call_context):
                    # The REST API took the answer (or refusal) before the deadline and the app got its 200; the
                    # operation is still on its way to this loop (observe). ACS would not drop a call it just
                    # answered, so wait for it; a caller who abandons at that moment hangs up once it connects.
                    abandon_once_answered = abandon_once_answered or kind == "abandon"
                    continue
                self._result.ended_by = "abandoned" if kind == "abandon" else "never_answered"
                self._progress(f"call {self._result.ended_by} before any answer")
                return
        self._timeline = [t for t in self._timeline if t[2] == "abandon"]
        heapq.heapify(self._timeline)
        if abandon_once_answered:
            self._at(0, "abandon")
        if s.connects:
            self._at(s.connect_delay_s, "connect")
        elif s.abandon_at_s is None:
            self._at(s.answer_timeout_s, "abandon")
        await self._call_loop()

    def _on_answered(self, op: CallOperation) -> None:
        connection = self._simulator.call(op.call_connection_id)
        assert connection is not None
        self._answer = op.body
        self._ids = ce.CallIds(op.call_connection_id, self._offered.server_call_id, self._offered.correlation_id)
        self._result.call_connection_id = op.call_connection_id
        # When the answer reached ACS, not when this loop (the load generator's, maybe saturated) got to it.
        self._result.timings["answered"] = self._clock() - max(0.0, time.monotonic() - op.received_at)
        self._progress(f"answered: callConnectionId {op.call_connection_id}")

    async def _call_loop(self) -> None:
        while not self._ended_by:
            kind, payload = await self._next()
            if kind == "op":
                await self._on_operation(payload)
            else:
                await self._on_timeline(kind, payload)
        await self._end()

    async def _on_timeline(self, kind: str, payload: Any) -> None:
        if kind == "connect":
            await self._connect()
        elif kind in _ENDED_BY:
            if kind != "abandon" or not self._result.connected:  # hanging up after the answer is not abandoning
                self._ended_by = _ENDED_BY[kind]
        elif kind in _STREAM_KINDS:
            await self._on_stream_event(kind, payload)
        elif kind == "dtmf":
            self._press(payload)
        elif kind == "play_done":
            self._play_done(payload)
        elif kind == "transfer_result":
            self._transfer_done(payload)
        elif kind in agent_invitations.TIMELINE_KINDS:
            self._agents.on_timeline(kind, payload)
        elif kind == "recognize_timeout" and self._recognize is not None and payload == self._recognize_generation:
            pending, self._recognize = self._recognize, None
            self._callback("RecognizeFailed", ce.INITIAL_SILENCE, pending.operation_context, uri=pending.callback_uri)

    async def _on_stream_event(self, kind: str, payload: Any) -> None:
        """What happens to the call's media and transcription sockets: faults, losses, and final phrases."""
        if kind == "drop_media" and self._streamer is not None:
            self._progress("fault: media socket dropped")
            self._streamer.drop()
        elif kind == "media_lost" and payload is self._streamer and self._streamer is not None:
            await self._media_lost(self._streamer)
        elif kind == "transcription_lost" and payload is self._transcriber and self._transcriber is not None:
            await self._transcription_lost(self._transcriber)
        elif kind == "utterance_end" and self._transcriber is not None:
            text, started_at, duration_s, speaker = payload
            if started_at >= self._transcriber.start_time - 0.05:  # speech before the socket opened is lost
                await self._transcriber.send_final(text, started_at, duration_s, identifiers.raw_id(
                    speaker or self._offered.caller))

    async def _connect(self) -> None:
        s = self._scenario
        assert self._ids is not None
        self._simulator.mark_connected(self._ids.call_connection_id)
        self._result.connected = True
        self._connected_at = self._loop.time()
        self._result.timings["connected"] = self._clock()
        # CallConnected carries no resultInformation (Java SDK parser fixture EVENT_CALL_CONNECTED).
        self._callback("CallConnected", None, self._answer.get("operationContext"))
        media = self._answer.get("mediaStreamingOptions")
        if isinstance(media, dict) and media.get("startMediaStreaming"):
            await self._start_media()
        transcription = self._answer.get("transcriptionOptions")
        if isinstance(transcription, dict) and transcription.get("startTranscription"):
            await self._start_transcription(None, None)
        self._schedule_utterance_ends()
        for press in s.dtmf:
            self._at(press.at_s, "dtmf", press.tone)
        if s.hangup_by == "caller" and s.hangup_at_s is not None:
            self._at(s.hangup_at_s, "caller_hangup")
        if s.faults.drop_media_socket_at_s is not None:
            self._at(s.faults.drop_media_socket_at_s, "drop_media")
        self._at(s.max_wait_s, "max_wait")

    def _lost(self, kind: str, streamer: object) -> None:
        """From a streamer's task: handled in the call loop, which the None wakes up."""
        self._at(0, kind, streamer)
        self._ops.put_nowait(None)

    async def _media_lost(self, streamer: MediaStreamer) -> None:
        # ACS learns that the socket went away and ends the subscription (MediaStreamingSubscriptionState
        # becomes inactive); nothing published says it re-dials, so it stays stopped until a start request.
        await streamer.close()
        self._streamer = None
        self._progress(f"media socket lost (close {streamer.stats.close_code})")
        self._callback("MediaStreamingFailed", ce.MEDIA_SOCKET_INTERRUPTED,
                       extra=ce.media_streaming_update("mediaStreamingFailed", "streamConnectionInterrupted"))

    async def _transcription_lost(self, transcriber: TranscriptionStreamer) -> None:
        await transcriber.close()
        self._transcriber = None
        self._progress("transcription socket lost")
        self._callback("TranscriptionFailed", ce.TRANSCRIPTION_SOCKET_INTERRUPTED, None,
                       ce.transcription_update("transcriptionFailed", "streamConnectionInterrupted"))

    async def _start_media(self, request: dict[str, Any] | None = None) -> None:
        """At connect (the answer's startMediaStreaming) or for a start request: open a socket to the answer's
        transport URL and stream the rest of the scenario's audio; what was said before it opened is lost."""
        if self._streamer is not None:
            return
        context = request.get("operationContext") if request else None
        uri = request.get("operationCallbackUri") if request else None
        assert self._ids is not None
        media = self._answer.get("mediaStreamingOptions") or {}
        url = media.get("transportUrl")
        if not isinstance(url, str):
            self._result.errors.append("mediaStreamingOptions.transportUrl missing")
            return
        try:
            rate = sample_rate_for(media.get("audioFormat"))
        except AudioFileError as exc:
            self._result.errors.append(str(exc))
            return
        previous = self._streamer
        self._streamer = MediaStreamer(
            url=url, headers=self._socket_headers(url), sample_rate=rate,
            participant_raw_id=identifiers.raw_id(self._offered.caller),
            call_connection_id=self._ids.call_connection_id, correlation_id=self._ids.correlation_id,
            stats=self._result.media, bidirectional=media.get("enableBidirectional") is True,
            unmixed=media.get("audioChannelType") == "unmixed",
            on_lost=lambda streamer: self._lost("media_lost", streamer))
        if previous is not None:
            # A restarted stream does not restart the recording: it goes on, and so does its file.
            self._streamer.recording, self._streamer.recorded = previous.recording, previous.recorded
        if not await self._streamer.open():
            self._callback("MediaStreamingFailed", ce.MEDIA_SOCKET_FAILED, context,
                           ce.media_streaming_update("mediaStreamingFailed", "streamConnectionUnsuccessful"), uri)
            self._progress(f"media socket failed: {self._result.media.open_error}")
            self._streamer = None
            return
        self._result.timings.setdefault("media_open", self._clock())
        self._result.media_sockets += 1
        self._callback("MediaStreamingStarted", ce.STREAMING_OK, context,
                       ce.media_streaming_update("mediaStreamingStarted", "subscriptionStarted"), uri)
        for utterance in self._scenario.utterances:
            when = self._connected_at + utterance.at_s
            if when < self._loop.time() - 0.05:
                continue  # media started late: what was said before is lost, as on a real call
            try:
                audio = read_wav(self._scenario.audio_path(utterance, rate, self._audio_base_dir))
            except (AudioFileError, OSError) as exc:
                self._result.errors.append(f"utterance audio: {exc}")
                continue
            self._streamer.schedule_speech(when, audio, utterance.text,
                                           identifiers.raw_id(utterance.speaker) if utterance.speaker else None)

    def _socket_headers(self, url: str) -> dict[str, str]:
        """The media handshake's headers; the transcription socket gets the same (and the same JWT signer)."""
        assert self._ids is not None
        headers = {"x-ms-call-connection-id": self._ids.call_connection_id,
                   "x-ms-call-correlation-id": self._ids.correlation_id}
        if self._signer is not None:
            headers.update(self._signer(url))
        return headers

    def _schedule_utterance_ends(self) -> None:
        """When each utterance ends, a transcript is due (if transcription is running by then)."""
        for utterance in self._scenario.utterances:
            try:
                audio = read_wav(self._scenario.audio_path(utterance, 16000, self._audio_base_dir))
            except (AudioFileError, OSError) as exc:
                self._result.errors.append(f"utterance audio: {exc}")
                continue
            started_at = self._connected_at + utterance.at_s
            self._at(utterance.at_s + audio.duration_s, "utterance_end", (utterance.text, started_at,
                                                                           audio.duration_s, utterance.speaker))

    async def _start_transcription(self, operation_context: str | None, locale: str | None) -> None:
        """Open the transcription socket (answer's `startTranscription`, or a start request)."""
        if self._transcriber is not None:
            return
        assert self._ids is not None
        options = self._answer.get("transcriptionOptions") or {}
        intelligence = self._answer.get("callIntelligenceOptions") or {}
        url = options.get("transportUrl")
        if not intelligence.get("cognitiveServicesEndpoint") or not isinstance(url, str) or not url:
            # Tutorial's event-code table: TranscriptionFailed 405/8522 when the call was not set up for it.
            message = ce.TRANSCRIPTION_NOT_SET_UP.message if not intelligence.get("cognitiveServicesEndpoint") \
                else "Request not allowed when Transcription url not set during call setup."
            self._callback("TranscriptionFailed", ce.Result(405, 8522, message), operation_context,
                           ce.transcription_update("transcriptionFailed", "subscriptionNotSetUp"))
            return
        transcriber = TranscriptionStreamer(
            url=url, headers=self._socket_headers(url), locale=locale or str(options.get("locale")),
            call_connection_id=self._ids.call_connection_id, correlation_id=self._ids.correlation_id,
            stats=self._result.media, on_lost=lambda streamer: self._lost("transcription_lost", streamer))
        if not await transcriber.open():
            self._callback("TranscriptionFailed", ce.TRANSCRIPTION_SOCKET_FAILED, operation_context,
                           ce.transcription_update("transcriptionFailed", "streamConnectionUnsuccessful"))
            return
        self._transcriber = transcriber
        self._callback("TranscriptionStarted", ce.ACTION_OK, operation_context,
                       ce.transcription_update("transcriptionStarted", "subscriptionStarted"))

    async def _stop_transcription(self, operation_context: str | None) -> None:
        if self._transcriber is None:
            return
        await self._transcriber.close()
        self._transcriber = None
        self._callback("TranscriptionStopped", ce.ACTION_OK, operation_context,
                       ce.transcription_update("transcriptionStopped", "subscriptionStopped"))

    def _press(self, tone: str) -> None:
        media = self._answer.get("mediaStreamingOptions") or {}
        if self._streamer is not None and media.get("enableDtmfTones"):
            self._streamer.send_dtmf(tone)
        if self._recognize is not None:
            outcome = self._recognize.feed(tone)
            if outcome is not None:
                pending, self._recognize = self._recognize, None
                self._callback("RecognizeCompleted", outcome, pending.operation_context,
                               ce.dtmf_result(pending.tones), uri=pending.callback_uri)

    async def _on_operation(self, op: CallOperation) -> None:
        body = op.body
        if op.kind in ("terminate", "hang_up"):
            # DELETE (hang_up) leaves our leg only: with an agent in the call, caller and agent stay connected.
            connection = self._simulator.call(op.call_connection_id)
            self._ended_by = "handed_off" if op.kind == "hang_up" and connection and connection.joined else "app"
        elif op.kind in agent_invitations.OPERATIONS:
            self._agents.on_operation(op)
        elif op.kind == "play":
            self._at(self._scenario.play_duration_s, "play_done", body)
        elif op.kind == "recognize":
            self._recognize = PendingRecognize.from_request(body)
            self._recognize_generation += 1
            self._at(self._recognize.initial_silence_s, "recognize_timeout", self._recognize_generation)
        elif op.kind == "transfer":
            self._at(TRANSFER_DELAY_S, "transfer_result", body)
        elif op.kind == "start_media_streaming":
            await self._start_media(body)
        elif op.kind == "stop_media_streaming" and self._streamer is not None:
            await self._streamer.close()
            self._streamer = None
            self._callback("MediaStreamingStopped", ce.STREAMING_OK, body.get("operationContext"),
                           ce.media_streaming_update("mediaStreamingStopped", "subscriptionStopped"),
                           body.get("operationCallbackUri"))
        elif op.kind == "start_transcription" and self._result.connected:
            await self._start_transcription(body.get("operationContext"), body.get("locale"))
        elif op.kind == "stop_transcription":
            await self._stop_transcription(body.get("operationContext"))
        elif op.kind in ("start_recording", "pause_recording", "resume_recording", "stop_recording"):
            self._recording_changed(op.kind, body)
            self._recording = recording_session_after(self._recording, op.kind, body, self._streamer)
            if op.kind == "stop_recording":
                await self._recording_file()
        elif op.kind == "cancel_media":
            self._recognize = None
            self._timeline = [t for t in self._timeline if t[2] != "play_done"]
            heapq.heapify(self._timeline)

    def _recording_changed(self, kind: str, body: dict[str, Any]) -> None:
        # RecordingStateChanged carries no operationContext nor resultInformation (generated model
        # RecordingStateChanged: recordingId, state, startDateTime, recordingKind); sent only to the start
        # request's recordingStateCallbackUri (tools/acs_simulator/recordings.py).
        uri = body.get("recordingStateCallbackUri")
        if not isinstance(uri, str) or not uri:
            return
        state = "inactive" if kind in ("pause_recording", "stop_recording") else body.get("recordingState")
        assert self._ids is not None
        extra = {"recordingId": body.get("recordingId"), "state": state, "recordingKind": "azureCommunicationServices",
                 "startDateTime": ce.now_iso()}
        event = ce.cloud_event("RecordingStateChanged", self._ids, None, None, extra)
        del event["data"]["operationContext"]
        self._callbacks.send(uri, event)
        self._progress(f"callback RecordingStateChanged {state}")

    def _play_done(self, body: dict[str, Any]) -> None:
        context, uri = body.get("operationContext"), body.get("operationCallbackUri")
        if self._scenario.faults.play_fails:
            self._callback("PlayFailed", ce.PLAY_DOWNLOAD_FAILED, context, {"failedPlaySourceIndex": 0}, uri)
        else:
            self._callback("PlayCompleted", ce.ACTION_OK, context, uri=uri)

    def _transfer_done(self, body: dict[str, Any]) -> None:
        context, uri = body.get("operationContext"), body.get("operationCallbackUri")
        if self._scenario.faults.transfer_fails:
            self._callback("CallTransferFailed", ce.TRANSFER_FAILED, context, uri=uri)
            return
        extra = ce.transfer_target(body.get("targetParticipant"), self._offered.caller)
        self._callback("CallTransferAccepted", ce.TRANSFER_ACCEPTED, context, extra, uri)
        self._ended_by = "transfer"

    async def _end(self) -> None:
        assert self._ids is not None
        self._result.ended_by = self._ended_by
        self._result.timings["ended"] = self._clock()
        self._progress(f"call ended by {self._ended_by}")
        if self._streamer is not None:
            await self._streamer.close()
        if self._transcriber is not None:
            await self._transcriber.close()
        self._simulator.set_call_state(self._ids.call_connection_id, "disconnected")
        result = ce.ABANDONED if self._ended_by == "abandoned" else ce.HUNG_UP
        self._callback("CallDisconnected", result)
        await self._recording_file()  # a recording still running stops with the call

    async def _recording_file(self) -> None:
        session, self._recording = self._recording, None
        if session is None or self._ids is None:
            return
        await deliver_recording_file(self._simulator, self._callbacks.session, session, self._ids.server_call_id,
                                     self._ids.correlation_id, self._streamer, self._result, self._clock,
                                     deliveries=2 if self._scenario.faults.duplicate_recording_file_event else 1)
        self._progress("RecordingFileStatusUpdated delivered")
