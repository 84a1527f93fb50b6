"""Whether a ringing call is answered, rejected or redirected: a pure function of the call, the settings, the
time and the media host's capacity, decided before anything is answered.

Order: a blocked caller is refused whatever the capacity (`forbidden`); outside business hours a call goes to
the after-hours target, is answered with the after-hours message and hung up, or is rejected (`none`), as
`CALL_AFTER_HOURS_ACTION` says; then a call that cannot be streamed
is never answered: no room on the media host (or no answer from it in time), or `MAX_CONCURRENT_CALLS`
reached, sends it to the overflow target, or rejects it with `busy` when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.after_hours_settings import MESSAGE, REDIRECT
from shared.answer_policy_settings import AnswerPolicySettings
from shared.call_actions import Prompt
from shared.event_grid import IncomingCall

# ACS's callRejectReason values (CallRejectReason in the Call Automation REST spec).
FORBIDDEN = "forbidden"
BUSY = "busy"
NO_REASON = "none"
# Why a call was redirected or rejected, as recorded in its outcome and story.
REASON_BLOCKED = "blocked_caller"
REASON_AFTER_HOURS = "after_hours"
REASON_MEDIA_FULL = "media_host_full"
REASON_MEDIA_UNAVAILABLE = "media_host_unavailable"
REASON_MAX_CALLS = "max_concurrent_calls"


@dataclass(frozen=True)
class MediaCapacity:
    """The media host's /healthz answer; `None` in its place means it did not answer in time."""

    calls: int
    limit: int | None  # None: the host publishes no limit


@dataclass(frozen=True)
class Answer:
    pass


@dataclass(frozen=True)
class Reject:
    reject_reason: str  # callRejectReason: "busy" or "forbidden"
    reason: str  # why, for the outcome and the story


@dataclass(frozen=True)
class Redirect:
    target: str
    reason: str


@dataclass(frozen=True)
class PlayMessage:
    """Answer without streaming, play the message, hang up (shared/after_hours_flow.py runs it)."""

    prompt: Prompt
    reason: str


Decision = Answer | Reject | Redirect | PlayMessage


def _no_room_reason(settings: AnswerPolicySettings, capacity: MediaCapacity | None) -> str | None:
    if settings.media_host_health_url is None:
        return None  # not asked: nothing known, so the media host's own refusal is the only guard
    if capacity is None:
        return REASON_MEDIA_UNAVAILABLE
    if capacity.limit is not None and capacity.calls >= capacity.limit:
        return REASON_MEDIA_FULL
    if settings.max_concurrent_calls is not None and capacity.calls >= settings.max_concurrent_calls:
        return REASON_MAX_CALLS
    return None


def _caller_number(call: IncomingCall) -> str | None:
    if call.from_.phone_number is not None:
        return call.from_.phone_number
    # A phone number's raw id is "4:" + the E.164 number (CommunicationIdentifier's rawId format).
    raw = call.from_.raw_id
    return raw[2:] if raw.startswith("4:+") else None


def decide(call: IncomingCall, settings: AnswerPolicySettings, now: datetime,
           capacity: MediaCapacity | None) -> Decision:
    """The answer policy; `now` must be time-zone aware."""
    caller = _caller_number(call)
    if caller is not None and caller in settings.blocked_callers:
        return Reject(FORBIDDEN, REASON_BLOCKED)
    if settings.business_hours is not None and not settings.business_hours.is_open(now):
        after_hours = settings.after_hours
        if after_hours.action == REDIRECT and after_hours.target is not None:
            return Redirect(after_hours.target, REASON_AFTER_HOURS)
        if after_hours.action == MESSAGE and after_hours.message is not None:
            # Before the capacity check: nothing is streamed, so a full media host does not matter.
            return PlayMessage(after_hours.message, REASON_AFTER_HOURS)
        return Reject(NO_REASON, REASON_AFTER_HOURS)
    reason = _no_room_reason(settings, capacity)
    if reason is None:
        return Answer()
    if settings.overflow_target is not None:
        return Redirect(settings.overflow_target, reason)
    return Reject(BUSY, reason)


def no_room_reason(settings: AnswerPolicySettings, capacity: MediaCapacity | None) -> str | None:
    """Why a new call could not be streamed now, or None: the same rule decides before dialing an outbound call."""
    return _no_room_reason(settings, capacity)
