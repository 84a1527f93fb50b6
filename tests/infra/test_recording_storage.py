"""Call recording infra: bring-your-own-storage (the recordings container, the ACS identity's role on it, the
app setting naming it) and the RecordingFileStatusUpdated subscription to POST /api/recording-events."""

from __future__ import annotations

from tests.infra.bicep_template import Template, name_value_names
from tests.infra.test_role_assignments import ROLE_ASSIGNMENT, ROLES, STORAGE_BLOB_DATA_CONTRIBUTOR

MAIN = Template.load("main.bicep")
COMMUNICATION = Template.load("modules/communication.bicep")
SUBSCRIPTION = Template.load("modules/recording-file-subscription.bicep")


def test_acs_has_a_system_assigned_identity_for_byos() -> None:
    (acs,) = COMMUNICATION.resources("Microsoft.Communication/communicationServices")
    assert acs.body["identity"] == {"type": "SystemAssigned"}


def test_acs_identity_may_write_the_recordings_container_only() -> None:
    grants = [assignment.body for assignment in ROLES.resources(ROLE_ASSIGNMENT)
              if assignment.body["properties"]["principalId"] == "communicationPrincipalId"]
    (grant,) = grants
    role = grant["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
    assert ROLES.resolve(role) == STORAGE_BLOB_DATA_CONTRIBUTOR
    assert grant["scope"] == "recordingsContainer"
    assert ROLES.resource("recordingsContainer").body["name"] == "recordingsContainerName"
    params = MAIN.module_params("roles")
    assert "communication" in str(params["communicationPrincipalId"]) and "principalId" in str(
        params["communicationPrincipalId"])


def test_function_app_names_the_recordings_container_unless_byos_is_off() -> None:
    settings = MAIN.module_params("functionApp")["appSettings"]
    assert "RECORDING_STORAGE_CONTAINER_URL" in name_value_names(MAIN, settings)
    assert MAIN.parameter_default("recordingToOwnStorage") is True
    assert "recordingsContainerName" in str(settings) and "blobEndpoint" in str(settings)
    assert MAIN.resolve("recordingsContainerName") == "recordings"


def _properties() -> dict:
    (subscription,) = SUBSCRIPTION.resources("Microsoft.EventGrid/systemTopics/eventSubscriptions")
    return subscription.body["properties"]


def test_recording_file_events_have_their_own_subscription_and_route() -> None:
    assert _properties()["filter"]["includedEventTypes"] == ["Microsoft.Communication.RecordingFileStatusUpdated"]
    assert _properties()["eventDeliverySchema"] == "EventGridSchema"
    destination = _properties()["destination"]
    assert destination["endpointType"] == "WebHook"
    url = str(destination["properties"]["endpointUrl"])
    assert "/api/recording-events?code=${recordingEventsFunction.listKeys().default}" in url
    # The Python function behind the route (calls/recording_events_http.py) is named recording_events.
    assert SUBSCRIPTION.parameter_default("recordingEventsFunctionName") == "recording_events"
    assert MAIN.module_condition("recordingFileSubscription") == "eventGridSubscriptionEnabled"


def test_recording_file_events_are_retried_long_and_dead_lettered() -> None:
    retry = _properties()["retryPolicy"]
    assert SUBSCRIPTION.resolve(retry["eventTimeToLiveInMinutes"]) >= 60
    assert _properties()["deadLetterWithResourceIdentity"]["deadLetterDestination"]["endpointType"] == "StorageBlob"
