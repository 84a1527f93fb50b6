"""Calls the simulator knows: offered (ringing) calls and answered call connections. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.acs_simulator import identifiers
from tools.acs_simulator.acs_errors import (
    AcsError,
    call_already_answered,
    not_found,
    unknown_incoming_call_context,
)


@dataclass(frozen=True)
class OfferedCall:
    """A ringing call, as Event Grid's IncomingCall describes it; answer with `incoming_call_context`."""

    caller: str  # E.164 number or ACS user id
    callee: str
    caller_display_name: str
    server_call_id: str
    correlation_id: str
    incoming_call_context: str
    # Unmanaged offers (tests driving the REST API alone) connect at answer; the call engine connects its
    # own calls when it sends CallConnected, so a missed call can stay unconnected.
    managed: bool = False


@dataclass
class CallConnection:
    call_connection_id: str
    offered: OfferedCall
    callback_uri: str
    operation_context: str | None
    media_streaming: dict[str, Any] | None
    transcription: dict[str, Any] | None
    app_identity: str = ""  # the application's own ACS identity: `source` in CallConnectionProperties
    cognitive_services_endpoint: str | None = None
    state: str = "connecting"  # connecting -> connected -> disconnected
    muted: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)  # raw ids on hold (tools/acs_simulator/participants.py)
    joined: set[str] = field(default_factory=set)  # raw ids of added participants who answered
    invitations: dict[str, str] = field(default_factory=dict)  # invitationId -> raw id, while ringing
    past_invitations: dict[str, str] = field(default_factory=dict)  # invitationId -> raw id, settled or withdrawn
    canceled_invitations: set[str] = field(default_factory=set)  # invitationIds withdrawn while ringing

    @property
    def transcription_url(self) -> str | None:
        url = (self.transcription or {}).get("transportUrl")
        return url if isinstance(url, str) and url else None

    def properties(self) -> dict[str, Any]:
        """CallConnectionProperties JSON (the generated model's wire names).

        As in the REST spec's examples (`AnswerCall.json`, `CallConnection_GetCall.json`, 2026-03-12):
        `source` is the application's own ACS identity, not the caller; the other party (here the caller)
        is in `targets`, and the number that was called in `answeredFor`. The caller is known only from
        the IncomingCall event's `from`.
        """
        props: dict[str, Any] = {
            "callConnectionId": self.call_connection_id,
            "serverCallId": self.offered.server_call_id,
            "targets": [identifiers.identifier_for(self.offered.caller)],
            "callConnectionState": self.state,
            "callbackUri": self.callback_uri,
            "source": identifiers.acs_user_identifier(self.app_identity),
            "correlationId": self.offered.correlation_id,
        }
        if not self.offered.callee.startswith("8:"):
            props["answeredFor"] = {"value": self.offered.callee}
        if self.media_streaming is not None:
            started = bool(self.media_streaming.get("startMediaStreaming"))
            props["mediaStreamingSubscription"] = {
                "id": f"ms-{self.call_connection_id}",
                "state": "active" if started and self.state == "connected" else "inactive",
                "subscribedContentTypes": [self.media_streaming.get("contentType", "audio")],
            }
        if self.transcription is not None:
            started = bool(self.transcription.get("startTranscription"))
            props["transcriptionSubscription"] = {
                "id": f"tr-{self.call_connection_id}",
                "state": "active" if started and self.state == "connected" else "inactive",
                "subscribedResultTypes": ["final", "intermediate"] if self.transcription.get(
                    "enableIntermediateResults") else ["final"],
            }
        return props


class CallRegistry:
    """Not thread-safe by itself: the server shell holds one lock around every call."""

    def __init__(self, app_identity: str | None = None) -> None:
        self.app_identity = app_identity or identifiers.new_app_identity()
        self._offered: dict[str, OfferedCall] = {}
        self._answered_contexts: dict[str, str] = {}  # context -> callConnectionId
        self.connections: dict[str, CallConnection] = {}
        self.refused: dict[str, str] = {}  # context -> "rejected" | "redirected"

    def offer(self, caller: str, callee: str, caller_display_name: str = "", *, managed: bool = False) -> OfferedCall:
        server_call_id = identifiers.new_server_call_id()
        offered = OfferedCall(
            caller=caller,
            callee=callee,
            caller_display_name=caller_display_name,
            server_call_id=server_call_id,
            correlation_id=identifiers.new_correlation_id(),
            incoming_call_context=identifiers.new_incoming_call_context(server_call_id),
            managed=managed,
        )
        self._offered[offered.incoming_call_context] = offered
        return offered

    def refuse(self, body: dict[str, Any], how: str) -> OfferedCall | AcsError:
        """Reject or redirect a ringing call ("rejected"/"redirected"). Only a ringing call can be: ACS
        publishes no error for the others, so they get the answer's own refusals (stricter, never lenient)."""
        context = body.get("incomingCallContext")
        if not isinstance(context, str) or not context:
            return AcsError(400, "BadRequest", "incomingCallContext is required.")
        if context in self._answered_contexts:
            return call_already_answered()
        offered = self._offered.pop(context, None)
        if offered is None:
            return unknown_incoming_call_context()  # unknown, withdrawn, or already rejected/redirected
        self.refused[context] = how
        return offered

    def withdraw(self, incoming_call_context: str) -> bool:
        """The caller gave up before anyone answered: later answers fail as for an unknown call. False when
        the call was no longer ringing (answered, rejected or redirected first): nothing was withdrawn."""
        return self._offered.pop(incoming_call_context, None) is not None

    def answer(self, body: dict[str, Any]) -> CallConnection | AcsError:
        context = body.get("incomingCallContext")
        callback_uri = body.get("callbackUri")
        if not isinstance(context, str) or not context:
            return AcsError(400, "BadRequest", "incomingCallContext is required.")
        if not isinstance(callback_uri, str) or not callback_uri:
            return AcsError(400, "BadRequest", "callbackUri is required.")
        if context in self._answered_contexts:
            return call_already_answered()
        offered = self._offered.get(context)
        if offered is None:
            return unknown_incoming_call_context()
        media = body.get("mediaStreamingOptions")
        transcription = body.get("transcriptionOptions")
        intelligence = body.get("callIntelligenceOptions")
        endpoint = intelligence.get("cognitiveServicesEndpoint") if isinstance(intelligence, dict) else None
        connection = CallConnection(
            call_connection_id=identifiers.new_call_connection_id(),
            offered=offered,
            callback_uri=callback_uri,
            operation_context=body.get("operationContext"),
            media_streaming=media if isinstance(media, dict) else None,
            transcription=transcription if isinstance(transcription, dict) else None,
            app_identity=self.app_identity,
            cognitive_services_endpoint=endpoint if isinstance(endpoint, str) and endpoint else None,
            state="connecting" if offered.managed else "connected",
        )
        del self._offered[context]
        self._answered_contexts[context] = connection.call_connection_id
        self.connections[connection.call_connection_id] = connection
        return connection

    def live(self, call_connection_id: str) -> CallConnection | AcsError:
        connection = self.connections.get(call_connection_id)
        if connection is None or connection.state == "disconnected":
            return not_found(f"Call connection {call_connection_id} not found or already ended.")
        return connection

    def get(self, call_connection_id: str) -> CallConnection | AcsError:
        connection = self.connections.get(call_connection_id)
        if connection is None:
            return not_found(f"Call connection {call_connection_id} not found.")
        return connection
