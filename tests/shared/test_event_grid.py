from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.event_grid import (
    INCOMING_CALL,
    SUBSCRIPTION_VALIDATION,
    CommunicationIdentifier,
    EventGridEvent,
    IncomingCall,
    SubscriptionValidation,
    parse_event_grid_delivery,
)
from shared.json_body import BadRequest, load_json_body

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
EVENT_GRID_FIXTURES = [
    "incoming_call_eventgrid.json",
    "incoming_call_cloudevents.json",
    "incoming_call_pstn_eventgrid.json",
    "subscription_validation_eventgrid.json",
]


def fixture(name: str) -> object:
    return load_json_body((FIXTURES / name).read_bytes(), "application/json")


def test_documented_incoming_call_sample() -> None:
    [event] = parse_event_grid_delivery(fixture("incoming_call_eventgrid.json"))
    assert event.schema == "eventgrid"
    assert event.event_type == INCOMING_CALL
    assert event.id == "d5546be8-227a-4db8-b2c3-4f06fd675fd6"
    assert event.event_time == "2022-08-25T19:27:24.2415391Z"
    assert event.subject is not None and event.subject.startswith("/caller/8:acs:")
    call = event.data
    assert isinstance(call, IncomingCall)
    assert call.from_ == CommunicationIdentifier(
        kind="communicationUser",
        raw_id="8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-2033-438d-1000-343a0d006e10",
        phone_number=None,
        communication_user_id="8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-2033-438d-1000-343a0d006e10",
    )
    assert call.to.raw_id.endswith("0061f3")
    assert call.server_call_id.startswith("tob2JIV0")
    assert call.caller_display_name == "John Doe"
    assert call.incoming_call_context.startswith("eyJhbGciOiJub25l")
    assert call.correlation_id == "d732db64-4803-462d-be9c-518943ea2b7a"
    assert call.custom_context is None


def test_cloudevents_batch_and_single_object_parse_to_the_same_call() -> None:
    eventgrid = parse_event_grid_delivery(fixture("incoming_call_eventgrid.json"))
    batch = fixture("incoming_call_cloudevents.json")
    assert isinstance(batch, list)
    from_batch = parse_event_grid_delivery(batch)
    from_single = parse_event_grid_delivery(batch[0])
    assert from_batch == from_single
    assert from_batch[0].schema == "cloudevents"
    assert from_batch[0].data == eventgrid[0].data
    assert from_batch[0].event_time == eventgrid[0].event_time


def test_pstn_call_with_custom_context() -> None:
    [event] = parse_event_grid_delivery(fixture("incoming_call_pstn_eventgrid.json"))
    call = event.data
    assert isinstance(call, IncomingCall)
    assert call.from_.kind == "phoneNumber"
    assert call.from_.phone_number == "+15551234567"
    assert call.from_.raw_id == "4:+15551234567"
    assert call.to.phone_number == "+18005550100"
    assert call.caller_display_name == ""
    assert call.custom_context == {"sipHeaders": {"X-MS-Custom-Ticket": "12345"}, "voipHeaders": {}}


def test_subscription_validation() -> None:
    [event] = parse_event_grid_delivery(fixture("subscription_validation_eventgrid.json"))
    assert event.event_type == SUBSCRIPTION_VALIDATION
    assert isinstance(event.data, SubscriptionValidation)
    assert event.data.validation_code == "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    assert event.data.validation_url is not None and event.data.validation_url.startswith("https://")


def test_unknown_event_types_are_kept_without_data() -> None:
    body = [
        {"id": "1", "eventType": "Microsoft.Communication.CallEnded", "subject": "call/x", "data": {"any": [1]}},
        {"id": "2", "eventType": "Contoso.Other", "data": "not even an object", "dataVersion": "1.0"},
    ]
    events = parse_event_grid_delivery(body)
    assert [(event.id, event.event_type, event.data) for event in events] == [
        ("1", "Microsoft.Communication.CallEnded", None),
        ("2", "Contoso.Other", None),
    ]


def test_missing_kind_is_inferred_from_the_identifier_member() -> None:
    body = copy.deepcopy(fixture("incoming_call_pstn_eventgrid.json"))
    del body[0]["data"]["from"]["kind"]  # type: ignore[index]
    del body[0]["data"]["to"]["kind"]  # type: ignore[index]
    body[0]["data"]["to"] = {"rawId": "28:orgid:abc"}  # type: ignore[index]
    call = parse_event_grid_delivery(body)[0].data
    assert isinstance(call, IncomingCall)
    assert call.from_.kind == "phoneNumber"
    assert call.to.kind == "unknown"


def test_extra_fields_are_tolerated() -> None:
    body = copy.deepcopy(fixture("incoming_call_eventgrid.json"))
    body[0]["extra"] = {"nested": True}  # type: ignore[index]
    body[0]["data"]["onBehalfOfCallee"] = {"rawId": "x"}  # type: ignore[index]
    body[0]["data"]["from"]["isAnonymous"] = False  # type: ignore[index]
    assert isinstance(parse_event_grid_delivery(body)[0].data, IncomingCall)


