"""infra/modules/event-grid-*.bicep: IncomingCall from the ACS system topic to POST /api/events."""

from __future__ import annotations

from tests.infra.bicep_template import Template

SUBSCRIPTION = Template.load("modules/event-grid-subscription.bicep")
TOPIC = Template.load("modules/event-grid-topic.bicep")
MAIN = Template.load("main.bicep")


def _properties() -> dict:
    (subscription,) = SUBSCRIPTION.resources("Microsoft.EventGrid/systemTopics/eventSubscriptions")
    return subscription.body["properties"]


def test_system_topic_is_on_the_acs_resource() -> None:
    (topic,) = TOPIC.resources("Microsoft.EventGrid/systemTopics")
    assert topic.body["properties"]["topicType"] == "Microsoft.Communication.CommunicationServices"
    assert topic.body["properties"]["source"] == {
        "operator": {"type": "property_accessor", "operands": {"operand_1": "communication", "operand_2": "id"}}}
    assert topic.body["location"] == "global"


def test_only_incoming_call_events_are_delivered() -> None:
    assert _properties()["filter"]["includedEventTypes"] == ["Microsoft.Communication.IncomingCall"]
    assert _properties()["eventDeliverySchema"] == "EventGridSchema"


def test_destination_is_the_events_route_with_that_functions_own_key() -> None:
    destination = _properties()["destination"]
    assert destination["endpointType"] == "WebHook"
    url = destination["properties"]["endpointUrl"]
    assert url.startswith("https://${functionApp.properties.defaultHostName}/api/${eventsFunctionName}?code=")
    assert url.endswith("${eventsFunction.listKeys().default}'") or url.endswith("${eventsFunction.listKeys().default}")
    assert SUBSCRIPTION.parameter_default("eventsFunctionName") == "events"
    (function,) = SUBSCRIPTION.resources("Microsoft.Web/sites/functions")
    assert function.body["name"] == "eventsFunctionName"
    assert function.body["parent"] == "functionApp"


def test_phone_number_filter_routes_only_the_configured_number() -> None:
    assert _properties()["filter"]["advancedFilters"] == "phoneFilters"
    choice = SUBSCRIPTION.resolve("phoneFilters")["operator"]
    assert choice["type"] == "conditional"
    assert choice["operands"]["condition"] == {"function": {"type": "empty", "parameters": {
        "item_to_test": "phoneNumber"}}}
    assert choice["operands"]["true_value"] == []
    (phone_filter,) = choice["operands"]["false_value"]
    assert phone_filter == {"operatorType": "StringIn", "key": "data.to.PhoneNumber.Value", "values": ["phoneNumber"]}
    assert MAIN.module_params("eventGridSubscription")["phoneNumber"] == "phoneNumber"


def test_retry_policy_is_short_because_a_ringing_call_does_not_wait() -> None:
    retry = _properties()["retryPolicy"]
    attempts = SUBSCRIPTION.resolve(retry["maxDeliveryAttempts"])
    ttl = SUBSCRIPTION.resolve(retry["eventTimeToLiveInMinutes"])
    assert 1 <= attempts <= 5
    assert 1 <= ttl <= 5


def test_undeliverable_events_go_to_the_dead_letter_container_with_the_topic_identity() -> None:
    dead_letter = _properties()["deadLetterWithResourceIdentity"]
    assert dead_letter["identity"] == {"type": "UserAssigned", "userAssignedIdentity": "identityId"}
    destination = dead_letter["deadLetterDestination"]
    assert destination["endpointType"] == "StorageBlob"
    assert destination["properties"]["blobContainerName"] == "deadLetterContainerName"
    (topic,) = TOPIC.resources("Microsoft.EventGrid/systemTopics")
    assert topic.body["identity"]["type"] == "UserAssigned"
    params = MAIN.module_params("eventGridSubscription")
    assert params["identityId"] == MAIN.module_params("eventGridTopic")["identityId"]


def test_subscription_waits_for_the_deployed_function() -> None:
    # Event Grid validates the endpoint at creation: main deploys the module only once the hook enables it.
    assert MAIN.module_condition("eventGridSubscription") == "eventGridSubscriptionEnabled"
    assert MAIN.parameter_default("eventGridSubscriptionEnabled") is False
