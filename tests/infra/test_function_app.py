"""infra/modules/function-app.bicep: Python 3.11 on Flex Consumption with identity-based host storage."""

from __future__ import annotations

from tests.infra.bicep_template import Template, function_arguments, name_value_names

FUNCTION_APP = Template.load("modules/function-app.bicep")


def _site() -> dict:
    (site,) = FUNCTION_APP.resources("Microsoft.Web/sites")
    return site.body


def test_plan_is_flex_consumption() -> None:
    (plan,) = FUNCTION_APP.resources("Microsoft.Web/serverfarms")
    assert plan.body["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan.body["properties"]["reserved"] is True


def test_runtime_is_python_3_11_on_linux() -> None:
    site = _site()
    assert site["kind"] == "functionapp,linux"
    assert site["properties"]["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}


def test_deployment_package_is_read_with_the_user_assigned_identity() -> None:
    storage = _site()["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["value"] == "${blobEndpoint}${deploymentContainerName}"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}


def test_host_storage_is_identity_based_with_the_user_assigned_client_id() -> None:
    host_settings = {item["name"]: item["value"] for item in FUNCTION_APP.resolve("hostSettings")}
    assert host_settings["AzureWebJobsStorage__accountName"] == "storageAccountName"
    assert host_settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert host_settings["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert host_settings["AZURE_CLIENT_ID"] == "identityClientId"
    # Flex Consumption rejects these: the runtime comes from functionAppConfig, storage from the identity.
    for forbidden in ("FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "AzureWebJobsStorage",
                      "WEBSITE_RUN_FROM_PACKAGE", "ACS_ACCESS_KEY"):
        assert forbidden not in host_settings


def test_app_settings_are_host_settings_plus_the_settings_main_passes() -> None:
    app_settings = _site()["properties"]["siteConfig"]["appSettings"]
    assert function_arguments(app_settings, "concat") == ["hostSettings", "appSettings"]
    assert "CALL_TOKEN_SECRET" in name_value_names(FUNCTION_APP, app_settings)


def test_call_token_secret_is_a_key_vault_reference_resolved_with_the_identity() -> None:
    host_settings = {item["name"]: item["value"] for item in FUNCTION_APP.resolve("hostSettings")}
    assert host_settings["CALL_TOKEN_SECRET"] == "@Microsoft.KeyVault(SecretUri=${callTokenSecretUri})"
    assert _site()["properties"]["keyVaultReferenceIdentity"] == "identityId"


def test_https_only_and_modern_tls() -> None:
    properties = _site()["properties"]
    assert properties["httpsOnly"] is True
    assert properties["siteConfig"]["minTlsVersion"] == "1.2"


def test_basic_publishing_credentials_are_off() -> None:
    policies = FUNCTION_APP.resources("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert {p.body["name"] for p in policies} == {"scm", "ftp"}
    assert all(p.body["properties"]["allow"] is False for p in policies)


def test_azd_finds_the_app_as_service_api() -> None:
    extra_tags = function_arguments(_site()["tags"], "union")[1]
    # pycep keeps the quotes of a quoted object key.
    assert {key.strip("'"): value for key, value in extra_tags.items()} == {"azd-service-name": "api"}
