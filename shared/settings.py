"""Settings, read from the environment once and validated.

A missing or malformed setting raises `SettingsError` naming the variable and giving an example value, so a
misconfigured deployment fails at start-up rather than on the first ringing call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.json_body import BadRequest

AUDIO_FORMATS = ("pcm16KMono", "pcm24KMono")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class SettingsError(ValueError):
    """A setting is missing or malformed. The message names the variable and an example value."""


@dataclass(frozen=True)
class StorageSettings:
    """Blob storage, from `AzureWebJobsStorage` or its identity-based form.

    Exactly one of `connection_string` and `blob_service_uri` is set. With `blob_service_uri`, clients
    authenticate with `DefaultAzureCredential` (managed identity in Azure); `table_service_uri` (the call
    index) comes with it, as the Functions host reads `AzureWebJobsStorage__tableServiceUri` or derives it from
    `__accountName`.
    """

    connection_string: str | None
    blob_service_uri: str | None
    transcripts_container: str
    table_service_uri: str | None = None


@dataclass(frozen=True)
class FunctionAppSettings:
    acs_endpoint: str
    acs_access_key: str | None
    callback_base_url: str
    media_host_wss_url: str
    email_sender: str
    summary_recipients: tuple[str, ...]
    call_token_secret: str
    storage: StorageSettings
    media_audio_format: str
    connect_timeout_seconds: int
    max_call_duration_seconds: int


@dataclass(frozen=True)
class MediaHostSettings:
    port: int
    call_token_secret: str
    storage: StorageSettings


class EnvReader:
    """Reads and validates variables from one environment mapping; every settings loader uses it."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def checked(self, name: str, example: str, check: Callable[[str, str], str]) -> str | None:
        """The value of `name` through `check(value, name)` (a request validator: shared/call_actions.py),
        whose `BadRequest` stops start-up naming the variable; None when unset."""
        value = self.optional(name)
        if value is None:
            return None
        try:
            return check(value, name)
        except BadRequest as error:
            raise SettingsError(f"{name} {error.message}; for example {name}={example}") from None

    def required(self, name: str, example: str) -> str:
        value = self.optional(name)
        if value is None:
            raise SettingsError(f"{name} is not set; for example {name}={example}")
        return value

    def url(self, name: str, example: str, schemes: tuple[str, ...]) -> str:
        self.required(name, example)
        return self.optional_url(name, example, schemes) or ""

    def optional_url(self, name: str, example: str, schemes: tuple[str, ...]) -> str | None:
        value = self.optional(name)
        if value is None:
            return None
        value = value.rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
            raise SettingsError(
                f"{name} must be a {' or '.join(schemes)} URL without query; for example {name}={example}"
            )
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise SettingsError(f"{name} must be an integer from {low} to {high}; for example {name}={default}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.optional(name) or default
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}; for example {name}={default}")
        return value

    def email(self, name: str, value: str, example: str) -> str:
        if _EMAIL.match(value) is None:
            raise SettingsError(f"{name} holds an invalid address {value!r}; for example {name}={example}")
        return value

    def secret(self, name: str, example: str, min_length: int) -> str:
        value = self.required(name, example)
        if len(value) < min_length:
            raise SettingsError(f"{name} must be at least {min_length} characters; for example {name}={example}")
        return value

    def storage(self) -> StorageSettings:
        container = self.optional("TRANSCRIPTS_CONTAINER") or "transcripts"
        if re.fullmatch(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]", container) is None:
            raise SettingsError("TRANSCRIPTS_CONTAINER must be a valid blob container name; for example "
                                "TRANSCRIPTS_CONTAINER=transcripts")
        connection_string = self.optional("AzureWebJobsStorage")
        if connection_string is not None:
            return StorageSettings(connection_string, None, container)
        service_uri = self.optional("AzureWebJobsStorage__blobServiceUri")
        table_uri = self.optional("AzureWebJobsStorage__tableServiceUri")
        account = self.optional("AzureWebJobsStorage__accountName")
        if service_uri is None and account is not None:
            service_uri = f"https://{account}.blob.core.windows.net"
        if table_uri is None and account is not None:
            table_uri = f"https://{account}.table.core.windows.net"
        if service_uri is None:
            raise SettingsError(
                "AzureWebJobsStorage is not set; for example AzureWebJobsStorage=UseDevelopmentStorage=true, "
                "or the identity-based AzureWebJobsStorage__accountName=mystorageaccount"
            )
        return StorageSettings(None, service_uri.rstrip("/"), container,
                               table_uri.rstrip("/") if table_uri is not None else None)


SECRET_EXAMPLE = "<at least 32 random characters, e.g. from: openssl rand -base64 32>"


def load_function_app_settings(environ: Mapping[str, str]) -> FunctionAppSettings:
    """Validate the function app's settings. Raises `SettingsError` on the first bad one."""
    read = EnvReader(environ)
    recipients_raw = read.required("SUMMARY_RECIPIENTS", "ops@contoso.com,lead@contoso.com")
    recipients = tuple(part.strip() for part in recipients_raw.split(",") if part.strip())
    if not recipients:
        raise SettingsError("SUMMARY_RECIPIENTS lists no address; for example SUMMARY_RECIPIENTS=ops@contoso.com")
    if len(recipients) > 50:
        raise SettingsError("SUMMARY_RECIPIENTS lists more than ACS Email's 50 recipients per message")
    for address in recipients:
        read.email("SUMMARY_RECIPIENTS", address, "ops@contoso.com")
    access_key = read.optional("ACS_ACCESS_KEY")
    return FunctionAppSettings(
        # The SDK's HMAC policy signs the host exactly as written, so the endpoint is normalised here.
        acs_endpoint=read.url("ACS_ENDPOINT", "https://my-acs.communication.azure.com", ("https", "http")),
        acs_access_key=access_key,
        callback_base_url=read.url("CALLBACK_BASE_URL", "https://my-func.azurewebsites.net", ("https", "http")),
        media_host_wss_url=read.url("MEDIA_HOST_WSS_URL", "wss://media.contoso.com", ("wss", "ws")),
        email_sender=read.email(
            "EMAIL_SENDER",
            read.required("EMAIL_SENDER", "DoNotReply@xxxx.azurecomm.net"),
            "DoNotReply@xxxx.azurecomm.net",
        ),
        summary_recipients=recipients,
        call_token_secret=read.secret("CALL_TOKEN_SECRET", SECRET_EXAMPLE, 32),
        storage=read.storage(),
        media_audio_format=read.choice("MEDIA_AUDIO_FORMAT", "pcm16KMono", AUDIO_FORMATS),
        connect_timeout_seconds=read.integer("CALL_CONNECT_TIMEOUT_SECONDS", 45, 5, 600),
        max_call_duration_seconds=read.integer("MAX_CALL_DURATION_SECONDS", 3600, 10, 4 * 3600),
    )


def load_media_host_settings(environ: Mapping[str, str]) -> MediaHostSettings:
    """Validate the media host's settings. Raises `SettingsError` on the first bad one."""
    read = EnvReader(environ)
    return MediaHostSettings(
        port=read.integer("MEDIA_HOST_PORT", 8080, 1, 65535),
        call_token_secret=read.secret("CALL_TOKEN_SECRET", SECRET_EXAMPLE, 32),
        storage=read.storage(),
    )
