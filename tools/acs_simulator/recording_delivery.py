"""A recording's life on the simulated call, and the file ACS publishes when it stops: a WAV of what the
simulator streamed while the recording was active (paused spans left out), then `RecordingFileStatusUpdated`
through Event Grid to the app's subscription (tools/acs_simulator/recording_files.py for the shapes).

Event Grid validates a subscription before its first notification (SubscriptionValidationEvent, answered
with the code): the simulator does that once per run, and delivers nothing if it fails. Delivery is at
least once; the scenario's `duplicate_recording_file_event` fault sends the same event (same id) twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from tools.acs_simulator import event_grid_events as eg
from tools.acs_simulator.callback_sender import post_json
from tools.acs_simulator.media_streamer import MediaStreamer
from tools.acs_simulator.recording_files import file_status_event, wav_bytes
from tools.acs_simulator.results import HttpDelivery, ScenarioResult
from tools.acs_simulator.server import AcsSimulatorServer


@dataclass
class RecordingSession:
    recording_id: str
    started: datetime


def recording_session_after(session: RecordingSession | None, kind: str, body: dict[str, Any],
                            streamer: MediaStreamer | None) -> RecordingSession | None:
    """The session after one accepted recording request; the streamer records only while it is active."""
    if streamer is not None:
        streamer.recording = kind in ("start_recording", "resume_recording") and body.get("recordingState") == "active"
    if kind == "start_recording" and isinstance(body.get("recordingId"), str):
        return RecordingSession(body["recordingId"], datetime.now(UTC))
    return session


async def _validated(simulator: AcsSimulatorServer, session: aiohttp.ClientSession, url: str,
                     result: ScenarioResult, clock: Callable[[], float]) -> bool:
    if simulator.recording_events_validated:
        return True
    code, validation = eg.subscription_validation(url)
    status, body, error = await post_json(session, url, validation, dict(eg.VALIDATION_HEADERS))
    result.events.append(HttpDelivery("SubscriptionValidation", str(validation[0]["id"]), url, status, error, clock()))
    simulator.recording_events_validated = eg.validation_succeeded(code, status or 0, body)
    if not simulator.recording_events_validated:
        result.errors.append(f"recording events subscription validation failed: status {status}")
    return simulator.recording_events_validated


async def deliver_recording_file(simulator: AcsSimulatorServer, session: aiohttp.ClientSession,
                                 recording: RecordingSession, server_call_id: str, correlation_id: str,
                                 streamer: MediaStreamer | None, result: ScenarioResult,
                                 clock: Callable[[], float], *, deliveries: int = 1) -> None:
    pcm = bytes(streamer.recorded) if streamer is not None else b""
    rate = streamer.stats.sample_rate if streamer is not None else 16000
    if streamer is not None:
        streamer.recording = False
    document_id = simulator.recording_files.add(wav_bytes(pcm, rate))
    url = simulator.recording_events_url
    if url is None or not await _validated(simulator, session, url, result, clock):
        return  # no subscription: ACS keeps the file, and nobody hears of it
    event = file_status_event(server_call_id=server_call_id, correlation_id=correlation_id,
                              recording_id=recording.recording_id, document_id=document_id,
                              store=simulator.recording_files, started=recording.started,
                              duration_ms=len(pcm) * 1000 // (rate * 2))
    for _ in range(deliveries):
        status, _, error = await post_json(session, url, event, dict(eg.NOTIFICATION_HEADERS))
        result.events.append(HttpDelivery("RecordingFileStatusUpdated", str(event[0]["id"]), url, status, error,
                                          clock()))
