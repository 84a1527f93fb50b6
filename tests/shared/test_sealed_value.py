from __future__ import annotations

import base64

import pytest

from shared.sealed_value import (
    CALLER,
    MAX_PLAINTEXT_CHARS,
    NONCE_BYTES,
    PREFIX,
    TRANSFER_TARGET,
    SealError,
    seal,
    unseal,
)

SECRET = "s" * 40
NONCE = bytes(range(12))
CALL = "call-0123456789abcdef0123456789abcdef"


def test_a_sealed_value_opens_only_with_its_secret_purpose_and_call() -> None:
    sealed = seal(SECRET, NONCE, CALLER, CALL, "4:+14255550123")
    assert sealed.startswith(PREFIX) and "4255550123" not in sealed
    assert unseal(SECRET, CALLER, CALL, sealed) == "4:+14255550123"
    for secret, purpose, call in ((SECRET + "x", CALLER, CALL), (SECRET, TRANSFER_TARGET, CALL),
                                  (SECRET, CALLER, CALL + "0")):
        with pytest.raises(SealError, match="does not verify"):
            unseal(secret, purpose, call, sealed)


def test_known_answer_form() -> None:
    sealed = seal(SECRET, NONCE, CALLER, CALL, "x")
    raw = base64.urlsafe_b64decode(sealed[len(PREFIX):] + "=" * (-len(sealed[len(PREFIX):]) % 4))
    assert NONCE_BYTES == 12 and raw[:12] == NONCE
    assert len(raw) == 12 + 1 + 16  # nonce, one byte of ciphertext, the GCM tag
    assert "=" not in sealed
    assert seal(SECRET, NONCE, CALLER, CALL, "x") == sealed  # deterministic for a given nonce
    assert seal(SECRET, bytes(12), CALLER, CALL, "x") != sealed


def test_tampering_and_garbage_are_refused() -> None:
    sealed = seal(SECRET, NONCE, CALLER, CALL, "8:acs:user")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for bad, message in ((flipped, "does not verify"), ("v2." + sealed[3:], "not a sealed value"),
                         ("v1.", "too short"), ("v1.%%%", "not a sealed value"), (sealed[:30], "too short")):
        with pytest.raises(SealError, match=message):
            unseal(SECRET, CALLER, CALL, bad)


def test_inputs_are_bounded() -> None:
    with pytest.raises(ValueError, match="nonce must be 12 bytes"):
        seal(SECRET, bytes(11), CALLER, CALL, "x")
    with pytest.raises(ValueError, match="1 to 512"):
        seal(SECRET, NONCE, CALLER, CALL, "")
    assert MAX_PLAINTEXT_CHARS == 512
    longest = "a" * 512
    assert unseal(SECRET, CALLER, CALL, seal(SECRET, NONCE, CALLER, CALL, longest)) == longest
    with pytest.raises(ValueError):
        seal(SECRET, NONCE, CALLER, CALL, longest + "a")
