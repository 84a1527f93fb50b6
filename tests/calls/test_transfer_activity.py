"""The action activity opens a sealed transfer target for its own call only, and adds the call's context."""

from __future__ import annotations

import os
from urllib.parse import unquote

import pytest

from calls.call_orchestration.activities import _opened
from shared.call_actions import ADD_AGENT, CONFIGURED_TARGET, TRANSFER, CallAction
from shared.sealed_value import CALLER, NONCE_BYTES, TRANSFER_TARGET, SealError, seal
from tests.conftest import TEST_CALL_TOKEN_SECRET

AGENT = "+14255550177"
CALL = "call-" + "ab" * 16


def sealed(purpose: str = TRANSFER_TARGET, instance_id: str = CALL) -> str:
    return seal(TEST_CALL_TOKEN_SECRET, os.urandom(NONCE_BYTES), purpose, instance_id, AGENT)


def test_a_sealed_target_opens_for_its_call_with_the_context(app_env: pytest.MonkeyPatch) -> None:
    action = CallAction("a1", TRANSFER, "api", target=sealed(), target_mask="+1 425 *** **77", reason="billing")
    opened, extras = _opened(action, CALL, None, None)
    assert opened.target == AGENT and opened.target_mask == "+1 425 *** **77"
    sip, voip = extras.context
    assert voip is None and sip is not None and sip["X-MS-Custom-Call-Id"] == CALL
    assert unquote(sip["X-MS-Custom-Story"]) == f"http://127.0.0.1:7071/api/calls/{CALL}/view"


@pytest.mark.parametrize("target", [sealed(instance_id="call-" + "cd" * 16), sealed(purpose=CALLER)])
def test_a_target_sealed_for_another_call_or_purpose_does_not_open(app_env: pytest.MonkeyPatch, target: str) -> None:
    with pytest.raises(SealError):
        _opened(CallAction("a1", ADD_AGENT, "api", target=target, target_mask="x"), CALL, None, None)


def test_the_configured_line_and_the_caller_id(app_env: pytest.MonkeyPatch) -> None:
    opened, extras = _opened(CallAction("a1", ADD_AGENT, "flow", target=CONFIGURED_TARGET), CALL, "8:acs:agent_1",
                             "+18005550199")
    assert opened.target == "8:acs:agent_1" and extras.caller_id == "+18005550199"
    sip, voip = extras.context
    assert sip is None and voip is not None and voip["X-MS-Custom-Call-Id"] == CALL  # an ACS user: VoIP headers