def _set(body: object, path: list[str | int], value: object) -> object:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    if value is _DELETE:
        del target[path[-1]]  # type: ignore[attr-defined]
    else:
        target[path[-1]] = value  # type: ignore[index]
    return changed


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected_path"),
    [
        ([0, "data", "from", "rawId"], _DELETE, "[0].data.from.rawId"),
        ([0, "data", "from", "rawId"], 42, "[0].data.from.rawId"),
        ([0, "data", "to", "rawId"], "", "[0].data.to.rawId"),
        ([0, "data", "from"], _DELETE, "[0].data.from"),
        ([0, "data", "to"], "8:acs:x", "[0].data.to"),
        ([0, "data", "serverCallId"], None, "[0].data.serverCallId"),
        ([0, "data", "incomingCallContext"], ["x"], "[0].data.incomingCallContext"),
        ([0, "data", "correlationId"], _DELETE, "[0].data.correlationId"),
        ([0, "data", "callerDisplayName"], 7, "[0].data.callerDisplayName"),
        ([0, "data", "customContext"], "x", "[0].data.customContext"),
        ([0, "data", "customContext"], {"sipHeaders": {"a": 1}}, "[0].data.customContext.sipHeaders.a"),
        ([0, "data", "from", "communicationUser"], {"id": None}, "[0].data.from.communicationUser.id"),
        ([0, "data"], _DELETE, "[0].data"),
        ([0, "data"], [], "[0].data"),
        ([0, "id"], _DELETE, "[0].id"),
        ([0, "eventType"], 1, "[0].eventType"),
        ([0, "eventTime"], 1.5, "[0].eventTime"),
        ([0, "subject"], {}, "[0].subject"),
        ([0, "dataVersion"], 1, "[0].dataVersion"),
    ],
)
def test_malformed_incoming_call_names_the_path(path: list[str | int], value: object, expected_path: str) -> None:
    body = _set(fixture("incoming_call_eventgrid.json"), path, value)
    with pytest.raises(BadRequest) as caught:
        parse_event_grid_delivery(body)
    assert caught.value.path == expected_path
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("path", "value", "expected_path"),
    [
        ([0, "specversion"], "0.3", "[0].specversion"),
        ([0, "specversion"], 1.0, "[0].specversion"),
        ([0, "source"], _DELETE, "[0].source"),
        ([0, "type"], _DELETE, "[0].type"),
        ([0, "time"], 0, "[0].time"),
        ([0, "data", "from", "rawId"], _DELETE, "[0].data.from.rawId"),
    ],
)
def test_malformed_cloud_event_names_the_path(path: list[str | int], value: object, expected_path: str) -> None:
    body = _set(fixture("incoming_call_cloudevents.json"), path, value)
    with pytest.raises(BadRequest) as caught:
        parse_event_grid_delivery(body)
    assert caught.value.path == expected_path


def test_validation_without_code_is_refused() -> None:
    body = _set(fixture("subscription_validation_eventgrid.json"), [0, "data", "validationCode"], _DELETE)
    with pytest.raises(BadRequest) as caught:
        parse_event_grid_delivery(body)
    assert caught.value.path == "[0].data.validationCode"


@pytest.mark.parametrize(
    ("body", "expected_path"),
    [
        ([], ""),
        ("x", ""),
        (None, ""),
        (3, ""),
        ([1], "[0]"),
        ([{"id": "a", "eventType": "t"}, []], "[1]"),
        ({"id": "a", "eventType": "t"}, "specversion"),
    ],
)
def test_bad_delivery_shapes(body: object, expected_path: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_event_grid_delivery(body)
    assert caught.value.path == expected_path


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "eventType", "type", "specversion", "source", "data", "to", "from", "rawId", "x"])
            | st.text(max_size=5),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_arbitrary_json_raises_only_bad_request(body: object) -> None:
    try:
        events = parse_event_grid_delivery(body)
    except BadRequest:
        return
    assert events


