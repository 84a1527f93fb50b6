"""Role assignments: every one has a why-comment, and each identity gets the roles its workload needs."""

from __future__ import annotations

import re

from tests.infra.bicep_template import INFRA_DIR, Template, bicep_files

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLES = Template.load("modules/role-assignments.bicep")

STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
COMMUNICATION_AND_EMAIL_SERVICE_OWNER = "09976791-48a7-449e-bb21-39d1a415f350"
COGNITIVE_SERVICES_USER = "a97b65f3-24c7-4388-baec-2e87135dc908"


def _comment_above(lines: list[str], resource_line: int) -> str:
    """The block of // comment lines directly above line `resource_line` (1-based)."""
    block: list[str] = []
    index = resource_line - 2
    while index >= 0 and lines[index].strip().startswith("//"):
        block.insert(0, lines[index].strip()[2:].strip())
        index -= 1
    return " ".join(block)


def test_every_role_assignment_in_infra_has_a_why_comment() -> None:
    checked = 0
    for path in bicep_files():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            if re.match(rf"\s*resource\s+\w+\s+'{re.escape(ROLE_ASSIGNMENT)}@", line):
                why = _comment_above(lines, number)
                assert why.startswith("why:"), f"{path.name}:{number} has no '// why:' comment above it"
                assert len(why) > len("why:") + 20, f"{path.name}:{number}: the why-comment says nothing"
                checked += 1
    declared = sum(len(Template.load(path.relative_to(INFRA_DIR).as_posix()).resources(ROLE_ASSIGNMENT))
                   for path in bicep_files())
    assert checked == declared > len(ROLES.resources(ROLE_ASSIGNMENT)) > 0


# The ACS identity's role on the AI services account lives with that account: the account exists only when
# no endpoint is given, and role-assignments.bicep can only scope to resources that always exist.
ROLES_BESIDE_THEIR_SCOPE = {"ai-services.bicep"}


def test_role_assignments_live_only_in_the_role_assignments_module() -> None:
    for path in bicep_files():
        if path.name not in {"role-assignments.bicep"} | ROLES_BESIDE_THEIR_SCOPE:
            assert ROLE_ASSIGNMENT not in path.read_text(encoding="utf-8"), path.name


def _grants() -> dict[str, set[tuple[str, str]]]:
    """principal parameter -> {(role variable's GUID, scope symbol)}."""
    grants: dict[str, set[tuple[str, str]]] = {}
    for assignment in ROLES.resources(ROLE_ASSIGNMENT):
        properties = assignment.body["properties"]
        role = properties["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        grants.setdefault(properties["principalId"], set()).add((ROLES.resolve(role), assignment.body["scope"]))
    return grants


def test_function_identity_gets_host_storage_durable_acs_secret_and_telemetry() -> None:
    assert _grants()["functionPrincipalId"] == {
        (STORAGE_BLOB_DATA_OWNER, "storage"),
        (STORAGE_QUEUE_DATA_CONTRIBUTOR, "storage"),
        (STORAGE_TABLE_DATA_CONTRIBUTOR, "storage"),
        (COMMUNICATION_AND_EMAIL_SERVICE_OWNER, "communication"),
        (KEY_VAULT_SECRETS_USER, "callTokenSecret"),
        (MONITORING_METRICS_PUBLISHER, "appInsights"),
    }


def test_media_identity_is_limited_to_transcripts_image_secret_telemetry_and_voice_live() -> None:
    assert _grants()["mediaPrincipalId"] == {
        (STORAGE_BLOB_DATA_CONTRIBUTOR, "transcriptsContainer"),
        (ACR_PULL, "registry"),
        (KEY_VAULT_SECRETS_USER, "callTokenSecret"),
        (MONITORING_METRICS_PUBLISHER, "appInsights"),
        (COGNITIVE_SERVICES_USER, "voiceLiveAccount"),
    }


def test_the_voice_live_role_is_granted_only_when_a_voice_live_endpoint_is_configured() -> None:
    (voice_live,) = [a for a in ROLES.resources(ROLE_ASSIGNMENT)
                     if a.body["properties"]["principalId"] == "mediaPrincipalId"
                     and a.body["scope"] == "voiceLiveAccount"]
    assert voice_live.condition == "hasVoiceLive"
    main = (INFRA_DIR / "main.bicep").read_text(encoding="utf-8")
    assert "voiceLiveAccountName: voiceLiveAccountName" in main
    assert "contains(toLower(realtimeEndpoint), '/voice-live')" in main


def test_event_grid_identity_can_only_write_dead_letters() -> None:
    assert _grants()["eventGridPrincipalId"] == {(STORAGE_BLOB_DATA_CONTRIBUTOR, "deadLetterContainer")}


def test_developer_roles_are_optional() -> None:
    developer = [a for a in ROLES.resources(ROLE_ASSIGNMENT) if a.body["properties"]["principalId"]
                 == "developerPrincipalId"]
    assert developer
    assert all(a.condition == "hasDeveloper" for a in developer)


def test_assignment_names_are_deterministic_per_scope_principal_and_role() -> None:
    for assignment in ROLES.resources(ROLE_ASSIGNMENT):
        name = assignment.body["name"]["function"]
        assert name["type"] == "guid"
        principal = assignment.body["properties"]["principalId"]
        assert principal in name["parameters"].values(), assignment.symbol
