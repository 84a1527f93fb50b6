"""infra/modules/storage.bicep: Entra-only storage with the four containers the apps, ACS and Event Grid use."""

from __future__ import annotations

from tests.infra.bicep_template import Template

STORAGE = Template.load("modules/storage.bicep")


def _account() -> dict:
    (account,) = STORAGE.resources("Microsoft.Storage/storageAccounts")
    return account.body["properties"]


def test_shared_key_access_is_off_and_oauth_is_the_default() -> None:
    properties = _account()
    assert properties["allowSharedKeyAccess"] is False
    assert properties["defaultToOAuthAuthentication"] is True


def test_tls_and_public_blob_access() -> None:
    properties = _account()
    assert properties["minimumTlsVersion"] == "TLS1_2"
    assert properties["allowBlobPublicAccess"] is False
    assert properties["supportsHttpsTrafficOnly"] is True


def test_containers_are_private_and_named_by_main() -> None:
    main = Template.load("main.bicep")
    params = main.module_params("storage")
    expected = {main.resolve(params[key]) for key in (
        "deploymentContainerName", "transcriptsContainerName", "recordingsContainerName", "deadLetterContainerName")}
    assert expected == {"deployment-package", "transcripts", "recordings", "eventgrid-deadletter"}
    containers = STORAGE.resources("Microsoft.Storage/storageAccounts/blobServices/containers")
    assert {c.body["name"] for c in containers} == {
        "deploymentContainerName", "transcriptsContainerName", "recordingsContainerName", "deadLetterContainerName"}
    for container in containers:
        assert container.body["properties"]["publicAccess"] == "None"


def test_lifecycle_deletes_transcripts_after_the_retention_days() -> None:
    (policy,) = STORAGE.resources("Microsoft.Storage/storageAccounts/managementPolicies")
    (rule,) = policy.body["properties"]["policy"]["rules"]
    definition = rule["definition"]
    assert "${transcriptsContainerName}/" in definition["filters"]["prefixMatch"]
    assert "${recordingsContainerName}/" in definition["filters"]["prefixMatch"]  # recordings are personal data too
    assert definition["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == "retentionDays"