def _leaf_paths(value: object, prefix: list[str | int]) -> list[list[str | int]]:
    paths: list[list[str | int]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _leaf_paths(child, [*prefix, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += _leaf_paths(child, [*prefix, index])
    return paths


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_real_payloads_raise_only_bad_request(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(EVENT_GRID_FIXTURES))
    body = fixture(name)
    path = data.draw(st.sampled_from(_leaf_paths(body, [])))
    replacement = data.draw(json_values | st.just(_DELETE))
    try:
        parse_event_grid_delivery(_set(body, path, replacement))
    except BadRequest as error:
        assert error.path or error.message


def test_cloud_event_envelope_fields() -> None:
    [event] = parse_event_grid_delivery(fixture("incoming_call_cloudevents.json")[0])  # type: ignore[index]
    assert (event.id, event.event_type, event.schema) == (
        "d5546be8-227a-4db8-b2c3-4f06fd675fd6", INCOMING_CALL, "cloudevents")
    assert event.subject is not None and event.subject.startswith("/caller/8:acs:98e4cbef")
    assert event.event_time == "2022-08-25T19:27:24.2415391Z"
    [other] = parse_event_grid_delivery([{"specversion": "1.0", "id": "7", "type": "Contoso.X", "source": "s"}])
    assert other == EventGridEvent("7", "Contoso.X", None, None, "cloudevents", None)


def test_an_explicit_identifier_kind_is_kept() -> None:
    body = _set(fixture("incoming_call_pstn_eventgrid.json"), [0, "data", "from", "kind"], "microsoftTeamsUser")
    call = parse_event_grid_delivery(body)[0].data
    assert isinstance(call, IncomingCall) and call.from_.kind == "microsoftTeamsUser"
    assert call.from_.phone_number == "+15551234567"
    body = _set(fixture("incoming_call_eventgrid.json"), [0, "data", "to", "kind"], _DELETE)
    call = parse_event_grid_delivery(body)[0].data
    assert isinstance(call, IncomingCall) and call.to.kind == "communicationUser"


def test_validation_url_is_optional() -> None:
    body = _set(fixture("subscription_validation_eventgrid.json"), [0, "data", "validationUrl"], _DELETE)
    [event] = parse_event_grid_delivery(body)
    assert event.data == SubscriptionValidation("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", None)


ONE_CLOUD_EVENT = {"specversion": "1.0", "id": "1", "type": INCOMING_CALL, "source": "s"}


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (_set(fixture("incoming_call_eventgrid.json"), [0, "data", "to"], _DELETE), "[0].data.to",
         "missing required object 'to'"),
        (_set(fixture("incoming_call_eventgrid.json"), [0, "data", "from"], _DELETE), "[0].data.from",
         "missing required object 'from'"),
        ({**ONE_CLOUD_EVENT, "data": {"from": {}}}, "data.to", "missing required object 'to'"),
        ({**ONE_CLOUD_EVENT, "data": {"to": {}}}, "data.from", "missing required object 'from'"),
        ({**ONE_CLOUD_EVENT, "data": {"to": {"rawId": "x"}, "from": []}}, "data.from", "expected an object, got array"),
        ({**ONE_CLOUD_EVENT, "specversion": "1" * 30}, "specversion",
         "unsupported CloudEvents specversion '11111111111111111111'"),
        ({**ONE_CLOUD_EVENT, "id": 1}, "id", "expected a string, got number"),
        ({**ONE_CLOUD_EVENT, "subject": 1}, "subject", "expected a string, got number"),
        ([{**ONE_CLOUD_EVENT, "type": "X"}, {**ONE_CLOUD_EVENT, "id": 1}], "[1].id", "expected a string, got number"),
        ([{**ONE_CLOUD_EVENT, "subject": 1}], "[0].subject", "expected a string, got number"),
        (_set(fixture("incoming_call_eventgrid.json"), [0, "data", "customContext"], {"sipHeaders": {"a": 1}}),
         "[0].data.customContext.sipHeaders.a", "expected a string header value"),
        (_set(fixture("incoming_call_eventgrid.json"), [0, "data", "customContext"], {"voipHeaders": "x"}),
         "[0].data.customContext.voipHeaders", "expected an object, got string"),
        (_set(fixture("incoming_call_eventgrid.json"), [0, "data", "from", "kind"], 5),
         "[0].data.from.kind", "expected a string, got number"),
        (_set(fixture("incoming_call_pstn_eventgrid.json"), [0, "data", "from", "phoneNumber"], "x"),
         "[0].data.from.phoneNumber", "expected an object, got string"),
        (_set(fixture("incoming_call_pstn_eventgrid.json"), [0, "data", "from", "phoneNumber"], {}),
         "[0].data.from.phoneNumber.value", "missing required string 'value'"),
        (_set(fixture("incoming_call_eventgrid.json"), [0, "data", "from", "communicationUser"], 1),
         "[0].data.from.communicationUser", "expected an object, got number"),
        (_set(fixture("subscription_validation_eventgrid.json"), [0, "data", "validationUrl"], 5),
         "[0].data.validationUrl", "expected a string, got number"),
        (_set(fixture("subscription_validation_eventgrid.json"), [0, "data"], "x"),
         "[0].data", "expected an object, got string"),
        ({"id": "a", "eventType": "t"}, "specversion", "expected an array of events or a single CloudEvent"),
        ("x", "", "expected an array of events or a single CloudEvent"),
        ([], "", "the event array is empty"),
    ],
)
def test_bad_deliveries_get_a_400_body_naming_the_field(body: object, path: str, message: str) -> None:
    # What POST /api/events answers with status 400 (calls/ turns BadRequest.to_json() into the body).
    with pytest.raises(BadRequest) as caught:
        parse_event_grid_delivery(body)
    assert caught.value.to_json() == {"error": "bad_request", "message": message, "path": path}
