from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.pii import (
    PhoneNumberMaskingFilter,
    country_code_of,
    mask_phone_number,
    mask_phone_numbers_in_text,
    mask_raw_id,
)


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+15551234567", "+1 555 *** **67"),
        ("+1 (555) 123-4567", "+1 555 *** **67"),
        ("+79161234567", "+7 916 *** **67"),
        ("+447911123456", "+44 791 *** **56"),
        ("+4930123456", "+49 301 *** **56"),
        ("+33612345678", "+33 612 *** **78"),
        ("+353861234567", "+353 861 *** **67"),
        ("+3725551234", "+372 *** **34"),  # national part too short to show a prefix
        ("5551234567", "*** **67"),  # no country code: only the last two
        ("911", "*** **11"),
        ("12", "***"),
        ("", "***"),
        ("+", "***"),
    ],
)
def test_mask_phone_number(number: str, masked: str) -> None:
    assert mask_phone_number(number) == masked


@pytest.mark.parametrize(
    ("digits", "code"),
    [
        ("15551234567", "1"),
        ("74951234567", "7"),
        ("2012345678", "20"),
        ("27123456789", "27"),
        ("36123456789", "36"),
        ("35312345678", "353"),
        ("21212345678", "212"),
        ("98912345678", "98"),
        ("97212345678", "972"),
        ("86123456789", "86"),
        ("85212345678", "852"),
    ],
)
def test_country_codes_follow_the_itu_table(digits: str, code: str) -> None:
    assert country_code_of(digits) == code


@pytest.mark.parametrize(
    ("raw_id", "masked"),
    [
        ("4:+15551234567", "4:+1 555 *** **67"),
        ("4:15551234567", "4:*** **67"),
        ("+15551234567", "+1 555 *** **67"),
        (
            "8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-2033-438d-1000-343a0d006e10",
            "8:acs:98e4...6e10",
        ),
        ("8:orgid:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "8:orgid:0b1c...e9f0"),
        ("28:orgid:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "28:orgid:0b1c...e9f0"),
        ("8:acs:short", "8:acs:sh..."),
        ("abc", "..."),
    ],
)
def test_mask_raw_id(raw_id: str, masked: str) -> None:
    assert mask_raw_id(raw_id) == masked


def test_acs_user_id_keeps_little_of_the_user_part() -> None:
    raw_id = "8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-2033-438d-1000-343a0d006e10"
    masked = mask_raw_id(raw_id)
    assert masked.startswith("8:acs:")
    assert "063c4a72d711" not in masked and "00000014-2033" not in masked
    assert len(masked) < 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +15551234567 now", "call +1 555 *** **67 now"),
        ("call (555) 123-4567.", "call *** **67."),
        ("from +44 7911 123456, to +1-555-123-4567", "from +44 791 *** **56, to +1 555 *** **67"),
        ("raw 4:+15551234567 joined", "raw 4:+1 555 *** **67 joined"),
        ("dial 555.123.4567", "dial *** **67"),
    ],
)
def test_numbers_in_text_are_masked(text: str, expected: str) -> None:
    assert mask_phone_numbers_in_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "correlation d732db64-4803-462d-be9c-518943ea2b7a",
        "user 8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-2033-438d-1000-343a0d006e10",
        "at 2026-11-25 22:29:23 and 2026-11-25T22:29:23Z",
        "version 1.2.3, code 123456, port 50000, 12:30",
        "instance call-0123456789abcdef0123456789abcdef",
        "",
    ],
)
def test_non_numbers_are_left_alone(text: str) -> None:
    assert mask_phone_numbers_in_text(text) == text


def test_long_pathological_text_is_masked_quickly() -> None:
    import time

    text = "1 " * 200_000 + "x"
    started = time.perf_counter()
    masked = mask_phone_numbers_in_text(text)
    assert time.perf_counter() - started < 2.0
    assert "1 1 1 1 1 1 1" not in masked


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="+0123456789 -()", max_size=30))
def test_masked_number_never_contains_the_full_digit_string(number: str) -> None:
    digits = digits_of(number)
    masked = mask_phone_number(number)
    if digits:
        assert digits not in digits_of(masked)
    # at most country code (3) + first three + last two digits survive
    assert len(digits_of(masked)) <= 8
    assert len(digits_of(masked)) < max(len(digits), 1)


