"""shared.call_action_tools: the voice model's tools map to media-host action requests, nothing else."""

from __future__ import annotations

import json

from shared.call_action_tools import (
    END_CALL_TOOL,
    REALTIME_TOOLS,
    TRANSFER_TOOL,
    action_request_for,
    function_call_output,
    parse_tool_call,
    with_tools,
)
from shared.call_actions import CONFIGURED_TARGET, MEDIA_HOST_ACTIONS, parse_action_request
from shared.voice_realtime_protocol import SessionOptions, session_update


def done(name: str, call_id: str = "c1") -> dict[str, object]:
    return {"type": "response.function_call_arguments.done", "call_id": call_id, "name": name,
            "arguments": json.dumps({"reason": "caller asked", "target": "+19005550100"})}


def test_tools_become_valid_media_host_requests() -> None:
    assert {tool["name"] for tool in REALTIME_TOOLS} == {TRANSFER_TOOL, END_CALL_TOOL}
    transfer = parse_tool_call(done(TRANSFER_TOOL))
    assert transfer is not None
    action = parse_action_request(action_request_for(transfer), "a", "media", MEDIA_HOST_ACTIONS)
    assert action.target == CONFIGURED_TARGET  # a number in the arguments is never used
    assert action.reason == "caller asked"  # the model's reason becomes the transfer's context
    end = parse_tool_call(done(END_CALL_TOOL))
    assert end is not None and action_request_for(end) == {"action": "hang_up"}


def test_other_events_and_tools_are_not_ours() -> None:
    assert parse_tool_call(done("delete_everything")) is None
    assert parse_tool_call({"type": "response.done"}) is None
    assert parse_tool_call(done(END_CALL_TOOL, call_id="")) is None


def test_function_call_output() -> None:
    call = parse_tool_call(done(END_CALL_TOOL))
    assert call is not None
    item = json.loads(function_call_output(call, True))["item"]
    assert item == {"type": "function_call_output", "call_id": "c1", "output": '{"accepted": true}'}


def test_both_session_shapes_offer_the_tools_and_keep_the_rest() -> None:
    for shape in ("ga", "preview", "voice_live"):
        options = SessionOptions(shape, "Be brief.", "verse", "whisper-1")
        plain = json.loads(session_update(options))
        offered = json.loads(with_tools(session_update(options)))
        assert offered["type"] == "session.update"
        assert offered["session"].pop("tools") == REALTIME_TOOLS
        assert offered["session"].pop("tool_choice") == "auto"
        assert offered == plain


def test_a_models_reason_is_made_fit_for_a_header() -> None:
    def reason_of(reason: object) -> object:
        event = {**done(TRANSFER_TOOL), "arguments": json.dumps({"reason": reason})}
        call = parse_tool_call(event)
        assert call is not None
        request = action_request_for(call)
        parse_action_request(request, "a", "media", MEDIA_HOST_ACTIONS)  # always a valid request
        return request.get("reason")

    assert reason_of("wants\r\nX-Injected: 1  a refund") == "wants X-Injected: 1 a refund"
    assert len(str(reason_of("x" * 500))) == 120
    assert len(str(reason_of("é" * 100))) == 42  # 6 characters each once percent-encoded: 256 at most
    assert reason_of(5) is None and reason_of("  ") is None
    event = {**done(TRANSFER_TOOL), "arguments": "{not json"}
    call = parse_tool_call(event)
    assert call is not None and action_request_for(call) == {"action": "transfer"}
