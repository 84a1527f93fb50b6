"""The context a transfer or hand-off carries to the agent: custom calling context headers. Pure.

ACS passes "custom calling context" with a transfer or an added participant (REST spec CallAutomation stable
2026-03-12, `TransferToParticipantRequest.customCallingContext` / `AddParticipantRequest.customCallingContext`:
`CustomCallingContext {sipHeaders: {string: string}, voipHeaders: {string: string}}`; SDK
`transfer_call_to_participant(..., sip_headers=, voip_headers=)`). A PSTN target gets SIP headers, an ACS user
VoIP headers.

Limits, as documented (MicrosoftDocs/azure-docs, how-tos/calling-sdk/includes/call-context/call-context-web.md
"Technical parameters"; the Calling SDK's `CustomContext.sipHeaders`: "should start with the X-MS-Custom-
prefix, only the first 5 valid headers are parsed"):
- at most 5 SIP headers, each key at most 64 characters including the `X-MS-Custom-` prefix, made of letters,
  digits and `. ! % * _ + ~ -`; each value at most 256 characters of letters, digits and `= ; . ! % * _ + ~ -`;
- VoIP header keys at most 64 characters, values at most 1024.
Strict here: a SIP value is percent-encoded (so a URL or free text uses only the allowed characters) and
then must fit; a key or value that would not is refused, never cut.

Headers sent: `X-MS-Custom-Call-Id` (the call's instance id), `X-MS-Custom-Reason` (why, as the request
gave it, phone numbers masked), `X-MS-Custom-Story` (the call's story page; the agent desktop opens it
with its own function key: the key never travels in a header), plus up to 2 given by the caller of the
control API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from shared.json_body import BadRequest
from shared.pii import mask_phone_numbers_in_text

SIP_PREFIX = "X-MS-Custom-"
MAX_SIP_HEADERS = 5
MAX_KEY_CHARS = 64
MAX_SIP_VALUE_CHARS = 256
MAX_VOIP_VALUE_CHARS = 1024
MAX_REASON_CHARS = 120
MAX_EXTRA_HEADERS = 2  # 5 SIP headers in all, 3 of them ours
CALL_ID_HEADER = SIP_PREFIX + "Call-Id"
REASON_HEADER = SIP_PREFIX + "Reason"
STORY_HEADER = SIP_PREFIX + "Story"
OWN_HEADERS = frozenset({CALL_ID_HEADER.lower(), REASON_HEADER.lower(), STORY_HEADER.lower()})
SIP_KEY = re.compile(r"[A-Za-z0-9.!%*_+~-]{1,64}")
SIP_VALUE = re.compile(r"[A-Za-z0-9=;.!%*_+~-]*")
_LINE_BREAKS = re.compile("[\r\n\u2028\u2029\x85]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

Headers = tuple[tuple[str, str], ...]


def _checked_text(value: object, path: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadRequest("must be a string", path=path)
    if _LINE_BREAKS.search(value):
        raise BadRequest("must not contain line breaks", path=path)
    if _CONTROL.search(value):
        raise BadRequest("must not contain control characters", path=path)
    text = value.strip()
    if not text:
        raise BadRequest("must not be empty", path=path)
    if len(text) > limit:
        raise BadRequest(f"longer than {limit} characters", path=path)
    # A header value is read by people and systems outside this app: no phone number in clear there either.
    return mask_phone_numbers_in_text(text)


def sip_value(text: str) -> str:
    """Percent-encoded: only characters a SIP custom header value may hold."""
    return quote(text, safe="")


def parse_reason(value: object) -> str:
    reason = _checked_text(value, "reason", MAX_REASON_CHARS)
    if len(sip_value(reason)) > MAX_SIP_VALUE_CHARS:
        raise BadRequest(f"too long for a SIP header once encoded ({MAX_SIP_VALUE_CHARS} characters)", path="reason")
    return reason


def parse_headers(value: object) -> Headers:
    """`{"X-MS-Custom-Ticket": "4711"}` (the prefix may be left out): up to 2 extra headers."""
    if not isinstance(value, Mapping):
        raise BadRequest("must be an object of header names to values", path="headers")
    if len(value) > MAX_EXTRA_HEADERS:
        raise BadRequest(f"at most {MAX_EXTRA_HEADERS} headers (ACS passes 5 SIP headers, 3 are the call's own)",
                         path="headers")
    headers: list[tuple[str, str]] = []
    for raw_name, raw_value in value.items():
        name = str(raw_name)
        full = name if name.lower().startswith(SIP_PREFIX.lower()) else SIP_PREFIX + name
        path = f"headers.{name[:64]}"
        if len(full) > MAX_KEY_CHARS or SIP_KEY.fullmatch(full) is None:
            raise BadRequest(f"header names are at most {MAX_KEY_CHARS} characters with the {SIP_PREFIX} prefix, "
                             "letters, digits and . ! % * _ + ~ -", path=path)
        if full.lower() in OWN_HEADERS or any(full.lower() == seen.lower() for seen, _ in headers):
            raise BadRequest("header already set", path=path)
        text = _checked_text(raw_value, path, MAX_SIP_VALUE_CHARS)
        if len(sip_value(text)) > MAX_SIP_VALUE_CHARS:
            raise BadRequest(f"too long for a SIP header once encoded ({MAX_SIP_VALUE_CHARS} characters)", path=path)
        headers.append((full, text))
    return tuple(headers)


def story_url(base_url: str, instance_id: str) -> str:
    """The call's story page (calls/call_story_http.py: function-key auth, the key added by the reader)."""
    return f"{base_url.rstrip('/')}/api/calls/{quote(instance_id, safe='')}/view"


def calling_context(instance_id: str, reason: str | None, story: str | None, extra: Headers, *, pstn: bool
                    ) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """(sip_headers, voip_headers) for the SDK: SIP for a phone number, VoIP for an ACS user.

    Raises ValueError when a header would break ACS's limits (the control API checks the caller's parts first;
    this is the last check, over the values only the activity knows, such as the story URL).
    """
    pairs = [(CALL_ID_HEADER, instance_id)]
    if reason:
        pairs.append((REASON_HEADER, reason))
    limit = MAX_SIP_VALUE_CHARS if pstn else MAX_VOIP_VALUE_CHARS
    if story and len(sip_value(story) if pstn else story) <= limit:
        # A link that does not fit (a very long app URL) is left out rather than costing the transfer.
        pairs.append((STORY_HEADER, story))
    pairs += list(extra)
    if len(pairs) > MAX_SIP_HEADERS:
        raise ValueError(f"more than {MAX_SIP_HEADERS} context headers")
    for key, value in pairs:
        if len(key) > MAX_KEY_CHARS or SIP_KEY.fullmatch(key) is None:
            raise ValueError("context header name not allowed")
        if _LINE_BREAKS.search(value) or _CONTROL.search(value):
            raise ValueError("context header value holds a control character")
    if not pstn:
        if any(len(value) > MAX_VOIP_VALUE_CHARS for _, value in pairs):
            raise ValueError(f"context header value longer than {MAX_VOIP_VALUE_CHARS} characters")
        return None, dict(pairs)
    encoded = {key: sip_value(value) for key, value in pairs}
    if any(len(value) > MAX_SIP_VALUE_CHARS or SIP_VALUE.fullmatch(value) is None for value in encoded.values()):
        raise ValueError(f"context header value longer than {MAX_SIP_VALUE_CHARS} characters once encoded")
    return encoded, None