e164_numbers = st.builds(
    lambda code, national: f"+{code}{national}",
    st.sampled_from(["1", "7", "44", "49", "86", "353", "972", "212"]),
    st.text(alphabet="0123456789", min_size=6, max_size=12),
)


def _formatted(number: str, style: int) -> str:
    digits = number[1:]
    if style == 0:
        return number
    if style == 1:
        return "+" + " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
    if style == 2:
        return "+" + "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    return f"+{digits[:2]} ({digits[2:5]}) {digits[5:]}"


@settings(max_examples=500, deadline=None)
@given(
    e164_numbers,
    st.integers(0, 3),
    st.text(alphabet="abc ,.:;!?\n", max_size=20),
    st.text(alphabet="abc ,:;!?\n", max_size=20),
)
def test_numbers_embedded_in_text_never_survive(number: str, style: int, before: str, after: str) -> None:
    text = f"{before} {_formatted(number, style)} {after}"
    masked = mask_phone_numbers_in_text(text)
    assert digits_of(number) not in digits_of(masked)


@settings(max_examples=300, deadline=None)
@given(e164_numbers)
def test_raw_phone_ids_never_survive(number: str) -> None:
    assert digits_of(number) not in digits_of(mask_raw_id("4:" + number))


@pytest.fixture
def captured_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(PhoneNumberMaskingFilter())
    logger = logging.getLogger("tests.shared.test_pii")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def test_filter_masks_message_and_args(captured_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured_logger
    logger.info("incoming call from %s to %r", "+15551234567", {"to": "4:+447911123456"})
    logger.warning("raw %s", "+1 (555) 987-6543")
    output = stream.getvalue()
    assert "15551234567" not in output and "447911123456" not in output and "987-6543" not in output
    assert "INFO incoming call from +1 555 *** **67 to {'to': '4:+44 791 *** **56'}" in output


def test_filter_masks_tracebacks(captured_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured_logger
    try:
        raise ValueError("bad caller +15551234567")
    except ValueError:
        logger.exception("failed for %s", "+15550001111")
    output = stream.getvalue()
    assert "Traceback" in output and "ValueError" in output
    assert "15551234567" not in output and "15550001111" not in output


def test_filter_keeps_records_with_broken_format_strings(captured_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured_logger
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s %s +15551234567", ("only-one",), None)
    assert PhoneNumberMaskingFilter().filter(record) is True
    assert "15551234567" not in record.getMessage()
    logger.handle(record)
    assert "+1 555 *** **67" in stream.getvalue()


raw_ids = (
    e164_numbers.map(lambda number: "4:" + number)
    | st.text(alphabet="0123456789abcdef-", min_size=1, max_size=40).map(lambda rest: "8:acs:" + rest)
    | st.text(max_size=30)
)


@settings(max_examples=400, deadline=None)
@given(raw_ids)
def test_masking_twice_changes_nothing(raw_id: str) -> None:
    once = mask_raw_id(raw_id)
    assert mask_raw_id(once) == once
    number = mask_phone_number(raw_id)
    assert mask_phone_number(number) == number
    text = mask_phone_numbers_in_text(raw_id)
    assert mask_phone_numbers_in_text(text) == text


@pytest.mark.parametrize("sneaky", ["+15551234567 *** **67", "*** **67 +15551234567", "+1 5551234567 *** **67"])
def test_a_masked_shape_does_not_shield_a_real_number(sneaky: str) -> None:
    assert "5551234567" not in digits_of(mask_phone_number(sneaky))
    assert "5551234567" not in digits_of(mask_raw_id("4:" + sneaky))


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="0123456789:+-_abcdefxyz ", max_size=60)
    | st.builds(lambda digits: f"8:x{digits}:acs:{digits}", st.text(alphabet="0123456789", min_size=7, max_size=15))
)
def test_masked_raw_ids_never_hold_a_long_digit_run(raw_id: str) -> None:
    assert re.search(r"\d{5,}", mask_raw_id(raw_id)) is None
