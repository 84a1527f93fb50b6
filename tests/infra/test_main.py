"""infra/main.bicep: every app setting the apps read is provided by infra, or documented as local-only."""

from __future__ import annotations

import json
import re

from tests.infra.bicep_template import REPO_ROOT, Template, name_value_names

MAIN = Template.load("main.bicep")
FUNCTION_APP = Template.load("modules/function-app.bicep")
CONTAINER_APPS = Template.load("modules/container-apps.bicep")
EXAMPLE_SETTINGS = REPO_ROOT / "local.settings.json.example"
DEPLOY_GUIDE = REPO_ROOT / "docs" / "deploy.md"

# The app's fixed setting names (the project's infrastructure issue). local.settings.json.example is
# checked too: whatever it lists must be provided as well.
FIXED_SETTINGS = {
    "ACS_ENDPOINT", "ACS_ACCESS_KEY", "CALLBACK_BASE_URL", "MEDIA_HOST_WSS_URL", "EMAIL_SENDER",
    "SUMMARY_RECIPIENTS", "CALL_TOKEN_SECRET", "TRANSCRIPTS_CONTAINER", "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId", "MEDIA_AUDIO_FORMAT",
    "CALL_CONNECT_TIMEOUT_SECONDS", "MAX_CALL_DURATION_SECONDS", "ACS_RESOURCE_ID", "ACS_OPENID_CONFIG_URL",
    "VOICE_PROCESSOR", "REALTIME_ENDPOINT", "REALTIME_DEPLOYMENT", "REALTIME_VOICE", "REALTIME_INSTRUCTIONS",
    "RETENTION_DAYS", "APPLICATIONINSIGHTS_CONNECTION_STRING", "MEDIA_HOST_PORT", "AZURE_CLIENT_ID",
}
# What shared/settings.py requires of each app.
FUNCTION_APP_REQUIRED = {
    "ACS_ENDPOINT", "CALLBACK_BASE_URL", "MEDIA_HOST_WSS_URL", "EMAIL_SENDER", "SUMMARY_RECIPIENTS",
    "CALL_TOKEN_SECRET", "AzureWebJobsStorage__accountName", "ACS_RESOURCE_ID", "AZURE_CLIENT_ID",
}
MEDIA_HOST_REQUIRED = {
    "CALL_TOKEN_SECRET", "AzureWebJobsStorage__accountName", "MEDIA_HOST_PORT", "CALLBACK_BASE_URL",
    "TRANSCRIPTS_CONTAINER", "ACS_RESOURCE_ID", "AZURE_CLIENT_ID",
}


def function_app_settings() -> set[str]:
    return name_value_names(FUNCTION_APP, "hostSettings") | name_value_names(
        MAIN, MAIN.module_params("functionApp")["appSettings"])


def media_host_settings() -> set[str]:
    return name_value_names(CONTAINER_APPS, "baseEnvironment") | name_value_names(
        MAIN, MAIN.module_params("containerApps")["environmentVariables"])


def local_only_settings() -> set[str]:
    """The documented list in docs/deploy.md, between the local-only-settings markers."""
    text = DEPLOY_GUIDE.read_text(encoding="utf-8")
    section = re.search(r"<!-- local-only-settings:begin -->(.*?)<!-- local-only-settings:end -->", text, re.S)
    assert section, "docs/deploy.md lacks the local-only settings list"
    return set(re.findall(r"^\s*[-*]\s+`([^`]+)`", section.group(1), re.M))


def example_settings() -> set[str]:
    if not EXAMPLE_SETTINGS.is_file():
        return set()
    return set(json.loads(EXAMPLE_SETTINGS.read_text(encoding="utf-8"))["Values"])


def test_every_setting_is_provided_by_infra_or_documented_as_local_only() -> None:
    provided = function_app_settings() | media_host_settings() | set(MAIN.section("outputs"))
    expected = FIXED_SETTINGS | example_settings()
    missing = sorted(expected - provided - local_only_settings())
    assert missing == [], f"settings neither provided by infra nor documented local-only: {missing}"


def test_local_only_settings_never_reach_azure() -> None:
    # e.g. ACS_ACCESS_KEY: absent in Azure so the apps use their managed identity.
    local_only = local_only_settings()
    assert "ACS_ACCESS_KEY" in local_only
    leaked = local_only & (function_app_settings() | media_host_settings())
    assert leaked == set()


