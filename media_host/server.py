"""The media host's asyncio shell: a `websockets` server, routing in `process_request`, drain.

Start it in-process (tests, benchmarks):

    async with serve_media_host(config, host="127.0.0.1", port=0) as host:
        url = f"ws://127.0.0.1:{host.port}/ws/{instance_id}/{token}"
        ...
        await host.drain(deadline_seconds)   # optional: what SIGTERM does

Authentication happens before the upgrade: a bad instance id or token is refused with HTTP 401, an
unknown path with 404, an over-limit or draining server with 503; all with a small JSON body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from adapters.jwks_keys import BearerVerifier
from media_host.acs_jwt_gate import verifier_for, warm, with_acs_jwt
from media_host.blob_store import CallBlobStore
from media_host.call_actions_client import CallActionsClient
from media_host.call_control import CallControl
from media_host.call_session import CallSession
from media_host.call_transcripts import CallTranscripts
from media_host.config import MediaHostConfig
from media_host.ended_notifier import EndedNotifier
from media_host.inline_connection import InlineServerConnection, check_websockets_compatible
from media_host.voice import EchoProcessor, TranscribeProcessor, VoiceProcessor
from shared.media_route import TRANSCRIPTION, MediaSocketRoute, ProbeRoute, RejectedRoute, route_request

log = logging.getLogger("media_host.server")

ProcessorFactory = Callable[[MediaHostConfig], VoiceProcessor]
CLOSE_GOING_AWAY = 1001
IDLE_CHECK_SECONDS = 1.0
MAX_REMEMBERED_CALLS = 10_000


def default_processor_factories() -> dict[str, ProcessorFactory]:
    factories: dict[str, ProcessorFactory] = {
        "transcribe": lambda config: TranscribeProcessor(),
        "echo": lambda config: EchoProcessor(),
    }
    with contextlib.suppress(ImportError):
        from media_host.realtime_bridge import realtime_processor_factory

        factories["realtime"] = realtime_processor_factory
    return factories


def _json_response(connection: ServerConnection, status: int, body: dict[str, Any]) -> Response:
    text = json.dumps(body)
    response = connection.respond(status, text)
    headers = Headers(response.headers)
    del headers["Content-Type"]
    headers["Content-Type"] = "application/json"
    return Response(response.status_code, response.reason_phrase, headers, response.body)


class MediaHost:
    def __init__(
        self,
        config: MediaHostConfig,
        store: CallBlobStore,
        *,
        processor_factories: dict[str, ProcessorFactory] | None = None,
        on_ended: Callable[[str, str, dict[str, Any]], Awaitable[object]] | None = None,
        call_actions: CallActionsClient | None = None,
    ) -> None:
        self.config = config
        self.call_actions = call_actions
        self.store = store
        self.factories = dict(processor_factories or default_processor_factories())
        if config.realtime is None:
            self.factories.pop("realtime", None)  # not configured: refused with 400 when asked for
        self.on_ended = on_ended
        self.sessions: set[CallSession] = set()
        self.transcripts = CallTranscripts(store)
        self.accepting = True
        self.server: Server | None = None
        # Each media socket's id: this process's run id and a count per call, so a call's sockets are told apart
        # across a restart of the host too (shared/media_recovery.py). Bounded: the oldest calls are forgotten.
        self._run_id = secrets.token_hex(4)
        self._socket_counts: OrderedDict[str, int] = OrderedDict()
        # Routes of connections accepted by process_request whose handler has not started yet.
        self._accepted: dict[ServerConnection, MediaSocketRoute] = {}

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(next(iter(self.server.sockets)).getsockname()[1])

    def live_calls(self) -> set[str]:
        """Instance ids with a socket open or being opened: a call with media and transcription counts once."""
        return {session.route.instance_id for session in self.sessions} | \
            {route.instance_id for route in self._accepted.values()}

    @property
    def ready(self) -> bool:
        return (self.accepting and len(self.live_calls()) < self.config.max_calls
                and len(self.sessions) + len(self._accepted) < self.config.max_connections)

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        route = route_request(request.path, self.config.base.call_token_secret)
        if isinstance(route, ProbeRoute):
            calls = len(self.live_calls())
            if route.name == "healthz":
                # Calls, not sockets, in the unit of the answer policy's check (shared/answer_policy.py): "limit"
                # lets the function app refuse a call it could not stream.
                return _json_response(connection, 200, {"status": "ok", "calls": calls, "limit": self.config.max_calls,
                                                        "sockets": len(self.sessions),
                                                        "socketLimit": self.config.max_connections})
            status = 200 if self.ready else 503
            return _json_response(connection, status, {"ready": self.ready, "calls": calls})
        if isinstance(route, RejectedRoute):
            return _json_response(connection, route.status, {"error": route.reason})
        if not self.accepting:
            return _json_response(connection, 503, {"error": "draining"})
        if len(self.sessions) + len(self._accepted) >= self.config.max_connections:
            return _json_response(connection, 503, {"error": "connection limit reached"})
        if route.instance_id not in self.live_calls() and len(self.live_calls()) >= self.config.max_calls:
            return _json_response(connection, 503, {"error": "call limit reached"})
        if route.processor is not None and route.processor not in self.factories:
            return _json_response(connection, 400, {"error": "unknown voice processor"})
        self._accepted[connection] = route
        return None

    async def handler(self, ws: ServerConnection) -> None:
        route = self._accepted.pop(ws)
        if route.stream == TRANSCRIPTION:
            # Transcription only: no audio to process, no call control of its own (its segments reach the
            # media socket's), and the media socket reports the call's end.
            processor: VoiceProcessor = TranscribeProcessor()
            control = None
        else:
            processor = self.factories[route.processor or self.config.voice_processor](self.config)
            control = None
            if self.call_actions is not None:
                control = CallControl(self.call_actions, route.instance_id, route.token,
                                      silence_seconds=self.config.caller_silence_seconds)
        inline = cast(InlineServerConnection, ws)  # serve(create_connection=InlineServerConnection) below
        seq = self._next_socket(route.instance_id) if route.stream != TRANSCRIPTION else None
        session = CallSession(inline, route, processor, self.store, on_ended=self.on_ended, call_control=control,
                              transcripts=self.transcripts, dead_air_seconds=self.config.dead_air_seconds,
                              socket_id=f"{self._run_id}-{seq}" if seq is not None else None, socket_seq=seq)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)

    def _next_socket(self, instance_id: str) -> int:
        seq = self._socket_counts.pop(instance_id, 0) + 1
        self._socket_counts[instance_id] = seq
        while len(self._socket_counts) > MAX_REMEMBERED_CALLS:
            self._socket_counts.popitem(last=False)
        return seq

    def _handshake_failed(self, connection: ServerConnection, request: Request, response: Response) -> None:
        # process_response runs after process_request accepted: nothing to do but keep the pending count
        # right when the upgrade does not happen.
        if response.status_code != 101:
            self._accepted.pop(connection, None)
        return None

    async def watch_idle(self) -> None:
        """Close sockets that received nothing for `idle_timeout_seconds` (one task for all calls)."""
        timeout = self.config.idle_timeout_seconds
        while True:
            await asyncio.sleep(IDLE_CHECK_SECONDS)
            now = time.monotonic()
            for session in list(self.sessions):
                if now - session.last_activity > timeout:
                    session.last_activity = now  # close once
                    session.log.warning("media socket idle for %.0f s: closing", timeout)
                    asyncio.get_running_loop().create_task(session.ws.close(CLOSE_GOING_AWAY, "idle timeout"))

    async def drain(self, deadline_seconds: float) -> None:
        """Refuse new sockets (503, /readyz false), let calls finish up to the deadline, then close them."""
        self.accepting = False
        log.info("draining: %d calls", len(self.sessions))
        end = time.monotonic() + deadline_seconds
        while self.sessions and time.monotonic() < end:
            await asyncio.sleep(0.1)
        if self.server is not None:
            self.server.close(close_connections=True, code=CLOSE_GOING_AWAY, reason="media host shutting down")
            await self.server.wait_closed()


@contextlib.asynccontextmanager
async def serve_media_host(
    config: MediaHostConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    store: CallBlobStore | None = None,
    processor_factories: dict[str, ProcessorFactory] | None = None,
    on_ended: Callable[[str, str, dict[str, Any]], Awaitable[object]] | None = None,
    acs_jwt: BearerVerifier | None = None,
) -> AsyncIterator[MediaHost]:
    """Run the media host until the block exits (then close all sockets and flush). ACS's handshake JWT is
    required when `acs_jwt` is given or the config names ACS's resource (media_host/acs_jwt_gate.py)."""
    check_websockets_compatible()  # before anything starts: a websockets upgrade must fail here, loudly
    acs_jwt = acs_jwt or verifier_for(config.acs_jwt)
    await warm(acs_jwt)
    own_store = store is None
    store = store or CallBlobStore.from_settings(config.base.storage)
    notifier: EndedNotifier | None = None
    if on_ended is None and config.callback_base_url is not None:
        notifier = EndedNotifier(config.callback_base_url)
        on_ended = notifier
    # Call control (silence reports, the voice processor's transfer / hang-up) needs the function app's URL.
    call_actions = CallActionsClient(config.callback_base_url) if config.callback_base_url is not None else None
    media_host = MediaHost(config, store, processor_factories=processor_factories, on_ended=on_ended,
                           call_actions=call_actions)
    server = await serve(
        media_host.handler,
        host if host is not None else config.bind_host,
        port if port is not None else config.base.port,
        compression=None,  # PCM does not compress; deflate cost 2.4x capacity
        create_connection=InlineServerConnection,  # text frames handled in data_received: no task switch
        process_request=with_acs_jwt(media_host.process_request, acs_jwt),
        process_response=media_host._handshake_failed,
        max_size=config.max_message_bytes,
        max_queue=16,
        ping_interval=20,
        ping_timeout=20,
        close_timeout=5,
        server_header=None,
    )
    media_host.server = server
    watcher = asyncio.get_running_loop().create_task(media_host.watch_idle())
    try:
        yield media_host
    finally:
        watcher.cancel()
        server.close(close_connections=True, code=CLOSE_GOING_AWAY, reason="media host shutting down")
        await server.wait_closed()
        if notifier is not None:
            await notifier.close()
        if call_actions is not None:
            await call_actions.close()
        if own_store:
            await store.close()
