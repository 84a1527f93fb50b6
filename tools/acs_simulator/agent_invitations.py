"""The call engine's part for participants the application adds: ringing, answering or not, a withdrawn
invitation and a removal, each answered with its callback. The REST side (what is refused, the participant
state) is tools/acs_simulator/participants.py.

Events (generated models of the same names): AddParticipantSucceeded / AddParticipantFailed carry the
participant and the add's operationContext; CancelAddParticipantSucceeded / CancelAddParticipantFailed the
invitationId and the cancel request's own operationContext; RemoveParticipantSucceeded the participant and
the remove request's operationContext.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.acs_simulator import cloud_events as ce
from tools.acs_simulator.records import CallOperation
from tools.acs_simulator.scenario import Scenario
from tools.acs_simulator.server import AcsSimulatorServer

Callback = Callable[[str, "ce.Result | None", "str | None", "dict[str, Any] | None", "str | None"], None]
Schedule = Callable[[float, str, Any], None]
TIMELINE_KINDS = frozenset({"agent_result", "agent_joined_callback"})
OPERATIONS = frozenset({"participants_add", "participants_cancelAddParticipant", "participants_remove"})


class AgentInvitations:
    def __init__(self, scenario: Scenario, simulator: AcsSimulatorServer, callback: Callback,
                 schedule: Schedule) -> None:
        self._scenario = scenario
        self._simulator = simulator
        self._callback = callback
        self._at = schedule

    def on_operation(self, op: CallOperation) -> None:
        body = op.body
        context, uri = body.get("operationContext"), body.get("operationCallbackUri")
        if op.kind == "participants_add":
            timeout = body.get("invitationTimeoutInSeconds")
            after = self._scenario.agent_after_s if self._scenario.agent_answer != "no_answer" else \
                float(timeout if isinstance(timeout, int) and timeout > 0 else 30)
            self._at(after, "agent_result", (op.call_connection_id, body))
        elif op.kind == "participants_cancelAddParticipant":
            connection, invitation = self._simulator.call(op.call_connection_id), body.get("invitationId")
            withdrawn = connection is not None and invitation in connection.canceled_invitations
            self._callback("CancelAddParticipantSucceeded" if withdrawn else "CancelAddParticipantFailed",
                           ce.ACTION_OK if withdrawn else ce.CANCEL_TOO_LATE, context, {"invitationId": invitation},
                           uri)
        elif op.kind == "participants_remove":
            self._callback("RemoveParticipantSucceeded", ce.ACTION_OK, context,
                           {"participant": body.get("participantToRemove")}, uri)

    def on_timeline(self, kind: str, payload: Any) -> None:
        if kind == "agent_joined_callback":
            self._callback("AddParticipantSucceeded", ce.ACTION_OK, *payload)
            return
        call_connection_id, body = payload
        participant, answer = body.get("participantToAdd"), self._scenario.agent_answer
        context, uri = body.get("operationContext"), body.get("operationCallbackUri")
        joined = self._simulator.settle_invitation(call_connection_id, participant, answer == "answered")
        if joined is None:
            return  # withdrawn while ringing: CancelAddParticipantSucceeded was its result
        if answer == "answered" and joined:
            # agent.callback_delay_s: the agent is in the call at once, the event reaches the app late.
            self._at(self._scenario.agent_callback_delay_s, "agent_joined_callback",
                     (context, {"participant": participant}, uri))
            return
        result = ce.ADD_DECLINED if answer == "declined" else ce.ADD_NOT_ANSWERED
        self._callback("AddParticipantFailed", result, context, {"participant": participant}, uri)
