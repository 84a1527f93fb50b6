"""Settings and lazily created SDK clients for the function app (the imperative shell's adapters).

Nothing here touches the network at import: settings are validated when `function_app` is imported, and
each client is built on first use. With `ACS_ACCESS_KEY` set (local only) the ACS clients sign with HMAC;
without it they use `DefaultAzureCredential` (managed identity in Azure).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import requests
from azure.communication.callautomation import CallAutomationClient, CommunicationUserIdentifier
from azure.communication.email import EmailClient
from azure.core.credentials import AzureKeyCredential, TokenCredential
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient, ContainerClient
from urllib3.util.retry import Retry

from adapters.jwks_keys import BearerVerifier
from shared.app_config import AppConfig, load_app_config
from shared.call_flow_settings import CallFlowSettings
from shared.outbound_settings import OutboundSettings
from shared.recording_settings import RecordingSettings
from shared.settings import FunctionAppSettings
from shared.transcription_settings import TranscriptionSettings

# Bounds chosen for ring time: a caller hears ringing while we answer, so the answer's retries must end
# within seconds. azure-core's RetryPolicy honours Retry-After on 429/503.
ANSWER_RETRY: dict[str, Any] = {"retry_total": 3, "retry_backoff_factor": 0.4, "retry_backoff_max": 4,
                "connection_timeout": 5, "read_timeout": 10}
EMAIL_CLIENT_RETRY: dict[str, Any] = {"retry_total": 4, "retry_backoff_factor": 1.0, "retry_backoff_max": 30,
               "connection_timeout": 10, "read_timeout": 30}
# Concurrent answers a burst of ringing calls may have in flight (calls/events_http.py's threads). requests
# keeps 10 connections per host by default and opens, then discards, one more for each request beyond that.
ANSWER_CONCURRENCY = 32
# Storage's default waits 15 s, then 18 s, ... inside one call; activities are retried by Durable instead.
BLOB_RETRY: dict[str, Any] = {"retry_total": 3, "initial_backoff": 1, "increment_base": 2}


@functools.cache
def config() -> AppConfig:
    """Every setting, validated: the one place the function app reads its environment."""
    return load_app_config(os.environ)


def settings() -> FunctionAppSettings:
    return config().core


def transcription_settings() -> TranscriptionSettings:
    return config().transcription


def call_flow_settings() -> CallFlowSettings:
    return config().flow


def recording_settings() -> RecordingSettings:
    return config().recording


@functools.cache
def acs_jwt_verifier() -> BearerVerifier | None:
    """Checks ACS's bearer JWT on callbacks; None when ACS_RESOURCE_ID is unset (local runs only)."""
    source = config().acs_jwt
    return BearerVerifier(source) if source is not None else None


@functools.cache
def event_grid_jwt_verifier() -> BearerVerifier | None:
    """Checks Event Grid's Entra bearer token on /api/events; None unless EVENTGRID_AAD_APP_ID is set."""
    source = config().event_grid_jwt
    return BearerVerifier(source) if source is not None else None


@functools.cache
def _credential() -> AzureKeyCredential | TokenCredential:
    key = settings().acs_access_key
    if key is not None:
        return AzureKeyCredential(key)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _pooled_transport() -> RequestsTransport:
    """A transport whose session keeps ANSWER_CONCURRENCY connections per host, reused by every thread.

    Retries stay off in urllib3, as in azure-core's own session (RequestsTransport._init_session): the client's
    RetryPolicy does them.
    """
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=ANSWER_CONCURRENCY, max_retries=Retry(
        total=False, redirect=False, raise_on_status=False))
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    return RequestsTransport(session=session, session_owner=True)


@functools.cache
def call_automation_client() -> CallAutomationClient:
    # The constructor, not from_connection_string: the latter forces https, which local simulators lack.
    # Cached: one client, so one session and its connection pool, for every answer in this process.
    return CallAutomationClient(settings().acs_endpoint, _credential(), transport=_pooled_transport(),
                                **ANSWER_RETRY)


def outbound_settings() -> OutboundSettings:
    return config().outbound


@functools.cache
def outbound_call_client() -> CallAutomationClient:
    """createCall's client: an ACS user as ACS_CALLER_ID is the SDK client's `source`, not a per-call option."""
    caller_id = outbound_settings().caller_id
    source = CommunicationUserIdentifier(caller_id) if caller_id and caller_id.startswith("8:") else None
    return CallAutomationClient(settings().acs_endpoint, _credential(), source=source, transport=_pooled_transport(),
                                **ANSWER_RETRY)


@functools.cache
def email_client() -> EmailClient:
    return EmailClient(settings().acs_endpoint, _credential(), **EMAIL_CLIENT_RETRY)


@functools.cache
def transcripts_container() -> ContainerClient:
    storage = settings().storage
    if storage.connection_string is not None:
        service = BlobServiceClient.from_connection_string(storage.connection_string, transport=_pooled_transport(),
                                                           **BLOB_RETRY)
    else:
        from azure.identity import DefaultAzureCredential

        service = BlobServiceClient(storage.blob_service_uri or "", credential=DefaultAzureCredential(),
                                    transport=_pooled_transport(), **BLOB_RETRY)
    return service.get_container_client(storage.transcripts_container)


def reset() -> None:
    """Forget settings and clients (tests change the environment between cases)."""
    for cached in (config, _credential, call_automation_client, email_client, transcripts_container,
                   acs_jwt_verifier, event_grid_jwt_verifier, outbound_call_client):
        cached.cache_clear()
