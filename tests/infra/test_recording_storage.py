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


def test_recording_and_consent_settings_come_from_azd_with_values_the_app_accepts() -> None:
    import json

    from shared.app_config import load_app_config
    from shared.recording_settings import FORMATS, MODES
    from tests.infra.bicep_template import REPO_ROOT
    from tests.infra.test_ai_services import app_setting
    from tests.shared.test_settings import VALID

    parameters = json.loads((REPO_ROOT / "infra" / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    example = json.loads((REPO_ROOT / "local.settings.json.example").read_text(encoding="utf-8"))["Values"]
    for setting, parameter, default in (("CALL_RECORDING", "callRecording", "off"),
                                        ("CALL_RECORDING_FORMAT", "callRecordingFormat", "wav"),
                                        ("CALL_RECORDING_START", "callRecordingStart", "api"),
                                        ("CALL_RECORDING_CONSENT_TEXT", "callRecordingConsentText", ""),
                                        ("CALL_RECORDING_CONSENT_AUDIO_URL", "callRecordingConsentAudioUrl", "")):
        assert app_setting(setting) == parameter
        assert MAIN.parameter_default(parameter) == default
        assert parameters[parameter]["value"] == f"${{{setting}={default}}}"
        assert example[setting] == default
    assert MAIN.parameter_decorator("callRecording", "allowed") == list(MODES)
    assert MAIN.parameter_decorator("callRecordingFormat", "allowed") == list(FORMATS)
    assert MAIN.parameter_decorator("callRecordingStart", "allowed") == ["api", "connect"]
    # Every value infra allows is one the app starts with (audio_unmixed is wav only: the app refuses mp3).
    for mode in MODES:
        for form in FORMATS:
            if mode == "audio_unmixed" and form == "mp3":
                continue
            load_app_config({**VALID, "CALL_RECORDING": mode, "CALL_RECORDING_FORMAT": form})
    load_app_config({**VALID, "CALL_RECORDING": "audio", "CALL_RECORDING_START": "connect",
                     "CALL_RECORDING_CONSENT_TEXT": "This call is recorded."})
    load_app_config({**VALID, **{key: value for key, value in example.items() if key.startswith("CALL_RECORDING")}})
