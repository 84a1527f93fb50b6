"""What happens to a call outside business hours (pure, validated): `CALL_AFTER_HOURS_ACTION`.

- `reject`: rejected (callRejectReason `none`); the default without `CALL_AFTER_HOURS_TARGET`;
- `redirect`: redirected, unanswered, to `CALL_AFTER_HOURS_TARGET`; the default when that is set;
- `message`: answered, the after-hours message played (`CALL_AFTER_HOURS_TEXT`, spoken with `CALL_TTS_VOICE`,
  or the https audio file `CALL_AFTER_HOURS_AUDIO_URL`), then hung up. Nothing is streamed: such a call
  takes no room on the media host.

Any other action stops the app at start-up, naming the variable and the actions there are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.call_actions import DEFAULT_VOICE, Prompt, validate_https_url, validate_text, validate_voice
from shared.settings import EnvReader, SettingsError

AFTER_HOURS_ACTION = "CALL_AFTER_HOURS_ACTION"
AFTER_HOURS_TARGET = "CALL_AFTER_HOURS_TARGET"
AFTER_HOURS_TEXT = "CALL_AFTER_HOURS_TEXT"
AFTER_HOURS_AUDIO_URL = "CALL_AFTER_HOURS_AUDIO_URL"
TTS_VOICE = "CALL_TTS_VOICE"
REJECT, REDIRECT, MESSAGE = "reject", "redirect", "message"
ACTIONS = (REJECT, REDIRECT, MESSAGE)
# Every variable of this part: set without CALL_BUSINESS_HOURS they could never apply.
NAMES = (AFTER_HOURS_ACTION, AFTER_HOURS_TARGET, AFTER_HOURS_TEXT, AFTER_HOURS_AUDIO_URL)


@dataclass(frozen=True)
class AfterHours:
    action: str = REJECT
    target: str | None = None  # redirect
    message: Prompt | None = None  # message


def _message(read: EnvReader) -> Prompt | None:
    text = read.checked(AFTER_HOURS_TEXT, "We are closed. Please call again on Monday.", validate_text)
    url = read.checked(AFTER_HOURS_AUDIO_URL, "https://contoso.blob.core.windows.net/audio/closed.wav",
                       validate_https_url)
    if text is not None and url is not None:
        raise SettingsError(f"set {AFTER_HOURS_TEXT} or {AFTER_HOURS_AUDIO_URL}, not both")
    if text is None and url is None:
        return None
    voice = read.checked(TTS_VOICE, DEFAULT_VOICE, validate_voice) or DEFAULT_VOICE
    return Prompt(text=text, url=url, voice=voice)


def load_after_hours(environ: Mapping[str, str], target: str | None) -> AfterHours:
    """`target`: CALL_AFTER_HOURS_TARGET, already validated by the answer policy's reader."""
    read = EnvReader(environ)
    raw = read.optional(AFTER_HOURS_ACTION)
    action = raw.lower() if raw is not None else (REDIRECT if target is not None else REJECT)
    if action not in ACTIONS:
        # The value is not echoed whole: a typo'd setting is named, with the actions there are.
        raise SettingsError(f"{AFTER_HOURS_ACTION} names an unknown action; it must be one of "
                            f"{', '.join(ACTIONS)}; for example {AFTER_HOURS_ACTION}={MESSAGE}")
    message = _message(read)
    if action == REDIRECT and target is None:
        raise SettingsError(f"{AFTER_HOURS_ACTION}={REDIRECT} needs {AFTER_HOURS_TARGET}; for example "
                            f"{AFTER_HOURS_TARGET}=+14255550123")
    if action == MESSAGE and message is None:
        raise SettingsError(f"{AFTER_HOURS_ACTION}={MESSAGE} needs {AFTER_HOURS_TEXT} or {AFTER_HOURS_AUDIO_URL}; "
                            f"for example {AFTER_HOURS_TEXT}=We are closed. Please call again on Monday.")
    if action != MESSAGE and message is not None:
        raise SettingsError(f"{AFTER_HOURS_TEXT} and {AFTER_HOURS_AUDIO_URL} need "
                            f"{AFTER_HOURS_ACTION}={MESSAGE}")
    if action != REDIRECT and target is not None and raw is not None:
        raise SettingsError(f"{AFTER_HOURS_TARGET} needs {AFTER_HOURS_ACTION}={REDIRECT} (or unset)")
    return AfterHours(action=action, target=target if action == REDIRECT else None, message=message)
