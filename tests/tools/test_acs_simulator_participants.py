"""The simulator's hold, unhold, add participant, play to one participant, our-leg hang-up and transfer
context, driven by the real azure-communication-callautomation client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.communication.callautomation import (
    CallConnectionClient,
    CommunicationUserIdentifier,
    FileSource,
    PhoneNumberIdentifier,
)
from azure.core.exceptions import HttpResponseError

from tests.tools.test_acs_simulator_rest import ACCESS_KEY, CALLEE, CALLER, call_client
from tools.acs_simulator import AcsSimulatorServer

AGENT = "+14255550123"
MUSIC = FileSource(url="https://cdn.example.test/hold.wav")


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[AcsSimulatorServer]:
    with AcsSimulatorServer(ACCESS_KEY, eml_dir=tmp_path / "eml") as server:
        yield server


def _connected(simulator: AcsSimulatorServer) -> CallConnectionClient:
    offered = simulator.offer_call(CALLER, CALLEE)
    client = call_client(simulator)
    props = client.answer_call(offered.incoming_call_context, "https://app.example.test/cb")
    simulator.mark_connected(props.call_connection_id)
    return client.get_call_connection(props.call_connection_id)


def test_hold_add_brief_unhold_and_leave(simulator: AcsSimulatorServer) -> None:
    connection = _connected(simulator)
    caller, agent = PhoneNumberIdentifier(CALLER), PhoneNumberIdentifier(AGENT)
    connection.hold(caller, play_source=MUSIC, operation_context="hold-1")
    added = connection.add_participant(agent, invitation_timeout=20, operation_context="add-1",
                                       source_caller_id_number=PhoneNumberIdentifier(CALLEE),
                                       sip_headers={"X-MS-Custom-Call-Id": "call-1"})
    assert added.invitation_id and added.operation_context == "add-1"
    (call,) = simulator.call_connections()
    assert simulator.settle_invitation(call.call_connection_id, {"rawId": f"4:{AGENT}"}, True)
    connection.play_media(MUSIC, play_to=[agent], operation_context="brief-1")
    connection.unhold(caller, operation_context="unhold-1")
    connection.hang_up(is_for_everyone=False)

    (hold,) = simulator.requests_for("hold")
    assert hold.status == 200 and hold.json["targetParticipant"]["rawId"] == f"4:{CALLER}"
    assert hold.json["playSourceInfo"]["file"]["uri"] == MUSIC.url
    (add,) = simulator.requests_for("participants_add")
    assert add.status == 202 and add.json["customCallingContext"]["sipHeaders"] == {"X-MS-Custom-Call-Id": "call-1"}
    assert add.json["invitationTimeoutInSeconds"] == 20
    (play,) = simulator.requests_for("play")
    assert [target["rawId"] for target in play.json["playTo"]] == [f"4:{AGENT}"]
    assert simulator.requests_for("unhold")[0].status == 200
    # Our leg only: DELETE, never :terminate.
    assert simulator.requests_for("hang_up")[0].status == 204 and simulator.requests_for("terminate") == []


def test_refusals(simulator: AcsSimulatorServer) -> None:
    connection = _connected(simulator)
    stranger = PhoneNumberIdentifier("+14255550999")
    with pytest.raises(HttpResponseError) as not_in_call:
        connection.hold(stranger, operation_context="h")
    with pytest.raises(HttpResponseError) as not_held:
        connection.unhold(PhoneNumberIdentifier(CALLER), operation_context="u")
    with pytest.raises(HttpResponseError) as no_caller_id:
        connection.add_participant(PhoneNumberIdentifier(AGENT), operation_context="a")
    with pytest.raises(HttpResponseError) as play_to_stranger:
        connection.play_media(MUSIC, play_to=[stranger], operation_context="p")
    with pytest.raises(HttpResponseError) as long_value:
        connection.transfer_call_to_participant(PhoneNumberIdentifier(AGENT), operation_context="t",
                                                sip_headers={"X-MS-Custom-Reason": "x" * 257})
    with pytest.raises(HttpResponseError) as no_prefix:
        connection.transfer_call_to_participant(PhoneNumberIdentifier(AGENT), operation_context="t",
                                                sip_headers={"Reason": "x"})
    with pytest.raises(HttpResponseError) as bad_character:
        connection.transfer_call_to_participant(PhoneNumberIdentifier(AGENT), operation_context="t",
                                                sip_headers={"X-MS-Custom-Story": "https://a.example/b"})
    with pytest.raises(HttpResponseError) as six_headers:
        connection.transfer_call_to_participant(
            PhoneNumberIdentifier(AGENT), operation_context="t",
            sip_headers={f"X-MS-Custom-H{index}": "v" for index in range(6)})
    for refused in (not_in_call, not_held, no_caller_id, play_to_stranger, long_value, no_prefix, bad_character,
                    six_headers):
        assert refused.value.status_code == 400
    assert "not a participant" in str(not_in_call.value.message)
    assert "sourceCallerIdNumber" in str(no_caller_id.value.message)


def test_transfer_records_its_context_headers(simulator: AcsSimulatorServer) -> None:
    connection = _connected(simulator)
    connection.transfer_call_to_participant(CommunicationUserIdentifier("8:acs:agent_1"), operation_context="t1",
                                            voip_headers={"X-MS-Custom-Story": "https://app.example/api/calls/c/view"})
    (transfer,) = simulator.requests_for("transfer")
    assert transfer.status == 202
    assert transfer.json["customCallingContext"] == {
        "voipHeaders": {"X-MS-Custom-Story": "https://app.example/api/calls/c/view"}}
    assert transfer.json["operationContext"] == "t1"


def test_cancel_and_remove_have_their_real_shapes_and_state(simulator: AcsSimulatorServer) -> None:
    connection = _connected(simulator)
    agent, late = PhoneNumberIdentifier(AGENT), CommunicationUserIdentifier("8:acs:agent_2")
    ringing = connection.add_participant(agent, invitation_timeout=20, operation_context="add-1",
                                         source_caller_id_number=PhoneNumberIdentifier(CALLEE))
    cancelled = connection.cancel_add_participant_operation(ringing.invitation_id, operation_context="cancel-1")
    assert cancelled.invitation_id == ringing.invitation_id and cancelled.operation_context == "cancel-1"
    (call,) = simulator.call_connections()
    assert call.invitations == {} and ringing.invitation_id in call.canceled_invitations
    # The withdrawn invitation's answer comes to nothing (its result was the cancel's).
    assert simulator.settle_invitation(call.call_connection_id, {"rawId": f"4:{AGENT}"}, True) is None
    answered = connection.add_participant(late, operation_context="add-2")
    assert simulator.settle_invitation(call.call_connection_id, {"rawId": "8:acs:agent_2"}, True)
    # Too late to withdraw: taken (202); the engine answers it with CancelAddParticipantFailed.
    connection.cancel_add_participant_operation(answered.invitation_id, operation_context="cancel-2")
    assert answered.invitation_id not in call.canceled_invitations
    removed = connection.remove_participant(late, operation_context="remove-1")
    assert removed.operation_context == "remove-1" and call.joined == set()

    first, second = simulator.requests_for("participants_cancelAddParticipant")
    assert first.status == second.status == 202
    assert first.json == {"invitationId": ringing.invitation_id, "operationContext": "cancel-1"}
    (remove,) = simulator.requests_for("participants_remove")
    assert remove.status == 202 and remove.json["participantToRemove"]["rawId"] == "8:acs:agent_2"


def test_cancel_and_remove_refusals(simulator: AcsSimulatorServer) -> None:
    connection = _connected(simulator)
    with pytest.raises(HttpResponseError) as unknown_invitation:
        connection.cancel_add_participant_operation("never-issued", operation_context="c")
    with pytest.raises(HttpResponseError) as not_joined:
        connection.remove_participant(CommunicationUserIdentifier("8:acs:agent_9"), operation_context="r")
    assert unknown_invitation.value.status_code == not_joined.value.status_code == 400
    assert "invitationId" in str(unknown_invitation.value.message)
    assert "participantToRemove" in str(not_joined.value.message)
