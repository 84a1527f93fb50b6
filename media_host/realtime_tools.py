"""The realtime model's tool calls (end_call, transfer_to_agent), run once their response has completed.

The bridge hands over the calls of a response whose `response.done` said `completed`
(shared/voice_realtime_responses.py). A hang-up or transfer first waits, within a bound, until that
response's audio has been heard (the goodbye, "transferring you now"); if the caller speaks over it, the action
is not taken and the model is told so. The request goes to the function app through the call's CallControl
(media_host/call_control.py); the model gets a `function_call_output` either way, and a `response.create`
only after a refusal (an accepted hang-up or transfer ends the conversation: another answer would only talk
over it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from media_host.call_control import CallControl
from media_host.realtime_player import RealtimePlayer
from shared.call_action_tools import ToolCall, action_request_for, function_call_output, parse_tool_call

log = logging.getLogger("media_host.realtime")

MAX_TOOL_CALLS_IN_FLIGHT = 4
AUDIO_PLAYED_WAIT_SECONDS = 30.0  # a hang-up or transfer waits at most this long for its audio to play


class RealtimeTools:
    def __init__(self, control: CallControl, player: RealtimePlayer, send: Callable[[str], Awaitable[None]],
                 create_response: Callable[[], Awaitable[None]], *,
                 played_wait_seconds: float = AUDIO_PLAYED_WAIT_SECONDS) -> None:
        self._control = control
        self._player = player
        self._send = send
        self._create_response = create_response
        self._played_wait = played_wait_seconds
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, response_id: str | None, fields: Mapping[str, Any]) -> None:
        """Run one tool call of a completed response, in a task: the model's events keep flowing."""
        call = parse_tool_call(fields)
        if call is None:
            call_id = fields.get("call_id")
            log.warning("realtime tool call refused: not one of ours")
            if isinstance(call_id, str) and call_id:  # answered, so the model does not wait for it
                self._spawn(self._answer(ToolCall(call_id[:128], "unknown"), False, "unknown tool"))
            return
        self._spawn(self._run(response_id, call))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        if len(self._tasks) >= MAX_TOOL_CALLS_IN_FLIGHT:
            work.close()
            log.warning("realtime tool call dropped: too many in flight")
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, call: ToolCall, accepted: bool, detail: str | None) -> None:
        await self._send(function_call_output(call, accepted, detail))
        if not accepted:  # the model should tell the caller
            await self._create_response()

    async def _run(self, response_id: str | None, call: ToolCall) -> None:
        if not await self._player.wait_played(response_id, self._played_wait):
            if not self._player.pending(response_id):
                log.info("realtime %s not run: the caller spoke over the announcement", call.name)
                await self._send(function_call_output(call, False, "the caller interrupted; ask again"))
                return
            log.warning("realtime %s: its audio did not finish playing in %.0f s; acting anyway", call.name,
                        self._played_wait)
        reply = await self._control.request_action(action_request_for(call))
        detail = reply.error or (None if reply.status is not None else "call control unreachable")
        await self._answer(call, reply.accepted, detail)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
