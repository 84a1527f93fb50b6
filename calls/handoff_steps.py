"""The consultative hand-off's steps (shared/warm_transfer.py) and a transfer's context, on the Call
Automation SDK. Called by the action runner (calls/call_action_runner.py) with the target already opened.

- hold: `CallConnectionClient.hold(caller, play_source=...)` (`POST /calling/callConnections/{id}:hold`,
  HoldRequest {targetParticipant, playSourceInfo, operationContext});
- unhold: `unhold(caller)` (`:unhold`, UnholdRequest);
- add the agent: `add_participant(agent, invitation_timeout=, operation_context=, sip_headers=/voip_headers=)`
  (`/participants:add`, AddParticipantRequest with customCallingContext); a phone number needs the caller id
  ACS shows it (`source_caller_id_number`, a number of the ACS resource: CALL_HANDOFF_CALLER_ID);
- brief the agent: `play_media(source, play_to=[agent])` (PlayRequest.playTo: only the agent hears it);
- withdraw the invitation: `cancel_add_participant_operation(invitation_id)` (`/participants:cancelAddParticipant`,
  CancelAddParticipantRequest {invitationId, operationContext}; answer 202, then CancelAddParticipantSucceeded or
  CancelAddParticipantFailed);
- remove an agent who joined too late: `remove_participant(agent)` (`/participants:remove`,
  RemoveParticipantRequest {participantToRemove, operationContext}; answer 202, then RemoveParticipantSucceeded
  or RemoveParticipantFailed);
- leave: `hang_up(is_for_everyone=False)` (`DELETE /calling/callConnections/{id}`: our leg only, where
  `is_for_everyone=True` is `:terminate` and ends the call for all).
"""

from __future__ import annotations

from azure.communication.callautomation import (
    CallConnectionClient,
    CommunicationIdentifier,
    FileSource,
    PhoneNumberIdentifier,
    TextSource,
)

from shared.call_actions import ADD_AGENT, BRIEF_AGENT, CANCEL_ADD, HOLD, LEAVE, REMOVE_AGENT, UNHOLD, CallAction

ContextHeaders = tuple[dict[str, str] | None, dict[str, str] | None]  # (sip_headers, voip_headers)


def perform_step(connection: CallConnectionClient, action: CallAction, agent: CommunicationIdentifier | None,
                 caller: CommunicationIdentifier | None, context: ContextHeaders, caller_id: str | None,
                 source: TextSource | FileSource | None) -> dict[str, object]:
    """`source`: the step's prompt as the runner builds every play source (hold music, the agent's brief).

    Answers what the orchestration needs from ACS's answer: the add's invitationId."""
    operation = action.action_id
    if action.kind in (HOLD, UNHOLD) and caller is None:
        raise ValueError("the caller of this call is not known")
    if action.kind in (ADD_AGENT, BRIEF_AGENT, REMOVE_AGENT) and agent is None:
        raise ValueError("no hand-off target")
    if action.kind == HOLD and caller is not None:
        connection.hold(caller, play_source=source, operation_context=operation)
    elif action.kind == UNHOLD and caller is not None:
        connection.unhold(caller, operation_context=operation)
    elif action.kind == ADD_AGENT and agent is not None:
        is_phone = isinstance(agent, PhoneNumberIdentifier)
        if is_phone and not caller_id:
            raise ValueError("adding a phone number needs CALL_HANDOFF_CALLER_ID (a number of the ACS resource)")
        sip, voip = context
        added = connection.add_participant(
            agent, invitation_timeout=action.timeout_seconds, operation_context=operation,
            source_caller_id_number=PhoneNumberIdentifier(caller_id) if is_phone and caller_id else None,
            sip_headers=sip, voip_headers=voip)
        return {"invitationId": added.invitation_id} if added.invitation_id else {}
    elif action.kind == CANCEL_ADD:
        if not action.invitation_id:
            raise ValueError("no invitation to withdraw")
        connection.cancel_add_participant_operation(action.invitation_id, operation_context=operation)
    elif action.kind == REMOVE_AGENT and agent is not None:
        connection.remove_participant(agent, operation_context=operation)
    elif action.kind == BRIEF_AGENT and agent is not None and source is not None:
        connection.play_media(source, play_to=[agent], operation_context=operation)
    elif action.kind == LEAVE:
        connection.hang_up(is_for_everyone=False)
    else:
        raise ValueError(f"action {action.kind} is not a hand-off step")
    return {}
