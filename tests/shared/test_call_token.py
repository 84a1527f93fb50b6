"""shared.call_token: the instance id and per-call token forms that tools and infra rely on, pinned by known
answers, and the instance-id rules probed on both sides (safe ids accepted, each unsafe character refused)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.call_token import (
    INSTANCE_ID_PREFIX,
    MAX_INSTANCE_ID_LENGTH,
    call_token,
    instance_id_for_call,
    is_valid_instance_id,
    verify_call_token,
)

SECRET = "s" * 40


def test_instance_id_known_answers() -> None:
    # "call-" + the first 32 hex digits of SHA-256(serverCallId as UTF-8).
    assert (INSTANCE_ID_PREFIX, MAX_INSTANCE_ID_LENGTH) == ("call-", 256)
    assert instance_id_for_call("abc") == "call-ba7816bf8f01cfea414140de5dae2223"
    assert instance_id_for_call("é/+==") == "call-cb79369c5dcf6d8120d7324fefbb4ea1"


def test_token_known_answers() -> None:
    # Unpadded urlsafe base64 of HMAC-SHA256(secret, instance id), both as UTF-8: 43 characters.
    assert call_token(SECRET, "call-123") == "JJrNlGLIy0ONC3ndFZuciojAud5tuMWd5opLeTE4ikQ"
    assert call_token(SECRET, "call-0") == "0h2dLRBJB-3mrBR3KEeJN9uhBPKJi_E1QzD-S8awV5w"  # "-" and "_", not "+" "/"
    assert call_token("ü" * 3, "call-ä") == "LxBOo-w1SaB8U4lPg86J9-qcktOBnsTd_wQfq1-8yhM"


@given(st.text(max_size=40), st.text(max_size=80))
def test_token_is_unpadded_urlsafe_hmac_of_the_instance_id(secret: str, instance_id: str) -> None:
    mac = hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).digest()
    token = call_token(secret, instance_id)
    assert len(token) == 43 and base64.urlsafe_b64decode(token + "=") == mac
    assert verify_call_token(secret, instance_id, token)


def test_verify_accepts_own_token_and_refuses_others() -> None:
    token = call_token(SECRET, "call-a")
    assert verify_call_token(SECRET, "call-a", token)
    assert not verify_call_token(SECRET, "call-b", token)  # a valid token for another call
    assert not verify_call_token("t" * 40, "call-a", token)  # another deployment's secret
    assert not verify_call_token(SECRET, "call-a", None)
    assert not verify_call_token(SECRET, "call-a", "")
    assert not verify_call_token(SECRET, "call-a", token[:-1])
    assert not verify_call_token(SECRET, "call-a", token + "=")
    assert not verify_call_token(SECRET, "call-a", token + "\n")


def test_instance_id_is_stable_per_call_and_safe() -> None:
    server_call_id = "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHkuc2t5cGUuY29tL2FwaS92Mi9jcC9j/b25m+ZXJlbmNl=="
    first = instance_id_for_call(server_call_id)
    assert first == instance_id_for_call(server_call_id)
    assert first != instance_id_for_call(server_call_id + "x")
    assert is_valid_instance_id(first)


@pytest.mark.parametrize(("candidate", "valid"), [
    ("a", True),
    ("x" * 256, True),
    ("x" * 257, False),
    ("", False),
    ("@call", False),
    ("call@x", True),
    ("call-ü.é~!$&'()*+,;=:[]", True),
    ("a/b", False), ("a\\b", False), ("a#b", False), ("a?b", False),
    ("a b", False), ("a\tb", False), ("a\nb", False), ("a\rb", False),
    ("a\x00b", False), ("a\x1fb", False), ("a\x7fb", False),
    ("a\x85b", False), ("a\u2028b", False), ("a\u3000b", False),  # Unicode whitespace
    ("a\x80b", True), ("a\x9fb", True),  # C1 controls that are not whitespace: Durable allows them
])
def test_instance_id_rules(candidate: str, valid: bool) -> None:
    assert is_valid_instance_id(candidate) is valid


SAFE_CHARACTERS = st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="/\\#?@")
UNSAFE_CHARACTERS = st.sampled_from(["/", "\\", "#", "?", " ", "\t", "\n", "\x00", "\x1f", "\x7f", "\u2029"])


@given(st.text(SAFE_CHARACTERS, min_size=1, max_size=256), st.data())
def test_instance_id_validation_rejects_url_changing_characters(candidate: str, data: st.DataObject) -> None:
    # Both sides: a safe id is accepted, and the same id with one URL-changing character anywhere is not.
    assert is_valid_instance_id(candidate)
    shorter = candidate[:255]  # so that the id with one more character is still within the length limit
    position = data.draw(st.integers(0, len(shorter)))
    assert not is_valid_instance_id(shorter[:position] + data.draw(UNSAFE_CHARACTERS) + shorter[position:])
    assert not is_valid_instance_id("@" + candidate[:255])


@given(st.text(max_size=100))
def test_derived_ids_are_always_valid(server_call_id: str) -> None:
    derived = instance_id_for_call(server_call_id)
    assert is_valid_instance_id(derived)
    assert derived == "call-" + hashlib.sha256(server_call_id.encode("utf-8")).hexdigest()[:32]
