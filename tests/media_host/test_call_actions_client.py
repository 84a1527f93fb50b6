"""media_host.call_actions_client against the real function app in the dev host: the media host asks for a
hang-up with its call token, reports silence, and gets clear answers for a forged token or an unknown call."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from media_host.call_actions_client import CallActionsClient, media_route_url
from shared.call_token import call_token
from shared.caller_silence import SilenceReport
from tests.calls.test_call_actions_http import raise_directly
from tests.calls.test_events_http import NOTIFICATION, offered_delivery, raised_events, wait_until
from tests.conftest import TEST_CALL_TOKEN_SECRET
from tools.acs_simulator import AcsSimulatorServer


def connected_call_over_http(durable, simulator: AcsSimulatorServer) -> str:
    """Everything through the dev host's HTTP (the durable client's session belongs to the dev host's loop)."""
    request = urllib.request.Request(f"{durable.base_url}/api/events?code={durable.function_key}", method="POST",
                                     data=json.dumps(offered_delivery(simulator)).encode(), headers=NOTIFICATION)
    with urllib.request.urlopen(request, timeout=30) as response:
        (call,) = json.loads(response.read())["calls"]
    instance_id = call["instanceId"]
    status = wait_until(lambda: durable.instance_status(instance_id),
                        lambda s: bool((s or {}).get("customStatus", {}).get("callConnectionId")))
    connection_id = status["customStatus"]["callConnectionId"]
    simulator.mark_connected(connection_id)
    raise_directly(durable, instance_id, "CallConnected", {"type": "CallConnected", "callConnectionId": connection_id})
    wait_until(lambda: durable.instance_status(instance_id),
               lambda s: (s or {}).get("customStatus", {}).get("flow") == "listening")
    return instance_id


def test_route_urls_quote_their_parts() -> None:
    assert media_route_url("https://f.example/", "call-1", "silence", "a/b+c") == \
        "https://f.example/api/media/call-1/silence?token=a%2Fb%2Bc"


def test_hang_up_and_silence_from_the_media_host(durable, simulator: AcsSimulatorServer) -> None:
    instance_id = connected_call_over_http(durable, simulator)
    token = call_token(TEST_CALL_TOKEN_SECRET, instance_id)

    async def act() -> tuple:
        client = CallActionsClient(durable.base_url, attempts=2, backoff=0.05)
        try:
            silence = await client.report_silence(instance_id, token, SilenceReport(8_000, 0))
            forged = await client.request_action(instance_id, "forged", {"action": "hang_up"})
            refused = await client.request_action(instance_id, token, {"action": "play", "text": "hi"})
            unknown = await client.request_action("call-" + "a" * 32, call_token(TEST_CALL_TOKEN_SECRET,
                                                                                 "call-" + "a" * 32),
                                                  {"action": "hang_up"})
            hang_up = await client.request_action(instance_id, token, {"action": "hang_up"})
            return silence, forged, refused, unknown, hang_up
        finally:
            await client.close()

    silence, forged, refused, unknown, hang_up = asyncio.run(act())
    assert silence is True
    assert (forged.status, refused.status, unknown.status) == (401, 400, 404)
    assert hang_up.accepted and hang_up.action_id
    terminated = wait_until(lambda: simulator.requests_for("terminate") + simulator.requests_for("hang_up"), bool)
    assert len(terminated) == 1
    assert {"CallerSilence", "CallActionRequested"} <= set(raised_events(durable.instance_status(instance_id)))


def test_an_absent_function_app_is_reported_not_raised() -> None:
    async def act() -> tuple:
        client = CallActionsClient("http://127.0.0.1:9", attempts=2, attempt_timeout=0.5, backoff=0.01)
        try:
            return (await client.request_action("call-1", "t", {"action": "hang_up"}),
                    await client.report_silence("call-1", "t", SilenceReport(1, 0)))
        finally:
            await client.close()

    reply, reported = asyncio.run(act())
    assert reply.status is None and not reply.accepted and reported is False
