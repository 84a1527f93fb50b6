"""Call actions (play, recognize DTMF, transfer, hang up, mute, transcription, recording): the model and its validation.

One `CallAction` describes one thing to do on a live call, whoever asked for it: the configured call flow,
the control API (`POST /api/calls/{id}/actions`) or the media host. It travels as a Durable event payload and
as the input of the activity that performs it, so `to_payload` / `action_from_payload` are its only wire form
and both ends validate it the same way. Pure: no I/O.

Validation is strict because the values reach ACS: transfer targets are E.164 numbers or ACS user ids,
spoken text is bounded and free of control characters, audio URLs are https without credentials.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.json_body import BadRequest, child_path, optional_int, optional_str, require_object, require_str
from shared.pii import mask_phone_numbers_in_text, mask_raw_id
from shared.transfer_context import Headers, parse_headers, parse_reason

PLAY = "play"
RECOGNIZE_DTMF = "recognize_dtmf"
TRANSFER = "transfer"
HANG_UP = "hang_up"
MUTE = "mute"
START_TRANSCRIPTION = "start_transcription"
STOP_TRANSCRIPTION = "stop_transcription"
START_RECORDING = "start_recording"
PAUSE_RECORDING = "pause_recording"
RESUME_RECORDING = "resume_recording"
STOP_RECORDING = "stop_recording"
HANDOFF = "handoff"  # consultative transfer: hold, add the agent, brief them, leave (shared/warm_transfer.py)
RECORDING_ACTIONS = frozenset({START_RECORDING, PAUSE_RECORDING, RESUME_RECORDING, STOP_RECORDING})
ACTION_KINDS = (PLAY, RECOGNIZE_DTMF, TRANSFER, HANDOFF, HANG_UP, MUTE, START_TRANSCRIPTION, STOP_TRANSCRIPTION,
                START_RECORDING, PAUSE_RECORDING, RESUME_RECORDING, STOP_RECORDING)
# The hand-off's own steps: planned by shared/warm_transfer.py only, never accepted from a request.
HOLD, UNHOLD, ADD_AGENT, BRIEF_AGENT, LEAVE = "hold", "unhold", "add_participant", "play_to_agent", "leave"
# Tidying after a hand-off that gave up: withdraw the agent's invitation, or remove an agent who answered late.
CANCEL_ADD, REMOVE_AGENT = "cancel_add_participant", "remove_participant"
HANDOFF_STEPS = frozenset({HOLD, UNHOLD, ADD_AGENT, BRIEF_AGENT, LEAVE, CANCEL_ADD, REMOVE_AGENT})
TARGETED_KINDS = frozenset({TRANSFER, HANDOFF, ADD_AGENT, BRIEF_AGENT, CANCEL_ADD, REMOVE_AGENT})
# The media host's voice processor may end or hand over the call, nothing else.
MEDIA_HOST_ACTIONS = frozenset({TRANSFER, HANG_UP})

SOURCES = ("flow", "api", "media")
# Azure TTS accepts longer text, but a prompt longer than this is not a prompt; it also bounds history size.
MAX_TEXT_CHARS = 400
MAX_URL_CHARS = 2048
MAX_TONES = 20
MAX_TIMEOUT_SECONDS = 60
DEFAULT_VOICE = "en-US-JennyNeural"
# The flow's transfer names no number in history: the activity reads it from the settings.
CONFIGURED_TARGET = "configured"
# A target given in a request is sealed at the edge (shared/sealed_value.py, purpose TRANSFER_TARGET): history
# holds this opaque form and its mask, and only the action activity opens it.
SEALED_TARGET = re.compile(r"v1\.[A-Za-z0-9_-]{40,1400}")
MAX_ADD_TIMEOUT_SECONDS = 180  # AddParticipantRequest.invitationTimeoutInSeconds: maximum 180 (REST spec)

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
ACS_USER_ID = re.compile(r"8:acs:[A-Za-z0-9_-]{1,256}")
# e.g. en-US-JennyNeural, en-US-Ava:DragonHDLatestNeural, zh-CN-sichuan-YunxiNeural
VOICE_NAME = re.compile(r"[a-z]{2,3}(?:-[A-Za-z]{2,8}){1,2}-[A-Za-z0-9:]{1,64}")
LOCALE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")
ACTION_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
INVITATION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # AddParticipantResponse.invitationId (a GUID in practice)
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Prompt:
    """What to say: TTS text with a voice, or an https audio file."""

    text: str | None = None
    url: str | None = None
    voice: str = DEFAULT_VOICE

    def to_payload(self) -> dict[str, object]:
        return {"text": self.text, "url": self.url, "voice": self.voice}


@dataclass(frozen=True)
class CallAction:
    action_id: str
    kind: str
    source: str  # "flow" | "api" | "media"
    purpose: str | None = None  # for flow actions: "greeting", "menu", "transfer", ...
    prompt: Prompt | None = None  # play, or the recognize prompt
    target: str | None = None  # transfer: E.164, ACS user id, or CONFIGURED_TARGET
    max_tones: int = 1  # recognize_dtmf
    timeout_seconds: int = 5  # recognize_dtmf: initial silence
    locale: str | None = None  # start_transcription
    reason: str | None = None  # transfer / handoff: why, for the agent (a context header) and the record
    headers: Headers = ()  # transfer / handoff: extra custom context headers (shared/transfer_context.py)
    target_mask: str | None = None  # the masked form of a sealed target, for the timeline
    invitation_id: str | None = None  # cancel_add_participant: the invitation ACS answered the add with

    def to_payload(self) -> dict[str, object]:
        return {
            "actionId": self.action_id,
            "action": self.kind,
            "source": self.source,
            "purpose": self.purpose,
            "prompt": None if self.prompt is None else self.prompt.to_payload(),
            "target": self.target,
            "maxTones": self.max_tones,
            "timeoutSeconds": self.timeout_seconds,
            "locale": self.locale,
            # A transfer's context, only when it has one: most actions' payloads stay as they were.
            **({"reason": self.reason} if self.reason is not None else {}),
            **({"headers": dict(self.headers)} if self.headers else {}),
            **({"targetMask": self.target_mask} if self.target_mask is not None else {}),
            **({"invitationId": self.invitation_id} if self.invitation_id is not None else {}),
        }

    def shown_target(self) -> str:
        """The target as the timeline, story and email show it: masked, never sealed or raw."""
        if self.target_mask is not None:
            return self.target_mask
        return mask_target(self.target or "")

    def describe(self) -> str:
        """One masked line for the timeline: what, why, which id."""
        why = self.purpose or self.source
        target = f" to {self.shown_target()}" if self.target else ""
        return f"{self.kind}{target} ({why}) {self.action_id[:8]}"


def mask_target(target: str) -> str:
    # mask_raw_id masks an E.164 number as it masks "4:+1..." raw ids, and shortens an ACS user id.
    if target == CONFIGURED_TARGET:
        return "configured target"
    return "sealed target" if SEALED_TARGET.fullmatch(target) else mask_raw_id(target)


# --- field validators: BadRequest naming the JSON path ---------------------------------------------------


def validate_text(value: str, path: str) -> str:
    text = value.strip()
    if not text:
        raise BadRequest("must not be empty", path=path)
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest(f"longer than {MAX_TEXT_CHARS} characters", path=path)
    if _CONTROL_CHARACTERS.search(text):
        raise BadRequest("must not contain control characters or line breaks", path=path)
    return text


def validate_https_url(value: str, path: str) -> str:
    if len(value) > MAX_URL_CHARS:
        raise BadRequest(f"longer than {MAX_URL_CHARS} characters", path=path)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise BadRequest("not a valid URL", path=path) from None
    if parts.scheme != "https" or not parts.hostname:
        raise BadRequest("must be an https URL", path=path)
    if parts.username is not None or parts.password is not None or port == 0:
        raise BadRequest("must not hold credentials or port 0", path=path)
    if _CONTROL_CHARACTERS.search(value) or " " in value:
        raise BadRequest("must not contain spaces or control characters", path=path)
    return value


def validate_target(value: str, path: str) -> str:
    if E164.fullmatch(value) is None and ACS_USER_ID.fullmatch(value) is None:
        raise BadRequest("must be an E.164 number such as +14255550123 or an ACS user id (8:acs:...)", path=path)
    return value


def validate_voice(value: str, path: str) -> str:
    if VOICE_NAME.fullmatch(value) is None:
        raise BadRequest("must be an Azure neural voice name such as en-US-JennyNeural", path=path)
    return value


def _bounded_int(body: dict[str, object], key: str, default: int, low: int, high: int) -> int:
    value = optional_int(body, key, "")
    if value is None:
        return default
    if not low <= value <= high:
        raise BadRequest(f"must be from {low} to {high}", path=key)
    return value


def _prompt(body: dict[str, object], *, required: bool) -> Prompt | None:
    text, url = optional_str(body, "text", ""), optional_str(body, "url", "")
    if text is not None and url is not None:
        raise BadRequest("give either text or url, not both", path="url")
    if text is None and url is None:
        if required:
            raise BadRequest("give the text to speak or an https audio url", path="text")
        return None
    voice = optional_str(body, "voice", "")
    return Prompt(
        text=None if text is None else validate_text(text, "text"),
        url=None if url is None else validate_https_url(url, "url"),
        voice=DEFAULT_VOICE if voice is None else validate_voice(voice, "voice"),
    )


_KNOWN_FIELDS = frozenset({"action", "text", "url", "voice", "target", "maxTones", "timeoutSeconds", "locale",
                           "reason", "headers"})
_CONTEXT_FIELDS = ("reason", "headers")


def parse_action_request(body: object, action_id: str, source: str,
                         allowed: frozenset[str] | None = None) -> CallAction:
    """Validate a control request (`{"action": "play", "text": "..."}`); BadRequest names the bad field."""
    request = require_object(body, "")
    kind = require_str(request, "action", "")
    if kind not in ACTION_KINDS or (allowed is not None and kind not in allowed):
        choices = sorted(allowed) if allowed is not None else ACTION_KINDS
        raise BadRequest(f"unknown action; one of {', '.join(choices)}", path="action")
    unknown = sorted(key for key in request if key not in _KNOWN_FIELDS)
    if unknown:
        raise BadRequest("unknown field", path=child_path("", unknown[0][:64]))
    if kind not in (TRANSFER, HANDOFF) and any(key in request for key in _CONTEXT_FIELDS):
        raise BadRequest("only a transfer or handoff carries context", path="reason" if "reason" in request
                         else "headers")
    if kind == PLAY:
        return CallAction(action_id, kind, source, prompt=_prompt(request, required=True))
    if kind == RECOGNIZE_DTMF:
        return CallAction(action_id, kind, source, prompt=_prompt(request, required=False),
                          max_tones=_bounded_int(request, "maxTones", 1, 1, MAX_TONES),
                          timeout_seconds=_bounded_int(request, "timeoutSeconds", 5, 1, MAX_TIMEOUT_SECONDS))
    if kind in (TRANSFER, HANDOFF):
        # Without a target: the configured agent line (CALL_TRANSFER_TARGET), so that a voice agent never
        # needs, or can be talked into, a number of its own.
        target = optional_str(request, "target", "")
        return CallAction(action_id, kind, source,
                          target=CONFIGURED_TARGET if target is None else validate_target(target, "target"),
                          reason=None if request.get("reason") is None else parse_reason(request["reason"]),
                          headers=() if request.get("headers") is None else parse_headers(request["headers"]))
    if kind == START_TRANSCRIPTION:
        locale = optional_str(request, "locale", "")
        if locale is not None and LOCALE.fullmatch(locale) is None:
            raise BadRequest("must be a locale such as en-US", path="locale")
        return CallAction(action_id, kind, source, locale=locale)
    return CallAction(action_id, kind, source)


def action_from_payload(payload: Mapping[str, object]) -> CallAction | None:
    """Read back `CallAction.to_payload()` (an event or activity input); None when it is not a valid action.

    Events may be raised by anyone holding a key or call token, so the orchestration re-validates rather than
    trusting the HTTP layer alone.
    """
    action_id, kind, source = payload.get("actionId"), payload.get("action"), payload.get("source")
    if not isinstance(action_id, str) or ACTION_ID.fullmatch(action_id) is None or source not in SOURCES:
        return None
    purpose = payload.get("purpose")
    raw_prompt = payload.get("prompt")
    request: dict[str, object] = {"action": kind}
    if isinstance(raw_prompt, Mapping):
        request.update({key: raw_prompt[key] for key in ("text", "url", "voice") if raw_prompt.get(key) is not None})
    target, mask = payload.get("target"), payload.get("targetMask")
    sealed = isinstance(target, str) and SEALED_TARGET.fullmatch(target) is not None
    if target is not None and target != CONFIGURED_TARGET and not sealed:
        request["target"] = target
    # Fields of other kinds are passed on too: the parser reads only the ones of the action's kind.
    for key in ("maxTones", "timeoutSeconds", "locale", "reason", "headers"):
        if payload.get(key) is not None:
            request[key] = payload[key]
    step = isinstance(kind, str) and kind in HANDOFF_STEPS
    if step:
        request["action"] = HANDOFF  # parsed as a hand-off for its target and context, then given its own kind
    try:
        action = parse_action_request(request, action_id, str(source))
        step_prompt = _prompt(request, required=False) if step else None
    except BadRequest:
        return None
    changes: dict[str, object] = {"purpose": purpose[:40] if isinstance(purpose, str) else None}
    if step:
        changes.update(kind=kind, target=action.target if target is not None else None, prompt=step_prompt,
                       timeout_seconds=_step_timeout(payload.get("timeoutSeconds")))
        invitation = payload.get("invitationId")
        if kind == CANCEL_ADD:
            if not isinstance(invitation, str) or INVITATION_ID.fullmatch(invitation) is None:
                return None
            changes["invitation_id"] = invitation
    if sealed:
        if not isinstance(mask, str) or kind not in TARGETED_KINDS:
            return None
        changes.update(target=target, target_mask=mask_phone_numbers_in_text(mask)[:64])
    return CallAction(**{**action.__dict__, **changes})


def _step_timeout(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ADD_TIMEOUT_SECONDS:
        return value
    return 5
