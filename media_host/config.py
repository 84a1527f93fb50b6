"""The media host's settings: the shared ones (port, call token secret, storage) plus its own.

Validated once at start-up; a bad value raises `SettingsError` naming the variable and an example.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.settings import MediaHostSettings, SettingsError, load_media_host_settings

VOICE_PROCESSORS = ("transcribe", "echo", "realtime")
DEFAULT_INSTRUCTIONS = "You are a helpful, concise phone assistant. Keep answers short."


@dataclass(frozen=True)
class RealtimeSettings:
    """Azure OpenAI Realtime / Voice Live. No api key means Entra ID (DefaultAzureCredential)."""

    endpoint: str
    deployment: str
    api_key: str | None
    voice: str
    instructions: str
    # Set: the preview protocol (/openai/realtime?api-version=..., flat session) or Voice Live's version.
    api_version: str | None
    # The input transcription model; on Azure, the name of a transcription deployment.
    transcription_model: str | None


@dataclass(frozen=True)
class MediaHostConfig:
    base: MediaHostSettings
    bind_host: str
    voice_processor: str
    realtime: RealtimeSettings | None
    callback_base_url: str | None
    max_connections: int
    max_message_bytes: int
    idle_timeout_seconds: float
    drain_seconds: float
    # > 0: report every this many seconds without caller speech to the function app (needs CALLBACK_BASE_URL).
    caller_silence_seconds: int = 0


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def _integer(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _optional(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SettingsError(f"{name} must be an integer from {low} to {high}; for example {name}={default}")
    return value


def _url(environ: Mapping[str, str], name: str, example: str, schemes: tuple[str, ...]) -> str | None:
    value = _optional(environ, name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"{name} must be a {' or '.join(schemes)} URL without query; for example {name}={example}")
    return value.rstrip("/")


def _realtime(environ: Mapping[str, str], required: bool) -> RealtimeSettings | None:
    endpoint = _url(environ, "REALTIME_ENDPOINT", "https://my-aoai.openai.azure.com", ("https", "wss", "http", "ws"))
    deployment = _optional(environ, "REALTIME_DEPLOYMENT")
    if endpoint is None or deployment is None:
        if required:
            missing = "REALTIME_ENDPOINT" if endpoint is None else "REALTIME_DEPLOYMENT"
            example = "https://my-aoai.openai.azure.com" if endpoint is None else "gpt-realtime"
            raise SettingsError(f"{missing} is required when a realtime processor is used; for example "
                                f"{missing}={example}")
        return None
    return RealtimeSettings(
        endpoint=endpoint,
        deployment=deployment,
        api_key=_optional(environ, "REALTIME_API_KEY"),
        voice=_optional(environ, "REALTIME_VOICE") or "alloy",
        instructions=_optional(environ, "REALTIME_INSTRUCTIONS") or DEFAULT_INSTRUCTIONS,
        api_version=_optional(environ, "REALTIME_API_VERSION"),
        transcription_model=_optional(environ, "REALTIME_TRANSCRIPTION_MODEL") or "whisper-1",
    )


def load_media_host_config(environ: Mapping[str, str]) -> MediaHostConfig:
    """Validate all media host settings. Raises `SettingsError` on the first bad one."""
    processor = _optional(environ, "VOICE_PROCESSOR") or "transcribe"
    if processor not in VOICE_PROCESSORS:
        raise SettingsError(f"VOICE_PROCESSOR must be one of {', '.join(VOICE_PROCESSORS)}; for example "
                            "VOICE_PROCESSOR=transcribe")
    return MediaHostConfig(
        base=load_media_host_settings(environ),
        bind_host=_optional(environ, "MEDIA_HOST_BIND") or "0.0.0.0",
        voice_processor=processor,
        realtime=_realtime(environ, required=processor == "realtime"),
        callback_base_url=_url(environ, "CALLBACK_BASE_URL", "https://my-func.azurewebsites.net", ("https", "http")),
        max_connections=_integer(environ, "MEDIA_MAX_CONNECTIONS", 1000, 1, 100_000),
        max_message_bytes=_integer(environ, "MEDIA_MAX_MESSAGE_BYTES", 64 * 1024, 4096, 16 * 1024 * 1024),
        idle_timeout_seconds=float(_integer(environ, "MEDIA_IDLE_TIMEOUT_SECONDS", 30, 1, 3600)),
        drain_seconds=float(_integer(environ, "MEDIA_DRAIN_SECONDS", 30, 0, 3600)),
        caller_silence_seconds=_integer(environ, "CALLER_SILENCE_SECONDS", 0, 0, 600),
    )
