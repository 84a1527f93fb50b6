"""The after-hours message as the call's orchestration runs it (pure): the answer policy's `PlayMessage`
(shared/answer_policy.py) recorded in the orchestration's input, and the call control it starts with.

The call is answered without media streaming; once connected, the flow (shared/call_flow.py, `message_only`)
plays the message and hangs up, whether the message played or not. The outcome is `after_hours_message` with
the policy's reason (shared/call_lifecycle.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.call_actions import Prompt
from shared.call_flow import FlowState
from shared.call_flow_settings import CallFlowSettings
from shared.call_progress import ControlState
from shared.call_start import POLICY_MESSAGE as MESSAGE_ACTION


def policy_input(prompt: Prompt, reason: str) -> dict[str, str]:
    """The decision as the orchestration's input records it: the message is settings text, not caller data."""
    fields = {"action": MESSAGE_ACTION, "reason": reason, "voice": prompt.voice}
    if prompt.text is not None:
        fields["text"] = prompt.text
    if prompt.url is not None:
        fields["url"] = prompt.url
    return fields


def is_message(policy: Mapping[str, str] | None) -> bool:
    return policy is not None and policy.get("action") == MESSAGE_ACTION


def control_for(policy: Mapping[str, str]) -> ControlState:
    """Call control that only plays the message: no greeting, menu or silence handling."""
    prompt = Prompt(text=policy.get("text"), url=policy.get("url"), voice=policy.get("voice") or Prompt().voice)
    settings = CallFlowSettings(goodbye=prompt)
    return ControlState(flow=FlowState(settings=settings, message_only=True))
