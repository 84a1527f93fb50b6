"""A `websockets` server connection that hands complete text frames to the call synchronously.

websockets' asyncio layer queues each received message and wakes the handler task for it, and each
`send()` goes through an async context manager; per 20 ms audio frame that machinery costs more than
everything the media host does with the frame. This subclass (installed with `serve(...,
create_connection=InlineServerConnection)`) keeps websockets' Sans-I/O protocol, handshake, keepalive,
limits and closing handshake, and changes only two things for a socket whose call installed a
`text_sink`:

- a complete text frame is given to the sink from `data_received`, without a queue or a task switch;
- replies are written at once with `write_text`, through the same protocol object.

Flow control for writes is explicit: when the peer does not read and our write buffer for it is above
`WRITE_HIGH_WATER`, `write_text` refuses (returns False) and the caller counts the frame as dropped. Real-time
audio that cannot be delivered now is worthless later, and one stuck peer must not grow memory.
Everything else (binary frames, fragmented messages, control frames, text frames after handling failed)
takes websockets' public path: its queue and the call's `recv()` loop; writes on a socket with extensions or
in the middle of a fragmented message go through the protocol's `send_text`.

This is the only module that touches websockets' private parts. The public API alone (a `recv()` loop and
`broadcast()` writes) measured 17% less capacity and 17% more CPU per frame (docs/operations.md), over
the 15% the project accepts. `check_websockets_compatible()` runs at start-up and refuses a websockets
whose private parts are not the ones used here.
"""

from __future__ import annotations

import inspect
import logging
import struct
from collections.abc import Callable

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, State
from websockets.server import ServerProtocol
from websockets.version import version as websockets_version

from shared.settings import SettingsError

log = logging.getLogger("media_host.inline_connection")

WRITE_HIGH_WATER = 64 * 1024  # about 50 outbound frames waiting for a peer that does not read
MAX_EARLY_FRAMES = 256
_HEADER_16 = struct.Struct("!BBH")
_HEADER_64 = struct.Struct("!BBQ")  # text frames held between the upgrade and the call's sink (normally a handful)


def _parameters(function: object) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []


def check_websockets_compatible() -> None:
    """Raise SettingsError, naming the installed websockets, unless every private part used below is there
    with the shape this module relies on (tested with websockets 17.4)."""
    problems = []
    for owner, name, parameters in ((Connection, "process_event", ["self", "event"]),
                                    (Connection, "data_received", ["self", "data"]),
                                    (Connection, "send_data", ["self"]),
                                    (Connection, "connection_made", ["self", "transport"]),
                                    (Protocol, "send_text", ["self", "data", "fin"])):
        if _parameters(getattr(owner, name, None)) != parameters:
            problems.append(f"{owner.__name__}.{name}({', '.join(parameters[1:])})")
    protocol = ServerProtocol()
    for name in ("state", "expect_continuation_frame", "extensions"):
        if not hasattr(protocol, name):
            problems.append(f"Protocol.{name}")
    frame_fields = set(getattr(Frame, "__annotations__", {}))
    if getattr(Opcode, "TEXT", None) is None or not {"opcode", "data", "fin"} <= frame_fields:
        problems.append("Frame(opcode, data, fin) with Opcode.TEXT")
    if problems:
        raise SettingsError(
            f"websockets {websockets_version} is not compatible with media_host/inline_connection.py "
            f"(missing or changed: {'; '.join(problems)}); install the pinned websockets==17.4")


class InlineServerConnection(ServerConnection):
    text_sink: Callable[[bytes], None] | None = None
    # Text frames that arrive before the call installs its sink are held here, in order, and replayed by
    # `set_text_sink`: otherwise they would sit in websockets' queue and be handled after later frames.
    _early: list[bytes] | None = None
    _awaiting_sink = True

    def set_text_sink(self, sink: Callable[[bytes], None] | None) -> None:
        early, self._early = self._early, None
        self._awaiting_sink = False
        self.text_sink = sink
        if sink is not None:
            for data in early or ():
                if self.text_sink is None:
                    break
                self._deliver(sink, data)

    def process_event(self, event: object) -> None:
        if type(event) is Frame and event.opcode is Opcode.TEXT and event.fin:
            sink = self.text_sink
            if sink is not None:
                self._deliver(sink, bytes(event.data))  # already bytes when websockets parses a frame: no copy
                return
            if self._awaiting_sink:
                if self._early is None:
                    self._early = []
                if len(self._early) < MAX_EARLY_FRAMES:
                    self._early.append(bytes(event.data))
                    return
        super().process_event(event)  # type: ignore[arg-type]

    def _deliver(self, sink: Callable[[bytes], None], data: bytes) -> None:
        try:
            sink(data)  # UTF-8 JSON bytes, decoded by msgspec without an intermediate str
        except Exception:  # noqa: BLE001 - a bug in one call's handling must not break the event loop
            log.exception("media frame handling failed; closing this socket")
            self.text_sink = None  # later frames are queued and discarded by the call's receive loop
            self.loop.create_task(self.close(1011, "internal error"))

    def write_text(self, text: str, *, control: bool = False) -> bool:
        """Send one text message now. False when the socket is not open, or when the peer is not reading
        and the message is not a `control` message (StopAudio must get through even then)."""
        if self.protocol.state is not State.OPEN:
            return False
        if not control and self.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            return False
        if self.protocol.expect_continuation_frame or self.protocol.extensions:
            self.protocol.send_text(text.encode())  # the general path (never taken by the media host)
            self.send_data()
            return True
        # An unfragmented, unmasked server text frame is a 2- or 4-byte header and the payload (RFC 6455
        # 5.2): written straight to the transport, it skips building and serializing a Frame object for
        # each of the 50 frames a second per call. websockets' protocol keeps no state about data frames
        # it sends, and the checks above cover the states in which it would refuse to send one.
        payload = text.encode()
        length = len(payload)
        if length < 126:
            header = bytes((0x81, length))
        elif length < 65536:
            header = _HEADER_16.pack(0x81, 126, length)
        else:
            header = _HEADER_64.pack(0x81, 127, length)
        self.transport.write(header + payload)
        return True
