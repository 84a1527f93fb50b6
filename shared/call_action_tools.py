"""Call control as tools of a realtime voice model: definitions, and a model's tool call as an action request.

The realtime bridge (media_host/realtime_bridge.py) can offer `REALTIME_TOOLS` in its `session.update`,
turn a `response.function_call_arguments.done` event into a request with `action_request_for`, send it with
media_host/call_actions_client.py, and answer the model with `function_call_output`. Pure.

The model gets no say over numbers: "transfer" goes to the configured agent line (CALL_TRANSFER_TARGET),
so a caller cannot talk the agent into dialling anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from shared.transfer_context import MAX_REASON_CHARS, MAX_SIP_VALUE_CHARS, sip_value

TRANSFER_TOOL = "transfer_to_agent"
END_CALL_TOOL = "end_call"
_REASON = {"type": "string", "description": "One short sentence: why, for the call's record."}

# The GA realtime API's function tool shape (the preview API accepts the same keys).
REALTIME_TOOLS: list[dict[str, object]] = [
    {"type": "function", "name": TRANSFER_TOOL,
     "description": "Transfer the caller to a human agent. Say that you are transferring them first.",
     "parameters": {"type": "object", "properties": {"reason": _REASON}, "required": []}},
    {"type": "function", "name": END_CALL_TOOL,
     "description": "End the call after saying goodbye, when the caller is done or asks to hang up.",
     "parameters": {"type": "object", "properties": {"reason": _REASON}, "required": []}},
]
_ACTIONS = {TRANSFER_TOOL: {"action": "transfer"}, END_CALL_TOOL: {"action": "hang_up"}}


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    reason: str | None = None  # the model's one-sentence why: a transfer's context (shared/transfer_context.py)


def _reason(arguments: object) -> str | None:
    """The `reason` argument made fit for a context header: one line, bounded, or None."""
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else None
    except ValueError:
        return None
    reason = parsed.get("reason") if isinstance(parsed, dict) else None
    if not isinstance(reason, str):
        return None
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in reason).split())[:MAX_REASON_CHARS]
    while text and len(sip_value(text)) > MAX_SIP_VALUE_CHARS:
        text = text[:-1]
    return text.strip() or None


def parse_tool_call(event: Mapping[str, object]) -> ToolCall | None:
    """A `response.function_call_arguments.done` server event as a tool call, if it is one of ours."""
    if event.get("type") != TOOL_CALL_EVENT:
        return None
    call_id, name = event.get("call_id"), event.get("name")
    if not isinstance(call_id, str) or not call_id or name not in _ACTIONS:
        return None
    return ToolCall(call_id[:128], str(name), _reason(event.get("arguments")))


def action_request_for(call: ToolCall) -> dict[str, object]:
    """The body for `POST /api/media/{instanceId}/actions`."""
    request: dict[str, object] = dict(_ACTIONS[call.name])
    if call.reason is not None and request["action"] == "transfer":
        request["reason"] = call.reason
    return request


TOOL_CALL_EVENT = "response.function_call_arguments.done"  # the same name in the GA and preview protocols
RESPONSE_CREATE = '{"type":"response.create"}'  # after a tool's output, the model answers only when asked


def with_tools(session_update: str) -> str:
    """A rendered `session.update` that also offers `REALTIME_TOOLS` (`session.tools` in GA and preview)."""
    message = json.loads(session_update)
    message["session"]["tools"] = REALTIME_TOOLS
    message["session"]["tool_choice"] = "auto"
    return json.dumps(message)


def function_call_output(call: ToolCall, accepted: bool, detail: str | None = None) -> str:
    """`conversation.item.create` telling the model how its request went."""
    output = {"accepted": accepted, **({"detail": detail[:200]} if detail else {})}
    return json.dumps({"type": "conversation.item.create",
                       "item": {"type": "function_call_output", "call_id": call.call_id, "output": json.dumps(output)}})
