"""Check Call Automation request bodies against the SDK's own generated request models. No I/O.

The rules are not written here: they are read from azure-communication-callautomation's AutoRest models
(`_generated/models/_models.py`, generated from the REST spec `CallAutomation/stable/2026-03-12`):
- `_validation[attr]["required"]` -> the wire key must be present and not null; `maximum`/`minimum` bounds;
- `_attribute_map[attr]` -> the wire key and its type (`str`, `bool`, `int`, `float`, `[X]`, `{X}`, a model);
- `_subtype_map` -> a polymorphic model: the discriminator must name a known subtype (e.g. `transportType`
  must be "websocket"), and the body is then checked against that subtype;
- enums -> the `__init__` annotation `Union[str, "_models.SomeEnum"]` names the enum; the value must be one
  of its members, spelled exactly (the SDK always sends the member's value; be stricter than a
  case-insensitive service).
A key the model does not know is refused too: the SDK never sends one, so it can only be a misspelling.
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
import typing
from typing import Any

from azure.communication.callautomation._generated import models as _models

# operation name (rest_api routing) -> the generated model the SDK serialises for that request
OPERATION_MODELS: dict[str, str] = {
    "answer": "AnswerCallRequest",
    "create_call": "CreateCallRequest",
    "reject": "RejectCallRequest",
    "redirect": "RedirectCallRequest",
    "play": "PlayRequest",
    "recognize": "RecognizeRequest",
    "transfer": "TransferToParticipantRequest",
    "start_transcription": "StartTranscriptionRequest",
    "stop_transcription": "StopTranscriptionRequest",
    "update_transcription": "UpdateTranscriptionRequest",
    "start_media_streaming": "StartMediaStreamingRequest",
    "stop_media_streaming": "StopMediaStreamingRequest",
    "mute": "MuteParticipantsRequest",
    "start_recording": "StartCallRecordingRequest",
    "participants_add": "AddParticipantRequest",
    "participants_remove": "RemoveParticipantRequest",
    "participants_cancelAddParticipant": "CancelAddParticipantRequest",
    "hold": "HoldRequest",
    "unhold": "UnholdRequest",
}

_FORWARD_MODEL = re.compile(r"^_models\.(\w+)$")
_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,), "bool": (bool,), "int": (int,), "long": (int,), "float": (int, float),
    "iso-8601": (str,), "duration": (str,), "object": (object,),
}
MAX_PROBLEMS = 10


def _forward_refs(annotation: Any) -> list[str]:
    if isinstance(annotation, typing.ForwardRef):
        match = _FORWARD_MODEL.match(annotation.__forward_arg__)
        return [match.group(1)] if match else []
    return [name for arg in typing.get_args(annotation) for name in _forward_refs(arg)]


@functools.cache
def enum_values(model_name: str) -> dict[str, tuple[str, ...]]:
    """attribute -> allowed values, for every enum-typed attribute of a generated model."""
    model = getattr(_models, model_name)
    found: dict[str, tuple[str, ...]] = {}
    for name, parameter in inspect.signature(model.__init__).parameters.items():
        for ref in _forward_refs(parameter.annotation):
            candidate = getattr(_models, ref, None)
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                found[name] = tuple(str(member.value) for member in candidate)
    return found


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_value(type_name: str, value: Any, path: str, problems: list[str]) -> None:
    if type_name.startswith("[") and type_name.endswith("]"):
        if not isinstance(value, list):
            problems.append(f"{path}: expected an array, got {_type_name(value)}")
            return
        for index, item in enumerate(value):
            _check_value(type_name[1:-1], item, f"{path}[{index}]", problems)
        return
    if type_name.startswith("{") and type_name.endswith("}"):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {_type_name(value)}")
            return
        for key, item in value.items():
            _check_value(type_name[1:-1], item, f"{path}.{key}", problems)
        return
    if type_name in _PRIMITIVES:
        allowed = _PRIMITIVES[type_name]
        wrong_bool = isinstance(value, bool) and bool not in allowed
        if not isinstance(value, allowed) or wrong_bool:
            problems.append(f"{path}: expected {type_name}, got {_type_name(value)}")
        return
    check_model(type_name, value, path, problems)


def _resolve_subtype(model: Any, body: dict[str, Any], path: str, problems: list[str]) -> Any:
    subtypes: dict[str, dict[str, str]] = getattr(model, "_subtype_map", {}) or {}
    for attribute, mapping in subtypes.items():
        key = model._attribute_map[attribute]["key"]
        discriminator = body.get(key)
        if discriminator not in mapping:
            problems.append(f"{path}.{key}: must be one of {sorted(mapping)}, got {discriminator!r}")
            return None
        return getattr(_models, mapping[discriminator])
    return model


def check_model(model_name: str, body: Any, path: str, problems: list[str]) -> None:
    """Append a message for each way `body` breaks the generated model `model_name`."""
    if not isinstance(body, dict):
        problems.append(f"{path or '$'}: expected an object, got {_type_name(body)}")
        return
    model = _resolve_subtype(getattr(_models, model_name), body, path, problems)
    if model is None:
        return
    attribute_map: dict[str, dict[str, str]] = model._attribute_map
    validation: dict[str, dict[str, Any]] = getattr(model, "_validation", {}) or {}
    enums = enum_values(model.__name__)
    known_keys = {spec["key"] for spec in attribute_map.values()}
    for key in body:
        if key not in known_keys:
            problems.append(f"{path}.{key}: not a property of {model.__name__}")
    for attribute, spec in attribute_map.items():
        key, rules = spec["key"], validation.get(attribute, {})
        where = f"{path}.{key}"
        value = body.get(key)
        if value is None:
            if rules.get("required"):
                problems.append(f"{where}: required by {model.__name__}")
            continue
        if rules.get("readonly"):
            problems.append(f"{where}: read-only in {model.__name__}")
            continue
        _check_value(spec["type"], value, where, problems)
        allowed = enums.get(attribute)
        if allowed is not None:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item not in allowed:
                    problems.append(f"{where}: {item!r} is not one of {list(allowed)}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "maximum" in rules and value > rules["maximum"]:
                problems.append(f"{where}: above the maximum {rules['maximum']}")
            if "minimum" in rules and value < rules["minimum"]:
                problems.append(f"{where}: below the minimum {rules['minimum']}")


def validate(operation: str, body: Any) -> list[str]:
    """Problems with `body` for `operation` ([] when fine, or when the operation takes no body)."""
    model_name = OPERATION_MODELS.get(operation)
    if model_name is None:
        return []
    problems: list[str] = []
    check_model(model_name, body, "$", problems)
    return problems[:MAX_PROBLEMS]
