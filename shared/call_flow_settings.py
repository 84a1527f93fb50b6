"""The configurable call flow (greeting, DTMF menu, transfer, silence handling), read from the environment.

Every setting is optional: with none set, the flow is the default one (answer, stream, summarise). A
malformed value raises `SettingsError` naming the variable and an example, like shared/settings.py.

The orchestration receives these settings through an activity (their JSON form, `to_dict`), so a call keeps
the flow it started with even if the settings change while it runs: replay stays deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.call_actions import (
    DEFAULT_VOICE,
    E164,
    MAX_ADD_TIMEOUT_SECONDS,
    Prompt,
    validate_https_url,
    validate_target,
    validate_text,
    validate_voice,
)
from shared.json_body import BadRequest
from shared.recording_settings import load_recording_settings
from shared.settings import EnvReader, SettingsError

MENU_CHOICES = ("transfer", "handoff", "hang_up", "continue")
DTMF_DIGITS = "0123456789*#"
DEFAULT_TRANSFER_FALLBACK = "Sorry, nobody can take your call right now. Please leave a message after this."
DEFAULT_SILENCE_PROMPT = "Are you still there?"
DEFAULT_GOODBYE = "Thank you for calling. Goodbye."
DEFAULT_MENU_INVALID = "Sorry, that is not an option."
DEFAULT_HOLD_TEXT = "Please hold while I connect you to a colleague."


@dataclass(frozen=True)
class CallFlowSettings:
    greeting: Prompt | None = None
    menu_prompt: Prompt | None = None
    menu_options: Mapping[str, str] = field(default_factory=dict)  # digit -> "transfer" | "hang_up" | "continue"
    menu_timeout_seconds: int = 5
    menu_max_reprompts: int = 2
    transfer_target: str | None = None
    transfer_fallback: Prompt = field(default_factory=lambda: Prompt(text=DEFAULT_TRANSFER_FALLBACK))
    # 0: silence reports are recorded only. Otherwise the media host reports every this many seconds of
    # caller silence, and the flow re-prompts `silence_max_prompts` times, then says goodbye and hangs up.
    silence_seconds: int = 0
    silence_prompt: Prompt = field(default_factory=lambda: Prompt(text=DEFAULT_SILENCE_PROMPT))
    silence_max_prompts: int = 1
    goodbye: Prompt = field(default_factory=lambda: Prompt(text=DEFAULT_GOODBYE))
    # CALL_RECORDING_START=connect: the flow starts the recording on connect, after the consent notice if any.
    record_at_connect: bool = False
    recording_consent: Prompt | None = None
    # The consultative hand-off (shared/warm_transfer.py): what the caller hears on hold, and how long the
    # agent's phone rings (AddParticipantRequest.invitationTimeoutInSeconds, at most 180).
    hold_music: Prompt = field(default_factory=lambda: Prompt(text=DEFAULT_HOLD_TEXT))
    handoff_answer_seconds: int = 30
    # The ACS number an agent added by phone sees as the caller (AddParticipantRequest.sourceCallerIdNumber);
    # like the target, it stays with the activity and never travels through the orchestration.
    handoff_caller_id: str | None = None

    @property
    def is_default(self) -> bool:
        return (self.greeting is None and self.menu_prompt is None and self.silence_seconds == 0
                and not self.record_at_connect)

    def to_dict(self) -> dict[str, object]:
        def prompt(value: Prompt | None) -> dict[str, object] | None:
            return None if value is None else value.to_payload()

        return {
            "greeting": prompt(self.greeting),
            "menuPrompt": prompt(self.menu_prompt),
            "menuOptions": dict(self.menu_options),
            "menuTimeoutSeconds": self.menu_timeout_seconds,
            "menuMaxReprompts": self.menu_max_reprompts,
            "hasTransferTarget": self.transfer_target is not None,
            "transferFallback": prompt(self.transfer_fallback),
            "silenceSeconds": self.silence_seconds,
            "silencePrompt": prompt(self.silence_prompt),
            "silenceMaxPrompts": self.silence_max_prompts,
            "goodbye": prompt(self.goodbye),
            "recordAtConnect": self.record_at_connect,
            "recordingConsent": prompt(self.recording_consent),
            "holdMusic": prompt(self.hold_music),
            "handoffAnswerSeconds": self.handoff_answer_seconds,
        }


def _prompt_from(value: object, default: Prompt | None) -> Prompt | None:
    if not isinstance(value, Mapping):
        return default
    text, url, voice = value.get("text"), value.get("url"), value.get("voice")
    if not isinstance(text, str) and not isinstance(url, str):
        return default
    try:
        return Prompt(text=None if not isinstance(text, str) else validate_text(text, "text"),
                      url=None if not isinstance(url, str) else validate_https_url(url, "url"),
                      voice=validate_voice(voice, "voice") if isinstance(voice, str) else DEFAULT_VOICE)
    except BadRequest:
        return default


def _int(value: object, default: int, low: int, high: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high else default


def flow_from_dict(data: Mapping[str, object]) -> CallFlowSettings:
    """Read back `to_dict()` as the orchestration got it from the activity; anything malformed falls back to
    the default for that part (the target itself never travels: `hasTransferTarget` says whether there is one)."""
    defaults = CallFlowSettings()
    raw_options = data.get("menuOptions")
    options = {digit: choice for digit, choice in (raw_options.items() if isinstance(raw_options, Mapping) else ())
               if isinstance(digit, str) and digit in DTMF_DIGITS and len(digit) == 1 and choice in MENU_CHOICES}
    return CallFlowSettings(
        greeting=_prompt_from(data.get("greeting"), None),
        menu_prompt=_prompt_from(data.get("menuPrompt"), None),
        menu_options=options,
        menu_timeout_seconds=_int(data.get("menuTimeoutSeconds"), defaults.menu_timeout_seconds, 1, 60),
        menu_max_reprompts=_int(data.get("menuMaxReprompts"), defaults.menu_max_reprompts, 0, 5),
        transfer_target="configured" if data.get("hasTransferTarget") is True else None,
        transfer_fallback=_prompt_from(data.get("transferFallback"), defaults.transfer_fallback)
        or defaults.transfer_fallback,
        silence_seconds=_int(data.get("silenceSeconds"), 0, 0, 600),
        silence_prompt=_prompt_from(data.get("silencePrompt"), defaults.silence_prompt) or defaults.silence_prompt,
        silence_max_prompts=_int(data.get("silenceMaxPrompts"), defaults.silence_max_prompts, 0, 5),
        goodbye=_prompt_from(data.get("goodbye"), defaults.goodbye) or defaults.goodbye,
        record_at_connect=data.get("recordAtConnect") is True,
        recording_consent=_prompt_from(data.get("recordingConsent"), None),
        hold_music=_prompt_from(data.get("holdMusic"), defaults.hold_music) or defaults.hold_music,
        handoff_answer_seconds=_int(data.get("handoffAnswerSeconds"), defaults.handoff_answer_seconds, 5,
                                    MAX_ADD_TIMEOUT_SECONDS),
    )


# --- loading from the environment --------------------------------------------------------------------


class _Env(EnvReader):
    """The shared reader, plus prompts (a text or an https audio URL) read from a pair of variables."""

    def get(self, name: str) -> str | None:
        return self.optional(name)

    def prompt(self, text_name: str, url_name: str | None, voice: str, default_text: str | None) -> Prompt | None:
        text = self.checked(text_name, "Welcome to Contoso.", validate_text)
        url = self.checked(url_name, "https://contoso.blob.core.windows.net/audio/hello.wav",
                           validate_https_url) if url_name else None
        if text is not None and url is not None:
            raise SettingsError(f"set {text_name} or {url_name}, not both")
        if text is None and url is None:
            return None if default_text is None else Prompt(text=default_text, voice=voice)
        return Prompt(text=text, url=url, voice=voice)


def _menu_options(env: _Env) -> dict[str, str]:
    raw = env.get("CALL_MENU_OPTIONS")
    example = "CALL_MENU_OPTIONS=0:transfer,9:hang_up"
    if raw is None:
        return {}
    options: dict[str, str] = {}
    for part in raw.split(","):
        digit, _, choice = part.strip().partition(":")
        if len(digit) != 1 or digit not in DTMF_DIGITS or choice not in MENU_CHOICES or digit in options:
            raise SettingsError(f"CALL_MENU_OPTIONS must map distinct keys 0-9 * # to one of "
                                f"{', '.join(MENU_CHOICES)}; for example {example}")
        options[digit] = choice
    return options


def load_cognitive_services_endpoint(environ: Mapping[str, str]) -> str | None:
    """ACS_COGNITIVE_SERVICES_ENDPOINT: the Azure AI services resource ACS speaks text prompts with (TTS).
    Given to `answer_call`; without it ACS can play only audio files."""
    return _Env(environ).checked("ACS_COGNITIVE_SERVICES_ENDPOINT", "https://my-ai.cognitiveservices.azure.com/",
                                 validate_https_url)


def load_call_flow_settings(environ: Mapping[str, str]) -> CallFlowSettings:
    """Validate the call-flow settings. Raises `SettingsError` on the first bad one."""
    env = _Env(environ)
    load_cognitive_services_endpoint(environ)  # validated at start-up with the rest; read at answer time
    voice = env.checked("CALL_TTS_VOICE", DEFAULT_VOICE, validate_voice) or DEFAULT_VOICE
    menu_prompt = env.prompt("CALL_MENU_PROMPT_TEXT", "CALL_MENU_PROMPT_AUDIO_URL", voice, None)
    options = _menu_options(env)
    if menu_prompt is None and options:
        raise SettingsError("CALL_MENU_OPTIONS needs a menu prompt; for example "
                            "CALL_MENU_PROMPT_TEXT=Press 0 to speak to an agent.")
    if menu_prompt is not None and not options:
        raise SettingsError("CALL_MENU_PROMPT_TEXT needs CALL_MENU_OPTIONS; for example CALL_MENU_OPTIONS=0:transfer")
    target = env.checked("CALL_TRANSFER_TARGET", "+14255550123", validate_target)
    record_at_connect, consent = _recording_start(environ, env, voice)
    if {"transfer", "handoff"} & set(options.values()) and target is None:
        raise SettingsError("CALL_MENU_OPTIONS offers a transfer but CALL_TRANSFER_TARGET is not set; for example "
                            "CALL_TRANSFER_TARGET=+14255550123")
    return CallFlowSettings(
        greeting=env.prompt("CALL_GREETING_TEXT", "CALL_GREETING_AUDIO_URL", voice, None),
        menu_prompt=menu_prompt,
        menu_options=options,
        menu_timeout_seconds=env.integer("CALL_MENU_TIMEOUT_SECONDS", 5, 1, 60),
        menu_max_reprompts=env.integer("CALL_MENU_MAX_REPROMPTS", 2, 0, 5),
        transfer_target=target,
        transfer_fallback=env.prompt("CALL_TRANSFER_FALLBACK_TEXT", None, voice, DEFAULT_TRANSFER_FALLBACK)
        or Prompt(text=DEFAULT_TRANSFER_FALLBACK),
        silence_seconds=env.integer("CALLER_SILENCE_SECONDS", 0, 0, 600),
        silence_prompt=env.prompt("CALL_SILENCE_PROMPT_TEXT", None, voice, DEFAULT_SILENCE_PROMPT)
        or Prompt(text=DEFAULT_SILENCE_PROMPT),
        silence_max_prompts=env.integer("CALL_SILENCE_MAX_PROMPTS", 1, 0, 5),
        goodbye=env.prompt("CALL_GOODBYE_TEXT", None, voice, DEFAULT_GOODBYE) or Prompt(text=DEFAULT_GOODBYE),
        record_at_connect=record_at_connect,
        recording_consent=consent,
        hold_music=env.prompt("CALL_HOLD_TEXT", "CALL_HOLD_AUDIO_URL", voice, DEFAULT_HOLD_TEXT)
        or Prompt(text=DEFAULT_HOLD_TEXT),
        handoff_answer_seconds=env.integer("CALL_HANDOFF_ANSWER_SECONDS", 30, 5, MAX_ADD_TIMEOUT_SECONDS),
        handoff_caller_id=env.checked("CALL_HANDOFF_CALLER_ID", "+14255550100", _phone_number),
    )


def _phone_number(value: str, path: str) -> str:
    if E164.fullmatch(value) is None:
        raise BadRequest("must be an E.164 number such as +14255550100", path=path)
    return value


def _recording_start(environ: Mapping[str, str], env: _Env, voice: str) -> tuple[bool, Prompt | None]:
    """CALL_RECORDING_START (`api` or `connect`) and the consent notice played before a recording at connect."""
    start = env.get("CALL_RECORDING_START") or "api"
    if start not in ("api", "connect"):
        raise SettingsError("CALL_RECORDING_START must be api or connect; for example CALL_RECORDING_START=connect")
    if start == "connect" and not load_recording_settings(environ).enabled:
        raise SettingsError("CALL_RECORDING_START=connect needs CALL_RECORDING; for example CALL_RECORDING=audio")
    consent = env.prompt("CALL_RECORDING_CONSENT_TEXT", "CALL_RECORDING_CONSENT_AUDIO_URL", voice, None)
    if consent is not None and start != "connect":
        raise SettingsError("the consent notice is played before a recording started at connect; set "
                            "CALL_RECORDING_START=connect")
    return start == "connect", consent
