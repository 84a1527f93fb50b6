"""The media host's settings: the shared ones (port, call token secret, storage) plus its own.

Validated once at start-up; a bad value raises `SettingsError` naming the variable and an example.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.security_settings import JwtSource, load_acs_jwt_source
from shared.settings import EnvReader, MediaHostSettings, SettingsError, load_media_host_settings
from shared.telemetry_settings import TelemetrySettings, load_telemetry_settings
from shared.voice_realtime_protocol import RealtimeEndpointError, RealtimeService, is_azure_voice, service_for

VOICE_PROCESSORS = ("transcribe", "echo", "realtime")
DEFAULT_INSTRUCTIONS = "You are a helpful, concise phone assistant. Keep answers short."


@dataclass(frozen=True)
class RealtimeSettings:
    """Azure OpenAI Realtime (GA or preview) or Voice Live, as the endpoint says (`service_for`).
    No api key means Entra ID (DefaultAzureCredential)."""

    endpoint: str
    deployment: str
    api_key: str | None
    voice: str
    instructions: str
    # Required by preview and Voice Live, refused with the GA endpoint.
    api_version: str | None
    # Caller transcription. Azure OpenAI: the name of a transcription *deployment* (none by default: no
    # such deployment exists unless created); Voice Live: a model name (`azure-speech`, `whisper-1`, ...).
    transcription_model: str | None
    service: RealtimeService = "ga"


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
    # A reply expected and nobody speaking for this long counts as dead air (media.json `turns`, voice.dead_air).
    dead_air_seconds: float = 3.0
    # ACS's JWT on the socket handshake; None when ACS_RESOURCE_ID is unset (local runs only).
    acs_jwt: JwtSource | None = None
    telemetry: TelemetrySettings = TelemetrySettings(None, None)
    use_uvloop: bool = True
    # Calls (instance ids) at once: each may hold its media and its transcription socket, so twice this fits
    # in max_connections. /healthz publishes it as `limit`, in the unit the answer policy counts.
    max_calls: int = 500


def _realtime(read: EnvReader, required: bool) -> RealtimeSettings | None:
    endpoint = read.optional_url("REALTIME_ENDPOINT", "https://my-aoai.openai.azure.com",
                                 ("https", "wss", "http", "ws"))
    deployment = read.optional("REALTIME_DEPLOYMENT")
    if endpoint is None or deployment is None:
        if required:
            missing = "REALTIME_ENDPOINT" if endpoint is None else "REALTIME_DEPLOYMENT"
            example = "https://my-aoai.openai.azure.com" if endpoint is None else "gpt-realtime"
            raise SettingsError(f"{missing} is required when a realtime processor is used; for example "
                                f"{missing}={example}")
        return None
    api_version = read.optional("REALTIME_API_VERSION")
    try:
        service = service_for(endpoint, api_version)
    except RealtimeEndpointError as error:
        raise SettingsError(str(error)) from None
    voice_live = service == "voice_live"
    voice = read.optional("REALTIME_VOICE") or ("en-US-AvaNeural" if voice_live else "alloy")
    if is_azure_voice(voice) and not voice_live:
        raise SettingsError(f"REALTIME_VOICE={voice} is an Azure voice, which only Voice Live speaks; for Azure "
                            "OpenAI use an OpenAI voice, for example REALTIME_VOICE=alloy")
    return RealtimeSettings(
        endpoint=endpoint,
        deployment=deployment,
        api_key=read.optional("REALTIME_API_KEY"),
        voice=voice,
        instructions=read.optional("REALTIME_INSTRUCTIONS") or DEFAULT_INSTRUCTIONS,
        api_version=api_version,
        transcription_model=read.optional("REALTIME_TRANSCRIPTION_MODEL") or ("azure-speech" if voice_live else None),
        service=service,
    )


def _max_calls(read: EnvReader, max_connections: int) -> int:
    """MEDIA_MAX_CALLS, at most half of MEDIA_MAX_CONNECTIONS: a call streams on up to two sockets (media and
    transcription, shared/media_route.py), and a call the host admits must never find its second socket refused."""
    fits = max(1, max_connections // 2)
    calls = read.integer("MEDIA_MAX_CALLS", fits, 1, 100_000)
    if calls > fits:
        raise SettingsError(f"MEDIA_MAX_CALLS={calls} does not fit MEDIA_MAX_CONNECTIONS={max_connections}: each "
                            f"call may use two sockets; for example MEDIA_MAX_CALLS={fits}")
    return calls


def load_media_host_config(environ: Mapping[str, str]) -> MediaHostConfig:
    """Validate all media host settings. Raises `SettingsError` on the first bad one."""
    read = EnvReader(environ)
    processor = read.optional("VOICE_PROCESSOR") or "transcribe"
    max_connections = read.integer("MEDIA_MAX_CONNECTIONS", 1000, 1, 100_000)
    if processor not in VOICE_PROCESSORS:
        raise SettingsError(f"VOICE_PROCESSOR must be one of {', '.join(VOICE_PROCESSORS)}; for example "
                            "VOICE_PROCESSOR=transcribe")
    return MediaHostConfig(
        base=load_media_host_settings(environ),
        bind_host=read.optional("MEDIA_HOST_BIND") or "0.0.0.0",
        voice_processor=processor,
        realtime=_realtime(read, required=processor == "realtime"),
        callback_base_url=read.optional_url("CALLBACK_BASE_URL", "https://my-func.azurewebsites.net",
                                            ("https", "http")),
        max_connections=max_connections,
        max_calls=_max_calls(read, max_connections),
        max_message_bytes=read.integer("MEDIA_MAX_MESSAGE_BYTES", 64 * 1024, 4096, 16 * 1024 * 1024),
        idle_timeout_seconds=float(read.integer("MEDIA_IDLE_TIMEOUT_SECONDS", 30, 1, 3600)),
        drain_seconds=float(read.integer("MEDIA_DRAIN_SECONDS", 30, 0, 3600)),
        caller_silence_seconds=read.integer("CALLER_SILENCE_SECONDS", 0, 0, 600),
        dead_air_seconds=float(read.integer("MEDIA_DEAD_AIR_SECONDS", 3, 1, 60)),
        acs_jwt=load_acs_jwt_source(environ),
        telemetry=load_telemetry_settings(environ),
        use_uvloop=read.choice("MEDIA_HOST_UVLOOP", "1", ("0", "1")) == "1",
    )
