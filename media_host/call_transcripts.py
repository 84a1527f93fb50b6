"""One transcript per call, shared by every socket ACS opens for the call.

ACS opens a WebSocket per subscription: one for media streaming and, when transcription was asked for at
answer, one for transcription, each to its own transport URL (REST spec CallAutomation stable 2026-03-12,
`MediaStreamingOptions.transportUrl` and `WebSocketTranscriptionOptions.transportUrl`). Both may carry
transcript segments (a media socket that also carries `TranscriptionData` is handled as before), and both
append to `calls/{id}/transcript.jsonl`. Appends are conditional on the blob's length (see
`CallBlobStore.append`), so two writers of one blob would refuse each other's appends: the call's sockets
share one `AppendBuffer` instead, held here while any of them is open.

The media socket reports the call's end (media.json, then the function app's `MediaStreamEnded`). When it
closed cleanly (the call is ending, and ACS closes the transcription socket with it) the report waits a few
seconds for the call's transcription socket to close, so that the last segments are in the blob when the
summary reads it. When the media socket broke mid-call the report goes out at once: it is what tells the
orchestration to restart the stream, and the call, its transcription socket and its transcript go on. That
report says `transcription: {"socketOpenAtReport": true}`; the transcription socket's own figures follow when
it closes, into media.json's entry of the same socket id (`reported_without_transcription`) while that socket is
still the call's latest report. They are not sent to the function app a second time: the orchestration reads
one report per socket id (shared/media_recovery.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from media_host.append_buffer import AppendBuffer
from media_host.blob_store import CallBlobStore
from shared.blob_names import transcript_blob
from shared.speaker_labels import SpeakerLabels

# The media socket closed cleanly: the call is ending, and ACS closes the transcription socket with it.
TRANSCRIPTION_CLOSE_WAIT_SECONDS = 5.0


@dataclass
class CallTranscript:
    buffer: AppendBuffer
    holders: int = 0
    transcription_sockets: int = 0  # open transcription sockets of the call
    transcription_closed: asyncio.Event = field(default_factory=asyncio.Event)
    # Final segments from any socket of the call count as caller speech for the media socket's call control.
    on_utterance: Callable[[], None] | None = None
    transcription_stats: dict[str, object] = field(default_factory=dict)
    # One set of speaker labels per call: the media and transcription sockets name people alike.
    speakers: SpeakerLabels = field(default_factory=SpeakerLabels)
    # media.json is read and rewritten by each media socket of the call as it closes (every socket listed):
    # one at a time, or two closing together would each drop the other's entry.
    report_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The socket id of a broken media socket that reported while a transcription socket was open.
    reported_without_transcription: str | None = None


class CallTranscripts:
    def __init__(self, store: CallBlobStore) -> None:
        self._store = store
        self._calls: dict[str, CallTranscript] = {}

    def acquire(self, instance_id: str, *, transcription: bool) -> CallTranscript:
        entry = self._calls.get(instance_id)
        if entry is None:
            name = transcript_blob(instance_id)
            entry = CallTranscript(AppendBuffer(lambda data, offset: self._store.append(name, data, offset)))
            self._calls[instance_id] = entry
        entry.holders += 1
        if transcription:
            entry.transcription_sockets += 1
            entry.transcription_closed.clear()
        return entry

    async def wait_for_transcription(self, entry: CallTranscript, timeout: float) -> bool:
        """Wait until the call has no open transcription socket. True when none is left open."""
        if entry.transcription_sockets == 0:
            return True
        try:
            await asyncio.wait_for(entry.transcription_closed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def release(self, instance_id: str, entry: CallTranscript, *, transcription: bool,
                      flush_timeout: float) -> bool:
        """Give the transcript back; the last holder flushes and closes it. True when nothing is left unwritten
        (for a holder that is not the last: when what was buffered so far could be written)."""
        if transcription:
            entry.transcription_sockets -= 1
            if entry.transcription_sockets == 0:
                entry.transcription_closed.set()
        entry.holders -= 1
        if entry.holders > 0:
            return entry.buffer.pending_lines == 0
        if self._calls.get(instance_id) is entry:
            del self._calls[instance_id]
        return await entry.buffer.close(flush_timeout)
