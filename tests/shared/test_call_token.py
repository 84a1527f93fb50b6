from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from shared.call_token import call_token, instance_id_for_call, is_valid_instance_id, verify_call_token

SECRET = "s" * 40


def test_token_is_unpadded_urlsafe_hmac_of_the_instance_id() -> None:
    expected = (
        base64.urlsafe_b64encode(hmac.new(SECRET.encode(), b"call-123", hashlib.sha256).digest()).rstrip(b"=").decode()
    )
    assert call_token(SECRET, "call-123") == expected
    assert "=" not in expected and len(expected) == 43


def test_verify_accepts_own_token_and_refuses_others() -> None:
    token = call_token(SECRET, "call-a")
    assert verify_call_token(SECRET, "call-a", token)
    assert not verify_call_token(SECRET, "call-b", token)  # a valid token for another call
    assert not verify_call_token("t" * 40, "call-a", token)  # another deployment's secret
    assert not verify_call_token(SECRET, "call-a", None)
    assert not verify_call_token(SECRET, "call-a", "")
    assert not verify_call_token(SECRET, "call-a", token[:-1])
    assert not verify_call_token(SECRET, "call-a", token + "=")


def test_instance_id_is_stable_per_call_and_safe() -> None:
    server_call_id = "aHR0cHM6Ly9hcGkuZmxpZ2h0cHJveHkuc2t5cGUuY29tL2FwaS92Mi9jcC9j/b25m+ZXJlbmNl=="
    first = instance_id_for_call(server_call_id)
    assert first == instance_id_for_call(server_call_id)
    assert first != instance_id_for_call(server_call_id + "x")
    assert is_valid_instance_id(first)


@given(st.text(max_size=300))
def test_instance_id_validation_rejects_url_changing_characters(candidate: str) -> None:
    if is_valid_instance_id(candidate):
        assert not any(char in candidate for char in "/\\#?")
        assert 0 < len(candidate) <= 256 and not candidate.startswith("@")


@given(st.text(max_size=100))
def test_derived_ids_are_always_valid(server_call_id: str) -> None:
    assert is_valid_instance_id(instance_id_for_call(server_call_id))
