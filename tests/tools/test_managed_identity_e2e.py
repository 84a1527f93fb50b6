"""The managed-identity path end to end: no ACS_ACCESS_KEY, so the product's own DefaultAzureCredential gets
Entra tokens (from the local App Service managed-identity endpoint) and its Call Automation and Email
clients reach the simulator over https with `Authorization: Bearer`. A caller hangs up at once, so the
call needs nothing but answer, callbacks and the summary email."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.local_stack import local_stack


def test_call_placed_with_no_access_key_uses_bearer_tokens(azurite_connection_string: str, tmp_path: Path) -> None:
    with local_stack(azurite_connection_string, tmp_path, time_scale=0.2, managed_identity=True) as stack:
        assert stack.simulator.endpoint.startswith("https://") and "ACS_ACCESS_KEY" not in stack.env
        result = asyncio.run(run_scenario(load_scenario("caller_hangs_up_at_once"), events_url=stack.events_url,
                                          simulator=stack.simulator, signer=stack.signer))
        assert result.validation_ok and result.answer_statuses == [200], result.errors
        [answer] = stack.simulator.requests_for("answer")
        stack.wait_for_call(answer.json["operationContext"], timeout=90)
        requests = stack.simulator.requests
        assert requests and all(r.headers.get("authorization", "").startswith("Bearer ") for r in requests)
        assert all(r.status < 400 for r in requests), [(r.operation, r.status) for r in requests]
        assert {"answer", "email"} <= {r.operation for r in requests}
