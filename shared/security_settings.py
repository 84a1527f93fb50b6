"""Settings for request authentication and retention, validated like shared/settings.py.

- `ACS_RESOURCE_ID`: the ACS resource's immutable id (a GUID). Set: every callback and media socket must
  carry an ACS-signed JWT whose audience it is. Infra always sets it; unset only in local runs.
- `ACS_OPENID_CONFIG_URL`: where ACS publishes its OpenID configuration (`jwks_uri`). https, or http on
  loopback for tests and local runs.
- `EVENTGRID_AAD_APP_ID` (+ `EVENTGRID_AAD_TENANT_ID`, optional `EVENTGRID_OPENID_CONFIG_URL`): when set,
  `/api/events` also requires Event Grid's Entra bearer token issued for that app (on top of the function key).
- `RETENTION_DAYS`: call history and transcript blobs older than this are purged (1 to 3650, default 30).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.acs_jwt import ACS_ISSUER, DEFAULT_ACS_OPENID_CONFIG_URL, JwtPolicy, acs_policy
from shared.settings import SettingsError

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class JwtSource:
    """Where keys come from and what the tokens must say."""

    openid_config_url: str
    policy: JwtPolicy


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def _openid_url(environ: Mapping[str, str], name: str, default: str) -> str:
    value = _optional(environ, name) or default
    parts = urlsplit(value)
    secure = parts.scheme == "https" and bool(parts.hostname)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if not (secure or loopback) or parts.fragment:
        raise SettingsError(f"{name} must be an https URL (http only on loopback); for example {name}={default}")
    return value


def _guid(environ: Mapping[str, str], name: str, example: str) -> str | None:
    value = _optional(environ, name)
    if value is not None and _GUID.match(value) is None:
        raise SettingsError(f"{name} must be a GUID; for example {name}={example}")
    return value


def load_acs_jwt_source(environ: Mapping[str, str]) -> JwtSource | None:
    """The ACS JWT requirement, or None when `ACS_RESOURCE_ID` is unset (local runs without JWT)."""
    resource_id = _guid(environ, "ACS_RESOURCE_ID", "2a7b3c4d-0000-4000-8000-000000000001")
    url = _openid_url(environ, "ACS_OPENID_CONFIG_URL", DEFAULT_ACS_OPENID_CONFIG_URL)
    if resource_id is None:
        return None
    return JwtSource(url, acs_policy(resource_id))


def entra_policy(app_id: str, tenant_id: str) -> JwtPolicy:
    # Entra issues v1 or v2 tokens depending on the app registration; both name the tenant.
    return JwtPolicy(audiences=(app_id, f"api://{app_id}"),
                     issuers=(f"https://sts.windows.net/{tenant_id}/",
                              f"https://login.microsoftonline.com/{tenant_id}/v2.0"))


def load_event_grid_jwt_source(environ: Mapping[str, str]) -> JwtSource | None:
    """Entra-authenticated Event Grid delivery, or None when `EVENTGRID_AAD_APP_ID` is unset."""
    app_id = _guid(environ, "EVENTGRID_AAD_APP_ID", "3f1c2b4a-0000-4000-8000-000000000002")
    tenant_id = _guid(environ, "EVENTGRID_AAD_TENANT_ID", "72f988bf-0000-4000-8000-000000000003")
    if app_id is None:
        return None
    if tenant_id is None:
        raise SettingsError("EVENTGRID_AAD_TENANT_ID is required with EVENTGRID_AAD_APP_ID; for example "
                            "EVENTGRID_AAD_TENANT_ID=72f988bf-0000-4000-8000-000000000003")
    default = f"https://login.microsoftonline.com/{tenant_id}/v2.0/.well-known/openid-configuration"
    return JwtSource(_openid_url(environ, "EVENTGRID_OPENID_CONFIG_URL", default), entra_policy(app_id, tenant_id))


def load_retention_days(environ: Mapping[str, str]) -> int:
    raw = _optional(environ, "RETENTION_DAYS")
    if raw is None:
        return DEFAULT_RETENTION_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise SettingsError(f"RETENTION_DAYS must be an integer from 1 to 3650; for example "
                            f"RETENTION_DAYS={DEFAULT_RETENTION_DAYS}")
    return int(raw)


__all__ = ["ACS_ISSUER", "JwtSource", "entra_policy", "load_acs_jwt_source", "load_event_grid_jwt_source",
           "load_retention_days"]