def test_each_app_gets_what_it_requires() -> None:
    assert FUNCTION_APP_REQUIRED - function_app_settings() == set()
    assert MEDIA_HOST_REQUIRED - media_host_settings() == set()


def test_outputs_follow_the_azd_upper_case_convention_and_hold_no_secret() -> None:
    outputs = MAIN.section("outputs")
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in outputs)
    assert "CALL_TOKEN_SECRET" not in outputs
    for name in ("ACS_ENDPOINT", "ACS_RESOURCE_ID", "CALLBACK_BASE_URL", "MEDIA_HOST_WSS_URL", "EMAIL_SENDER",
                 "AZURE_CONTAINER_REGISTRY_ENDPOINT", "AZURE_KEY_VAULT_NAME"):
        assert name in outputs


def test_media_host_url_is_wss_and_callback_base_is_https() -> None:
    outputs = MAIN.section("outputs")
    assert outputs["MEDIA_HOST_WSS_URL"]["value"] == "wss://${containerApps.outputs.mediaFqdn}"
    assert MAIN.resolve(outputs["CALLBACK_BASE_URL"]["value"]) == "https://${functionAppName}.azurewebsites.net"


def test_call_token_secret_is_a_secure_parameter_of_sufficient_length() -> None:
    decorators = {d["type"] for d in MAIN.section("parameters")["callTokenSecret"]["decorators"]}
    assert "secure" in decorators
    assert MAIN.parameter_decorator("callTokenSecret", "min_length") >= 32


def test_azd_parameters_file_covers_every_required_parameter() -> None:
    parameters = json.loads((REPO_ROOT / "infra" / "main.parameters.json").read_text(encoding="utf-8"))
    given = set(parameters["parameters"])
    required = {name for name, p in MAIN.section("parameters").items() if p.get("default") is None}
    assert required - given == set()
    assert given - set(MAIN.section("parameters")) == set()
    assert parameters["parameters"]["callTokenSecret"]["value"] == "${CALL_TOKEN_SECRET}"


# Values of the shape Azure gives each setting; only the names come from the Bicep.
SAMPLE_VALUES = {
    "ACS_ENDPOINT": "https://acs-abc.unitedstates.communication.azure.com",
    "ACS_RESOURCE_ID": "2a7b3c4d-0000-4000-8000-000000000001",
    "ACS_OPENID_CONFIG_URL": "https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration",
    "CALLBACK_BASE_URL": "https://func-abc.azurewebsites.net",
    "MEDIA_HOST_WSS_URL": "wss://ca-media-abc.kindsea-1234.swedencentral.azurecontainerapps.io",
    "EMAIL_SENDER": "DoNotReply@0000-1111.azurecomm.net",
    "SUMMARY_RECIPIENTS": "ops@contoso.com",
    "CALL_TOKEN_SECRET": "s" * 64,
    "TRANSCRIPTS_CONTAINER": "transcripts",
    "AzureWebJobsStorage__accountName": "stabc",
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": "00000000-0000-4000-8000-000000000002",
    "AZURE_CLIENT_ID": "00000000-0000-4000-8000-000000000002",
    "MEDIA_AUDIO_FORMAT": "pcm16KMono",
    "CALL_CONNECT_TIMEOUT_SECONDS": "45",
    "MAX_CALL_DURATION_SECONDS": "3600",
    "RETENTION_DAYS": "30",
    "VOICE_PROCESSOR": "transcribe",
    "MEDIA_HOST_PORT": "8080",
    "MEDIA_DRAIN_SECONDS": "570",
}


def _environment(names: set[str]) -> dict[str, str]:
    # Settings with no sample (telemetry, optional realtime) are left empty, as an unset parameter leaves them.
    return {name: SAMPLE_VALUES.get(name, "") for name in names}


def test_the_function_apps_settings_loader_accepts_what_infra_provides() -> None:
    from shared.settings import load_function_app_settings

    settings = load_function_app_settings(_environment(function_app_settings()))
    assert settings.acs_access_key is None  # managed identity in Azure
    assert settings.storage.blob_service_uri == "https://stabc.blob.core.windows.net"


def test_the_media_hosts_config_loader_accepts_what_infra_provides() -> None:
    from media_host.config import load_media_host_config

    config = load_media_host_config(_environment(media_host_settings()))
    assert config.base.port == 8080
    assert config.callback_base_url == SAMPLE_VALUES["CALLBACK_BASE_URL"]
    assert config.drain_seconds == 570
