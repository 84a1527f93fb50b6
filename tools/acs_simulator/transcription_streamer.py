"""ACS's real-time transcription socket: its own WebSocket to `transcriptionOptions.transportUrl`.

One connection per subscription, even when the transport URL equals the media one: in the REST spec's
`AnswerCall.json` both options name the same URL yet the answer carries two subscriptions
(`mediaStreamingSubscription`, `transcriptionSubscription`) with their own ids, and the real-time
transcription tutorial says the transcription socket's *first* packet is `TranscriptionMetadata` (on a
media socket the first is `AudioMetadata`). So transcripts never arrive on the media socket here.
No reconnect: nothing published says ACS re-dials a dropped socket, so a lost socket stays lost and the
transcript stops (the strict reading) until the application starts transcription again; the engine reports
the loss as TranscriptionFailed (`on_lost`). A socket that cannot be opened is reported as TranscriptionFailed
500/8578 (tutorial's event-code table). Messages: TranscriptionMetadata first, then one Final
TranscriptionData per utterance (tutorial's samples; offsets in 100-ns ticks from the socket's start).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from tools.acs_simulator import media_messages as mm
from tools.acs_simulator.results import MediaStats


class TranscriptionStreamer:
    def __init__(self, *, url: str, headers: dict[str, str], locale: str, call_connection_id: str,
                 correlation_id: str, stats: MediaStats,
                 on_lost: Callable[[TranscriptionStreamer], None] | None = None) -> None:
        self._url = url
        self._headers = headers
        self._locale = locale
        self._call_connection_id = call_connection_id
        self._correlation_id = correlation_id
        self.stats = stats
        self._ws: ClientConnection | None = None
        self._drain: asyncio.Task[None] | None = None
        self.start_time = 0.0
        self._on_lost = on_lost
        self._closing = False

    async def open(self) -> bool:
        try:
            self._ws = await connect(self._url, additional_headers=self._headers, compression=None,
                                     open_timeout=10, max_size=2**20)
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            self.stats.transcription_open_error = f"{type(exc).__name__}: {exc}"
            return False
        self.stats.transcription_opened = True
        self.start_time = asyncio.get_running_loop().time()
        await self._ws.send(mm.transcription_metadata(f"tr-{self._call_connection_id}", self._locale,
                                                      self._call_connection_id, self._correlation_id))
        self._drain = asyncio.create_task(self._discard_inbound())
        return True

    async def _discard_inbound(self) -> None:
        # ACS reads nothing on this socket; keep reading so close frames are answered.
        assert self._ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for _ in self._ws:
                self.stats.transcription_inbound_ignored += 1
        if not self._closing and self._on_lost is not None:
            self._on_lost(self)  # the host closed or lost the socket: ours is a close in `close`

    async def send_final(self, text: str, started_at: float, duration_s: float, participant_raw_id: str) -> None:
        """One Final result for speech that began at loop time `started_at`."""
        if self._ws is None:
            return
        offset_s = max(0.0, started_at - self.start_time)
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(mm.transcription_data(text, offset_s, duration_s, participant_raw_id))
            self.stats.transcripts_sent.append(text)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._ws.close(code=1000, reason="transcription stopped")
            self.stats.transcription_close_code = self._ws.close_code
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await self._drain
        self._ws = None
