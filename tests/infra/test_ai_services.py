"""The Azure AI services resource ACS speaks prompts and transcribes calls with, and its connection to ACS.

"Connect Azure Communication Services with Azure AI services" (learn.microsoft.com, communication-services/
concepts/call-automation/azure-communication-services-azure-cognitive-services-integration): a multi-service
resource, the ACS resource's system-assigned identity, and the Cognitive Services User role for it.
"""

from __future__ import annotations

import json
from typing import Any

from tests.infra.bicep_template import REPO_ROOT, Template, function_arguments
from tests.infra.test_main import DEPLOY_GUIDE, _environment, function_app_settings

MAIN = Template.load("main.bicep")
AI = Template.load("modules/ai-services.bicep")
COMMUNICATION = Template.load("modules/communication.bicep")
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
# Built-in role "Cognitive Services User" (Azure built-in roles, AI + machine learning).
COGNITIVE_SERVICES_USER = "a97b65f3-24c7-4388-baec-2e87135dc908"
ENDPOINT = "https://ais-abc.cognitiveservices.azure.com/"


def accessor(value: Any) -> str | None:
    """`a.b.c` for a pycep property-access chain; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("operator", {}).get("type") == "property_accessor":
        operands = value["operator"]["operands"]
        left, right = accessor(operands["operand_1"]), accessor(operands["operand_2"])
        return f"{left}.{right}" if left and right else None
    return None


def conditional(value: Any) -> tuple[Any, Any, Any]:
    operands = value["operator"]["operands"]
    assert value["operator"]["type"] == "conditional"
    return operands["condition"], operands["true_value"], operands["false_value"]


def app_setting(name: str) -> Any:
    """The value main.bicep gives the function app setting `name` (through variables and concat)."""
    for group in function_arguments(MAIN.module_params("functionApp")["appSettings"], "concat"):
        for item in MAIN.resolve(group) or []:
            if isinstance(item, dict) and item.get("name") == name:
                return item["value"]
    raise AssertionError(f"{name} is not a function app setting")


def test_acs_has_a_system_assigned_identity_and_exposes_its_principal() -> None:
    communication = COMMUNICATION.resource("communication")
    assert communication.body["identity"] == {"type": "SystemAssigned"}
    assert accessor(COMMUNICATION.section("outputs")["principalId"]["value"]) == "communication.identity.principalId"


def test_the_account_is_a_multi_service_resource_reachable_with_entra_id_only() -> None:
    (account,) = AI.resources("Microsoft.CognitiveServices/accounts")
    assert account.condition is None  # the module as a whole is conditional (main.bicep)
    assert account.body["kind"] == "AIServices"
    assert account.body["sku"] == {"name": "S0"}
    properties = account.body["properties"]
    assert properties["disableLocalAuth"] is True
    # Tokens are accepted only on a custom subdomain; the token makes it globally unique.
    assert AI.resolve(properties["customSubDomainName"]) == "ais-${resourceToken}"
    assert AI.resolve(account.body["name"]) == AI.resolve(properties["customSubDomainName"])
    assert accessor(AI.section("outputs")["endpoint"]["value"]) == "account.properties.endpoint"


def test_the_acs_identity_gets_cognitive_services_user_on_that_account_only() -> None:
    (assignment,) = AI.resources(ROLE_ASSIGNMENT)
    assert assignment.body["scope"] == "account"
    properties = assignment.body["properties"]
    role = properties["roleDefinitionId"]["function"]
    assert role["type"] == "subscription_resource_id"
    assert AI.resolve(role["parameters"]["resource_name_1"]) == COGNITIVE_SERVICES_USER
    assert properties["principalId"] == "communicationPrincipalId"
    assert properties["principalType"] == "ServicePrincipal"
    name = assignment.body["name"]["function"]
    assert name["type"] == "guid" and "communicationPrincipalId" in name["parameters"].values()
    assert MAIN.module_params("aiServices")["communicationPrincipalId"] == {
        "operator": {"type": "property_accessor", "operands": {"operand_1": "communication", "operand_2": {
            "operator": {"type": "property_accessor", "operands": {"operand_1": "outputs",
                                                                   "operand_2": "principalId"}}}}}}


def test_the_account_is_created_only_when_no_existing_endpoint_is_given() -> None:
    condition = MAIN.module_condition("aiServices")
    created_when = MAIN.resolve(condition)
    assert created_when["function"]["type"] == "empty"
    assert created_when["function"]["parameters"]["item_to_test"] == "acsCognitiveServicesEndpoint"
    assert MAIN.parameter_default("acsCognitiveServicesEndpoint") == ""


def test_the_endpoint_setting_is_the_given_one_or_the_created_ones() -> None:
    chosen, created, given = conditional(MAIN.resolve(app_setting("ACS_COGNITIVE_SERVICES_ENDPOINT")))
    # The module's output is read only on the branch where the module is deployed.
    assert chosen == MAIN.module_condition("aiServices")
    assert accessor(created) == "aiServices.outputs.endpoint"
    assert given == "acsCognitiveServicesEndpoint"


def test_transcription_settings_come_from_azd_environment_parameters() -> None:
    assert app_setting("CALL_TRANSCRIPTION") == "callTranscription"
    assert app_setting("CALL_TRANSCRIPTION_LOCALE") == "callTranscriptionLocale"
    assert MAIN.parameter_decorator("callTranscription", "allowed") == ["", "on", "off"]
    assert MAIN.parameter_default("callTranscription") == ""
    assert MAIN.parameter_default("callTranscriptionLocale") == ""
    parameters = json.loads((REPO_ROOT / "infra" / "main.parameters.json").read_text(encoding="utf-8"))
    given = {name: p["value"] for name, p in parameters["parameters"].items()}
    assert given["callTranscription"] == "${CALL_TRANSCRIPTION=}"
    assert given["callTranscriptionLocale"] == "${CALL_TRANSCRIPTION_LOCALE=}"
    assert given["acsCognitiveServicesEndpoint"] == "${ACS_COGNITIVE_SERVICES_ENDPOINT=}"


def test_no_output_feeds_the_created_endpoint_back_as_an_existing_one() -> None:
    # azd writes outputs to the environment and main.parameters.json reads it: an output of this name would
    # turn the template's own resource into a "given" endpoint on the next provision.
    outputs = MAIN.section("outputs")
    assert "ACS_COGNITIVE_SERVICES_ENDPOINT" not in outputs
    assert outputs["AZURE_AI_SERVICES_ENDPOINT"]["value"] == "cognitiveServicesEndpoint"


def test_the_app_transcribes_with_what_infra_provides() -> None:
    from shared.transcription_settings import REQUESTED, load_transcription_settings

    environment = _environment(function_app_settings()) | {"ACS_COGNITIVE_SERVICES_ENDPOINT": ENDPOINT}
    settings = load_transcription_settings(environment)
    assert settings.state == REQUESTED  # the empty CALL_TRANSCRIPTION parameter means on
    assert settings.locale == "en-US"


def test_the_deploy_guide_names_the_settings_and_the_manual_role_step() -> None:
    guide = DEPLOY_GUIDE.read_text(encoding="utf-8")
    for name in ("ACS_COGNITIVE_SERVICES_ENDPOINT", "CALL_TRANSCRIPTION", "CALL_TRANSCRIPTION_LOCALE"):
        assert f"| `{name}`" in guide, name
    assert "Transcription on a real resource" in guide
    assert 'az role assignment create' in guide and '--role "Cognitive Services User"' in guide
