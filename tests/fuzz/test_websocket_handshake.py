"""Property: whatever path and headers a peer opens the media socket with, the media host (ACS JWT on) answers
before the upgrade with a 4xx JSON refusal (or accepts a genuine one), never a 5xx, and keeps serving."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.call_token import call_token
from tools.local_stack import LocalStack

QUICK = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
INSTANCE = "call-0123456789abcdef0123456789abcdef"
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


def handshake(url: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
        base = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
        for name, value in {**base, **headers}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read() if response.status != 101 else b""
    finally:
        connection.close()


@st.composite
def paths(draw: st.DrawFn, secret: str) -> str:
    choice = draw(st.sampled_from(["genuine", "random", "bad token", "traversal"]))
    if choice == "genuine":
        return f"/ws/{INSTANCE}/{call_token(secret, INSTANCE)}"
    if choice == "bad token":
        return f"/ws/{INSTANCE}/{quote(draw(st.text(max_size=60)), safe='')}"
    if choice == "traversal":
        return "/ws/../" + quote(draw(st.text(max_size=40)), safe="/")
    return "/" + quote(draw(st.text(max_size=120)), safe="/?=&")


@QUICK
@given(data=st.data())
def test_handshake_is_refused_cleanly_or_accepted(fuzz_stack: LocalStack, data: st.DataObject) -> None:
    path = data.draw(paths(fuzz_stack.env["CALL_TOKEN_SECRET"]))
    auth = data.draw(st.sampled_from(["genuine", "none", "random"]))
    headers = data.draw(st.dictionaries(st.sampled_from(["x-ms-call-connection-id", "x-ms-call-correlation-id",
                                                         "Sec-WebSocket-Protocol", "Origin", "X-Junk"]),
                                        header_values, max_size=3))
    if auth == "genuine":
        headers.update(fuzz_stack.signer("wss://media"))
    elif auth == "random":
        headers["Authorization"] = "Bearer " + data.draw(header_values)
    status, body = handshake(fuzz_stack.env["MEDIA_HOST_WSS_URL"], path, headers)
    assert status < 500 or status == 503, (status, body[:200])
    if status in (401, 404, 503):  # our refusals carry JSON; websockets' own 400/426 for a broken upgrade do not
        assert json.loads(body)
    if auth != "genuine":
        assert status in (401, 404) or path in ("/healthz", "/readyz"), status
