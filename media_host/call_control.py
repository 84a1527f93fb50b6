"""One call's link to the function app's call control: caller-silence reports and the voice processor's
action requests (transfer, hang up), authenticated by the call's token.

`on_frame` and `on_utterance` run on the hot path (inside the call's receive loop): they only count and
compare. The clock is the call's own audio (20 ms per ACS frame), so "N seconds of silence" means N seconds
of audio heard, with no clock read per frame; `due` is asked once per second of audio. The flow tells a new
silence from a continuing one by the utterance count, and ACS sends transcripts only when transcription runs:
so the caller's first speech after a report counts as an utterance too. Every request to the
function app runs in a background task, at most `MAX_IN_FLIGHT` per call (more are dropped and logged), and
never raises into the call: the function app being slow or down must not disturb the audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from media_host.call_actions_client import ActionReply, CallActionsClient
from shared.caller_silence import CallerSilenceTracker, SilenceReport
from shared.media_codec import FRAME_MS

log = logging.getLogger("media_host.call_control")

CHECK_EVERY_MS = 1000
MAX_IN_FLIGHT = 4
CLOSE_GRACE_SECONDS = 2.0


class CallControl:
    def __init__(self, client: CallActionsClient, instance_id: str, token: str, *,
                 silence_seconds: int = 0, logger: logging.LoggerAdapter[Any] | logging.Logger = log) -> None:
        self._client = client
        self._instance_id = instance_id
        self._token = token
        self.log = logger
        self._silence = CallerSilenceTracker(silence_seconds * 1000, 0) if silence_seconds > 0 else None
        self._audio_ms = 0.0  # caller audio so far, by duration
        self._reported_since_speech = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.reports_sent = 0
        self.requests_dropped = 0

    @property
    def instance_id(self) -> str:
        return self._instance_id

    # --- hot path ---------------------------------------------------------------------------------------

    def on_frame(self, silent: bool, duration_ms: float = FRAME_MS) -> None:
        """One caller AudioData of `duration_ms` (20 ms as a rule; any whole number of samples is accepted)."""
        tracker = self._silence
        if tracker is None:
            return
        before = self._audio_ms
        self._audio_ms += duration_ms
        if not silent:
            if self._reported_since_speech:
                self._reported_since_speech = False
                tracker.on_utterance(int(self._audio_ms))  # the caller answered the re-prompt
            else:
                tracker.on_speech(int(self._audio_ms))
        if self._audio_ms // CHECK_EVERY_MS != before // CHECK_EVERY_MS:  # crossed a whole second of audio
            report = tracker.due(int(self._audio_ms))
            if report is not None:
                self._reported_since_speech = True
                self._spawn(self._report(report))

    def on_utterance(self) -> None:
        """A final transcript of the caller."""
        if self._silence is not None:
            self._silence.on_utterance(int(self._audio_ms))

    # --- requests ---------------------------------------------------------------------------------------

    async def request_action(self, action: dict[str, Any]) -> ActionReply:
        """Ask the call's orchestration for an action; the caller awaits it in a task of its own."""
        try:
            reply = await self._client.request_action(self._instance_id, self._token, action)
        except Exception as error:  # noqa: BLE001 - whatever goes wrong, the call goes on
            self.log.warning("call action request failed: %s", type(error).__name__)
            return ActionReply(None, error=type(error).__name__)
        self.log.info("call action %s requested: %s", action.get("action"), reply.status)
        return reply

    async def _report(self, report: SilenceReport) -> None:
        try:
            delivered = await self._client.report_silence(self._instance_id, self._token, report)
        except Exception as error:  # noqa: BLE001 - a lost report only delays the re-prompt
            self.log.warning("silence report failed: %s", type(error).__name__)
            return
        if delivered:
            self.reports_sent += 1
        else:
            self.log.warning("silence report not accepted (%d ms silent)", report.silent_ms)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        if len(self._tasks) >= MAX_IN_FLIGHT:
            work.close()
            self.requests_dropped += 1
            self.log.warning("call-control request dropped: %d still in flight", len(self._tasks))
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Give requests in flight a short grace, then cancel them."""
        if not self._tasks:
            return
        pending = set(self._tasks)
        _, still = await asyncio.wait(pending, timeout=CLOSE_GRACE_SECONDS)
        for task in still:
            task.cancel()
        for task in still:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
