"""shared.security_settings: JWT, Entra and retention settings, validated with the variable named."""

from __future__ import annotations

import pytest

from shared.acs_jwt import DEFAULT_ACS_OPENID_CONFIG_URL
from shared.security_settings import load_acs_jwt_source, load_event_grid_jwt_source, load_retention_days
from shared.settings import SettingsError

RESOURCE = "2a7b3c4d-0000-4000-8000-000000000001"


def test_jwt_is_off_without_a_resource_id_and_on_with_one() -> None:
    assert load_acs_jwt_source({}) is None
    source = load_acs_jwt_source({"ACS_RESOURCE_ID": RESOURCE})
    assert source is not None
    assert source.openid_config_url == DEFAULT_ACS_OPENID_CONFIG_URL
    assert source.policy.audiences == (RESOURCE,)


@pytest.mark.parametrize(("environ", "name"), [
    ({"ACS_RESOURCE_ID": "not-a-guid"}, "ACS_RESOURCE_ID"),
    ({"ACS_RESOURCE_ID": RESOURCE, "ACS_OPENID_CONFIG_URL": "http://acs.example.com/x"}, "ACS_OPENID_CONFIG_URL"),
    ({"ACS_RESOURCE_ID": RESOURCE, "ACS_OPENID_CONFIG_URL": "ftp://127.0.0.1/x"}, "ACS_OPENID_CONFIG_URL"),
    ({"EVENTGRID_AAD_APP_ID": RESOURCE}, "EVENTGRID_AAD_TENANT_ID"),
    ({"EVENTGRID_AAD_APP_ID": "x"}, "EVENTGRID_AAD_APP_ID"),
    ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
    ({"RETENTION_DAYS": "ten"}, "RETENTION_DAYS"),
])
def test_bad_values_name_the_variable(environ: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_acs_jwt_source(environ)
        load_event_grid_jwt_source(environ)
        load_retention_days(environ)


def test_loopback_http_is_allowed_for_local_key_sets() -> None:
    source = load_acs_jwt_source({"ACS_RESOURCE_ID": RESOURCE, "ACS_OPENID_CONFIG_URL": "http://127.0.0.1:9/c"})
    assert source is not None and source.openid_config_url == "http://127.0.0.1:9/c"


def test_entra_delivery_accepts_both_token_versions_of_the_tenant() -> None:
    source = load_event_grid_jwt_source({"EVENTGRID_AAD_APP_ID": RESOURCE, "EVENTGRID_AAD_TENANT_ID": RESOURCE})
    assert source is not None
    assert source.policy.audiences == (RESOURCE, f"api://{RESOURCE}")
    assert f"https://sts.windows.net/{RESOURCE}/" in source.policy.issuers
    assert source.openid_config_url.startswith(f"https://login.microsoftonline.com/{RESOURCE}/")


def test_retention_days_default_and_range() -> None:
    assert load_retention_days({}) == 30
    assert load_retention_days({"RETENTION_DAYS": "7"}) == 7
