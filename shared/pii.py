"""Masking of phone numbers and communication identifiers for logs, telemetry and event payloads.

A masked number keeps at most the country code, the first three national digits and the last two digits
("+15551234567" -> "+1 555 *** **67"), enough to tell calls apart while revealing no callable number. The
masked middle has a fixed width so that the length of the number is not revealed either.
"""

from __future__ import annotations

import logging
import re

_ONE_DIGIT_COUNTRY_CODES = frozenset({"1", "7"})
# ITU-T E.164 two-digit country codes; every other code is three digits long.
_TWO_DIGIT_COUNTRY_CODES = frozenset(
    {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49"}
    | {"51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66"}
    | {"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"}
)
MIN_PHONE_DIGITS = 7
# A national number shows its first three digits only when at least three more stay hidden between them
# and the last two.
_MIN_NATIONAL_DIGITS_FOR_PREFIX = 8
_HIDDEN = "*** **"
_FULLY_HIDDEN = "***"

# Phone-number-like text: an optional "+" or "(", then 7 to 20 digits with at most two separators between
# digits. Not preceded or followed by a word character, or by "-"/"." glued to one, so that UUIDs, hex ids
# and version strings are left alone. The bounded repetition keeps the scan linear.
_PHONE_LIKE = re.compile(r"(?<![\w+])(?<!\w[-.])(?:\+|\()?\d(?:[ \-.()]{0,2}\d){6,19}(?!\w)(?![-.]\w)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2})?")
_COMMUNICATION_USER_PREFIX = re.compile(r"\d{1,2}:(?:[a-z][a-z-]{0,20}:){0,3}")
_PHONE_RAW_ID_PREFIX = "4:"
_SHORTENED_KEEP = 4
# Output of the functions below, recognised so that masking twice changes nothing (callers often store a
# masked id and render it again later). These shapes reveal no more than a masked value does.
_MASKED_NUMBER = re.compile(r"(?:\+\d{1,3} (?:\d{3} )?)?\*\*\* \*\*\d\d|\*\*\*")
_SHORTENED = re.compile(r".{0,4}\.\.\..{0,4}", re.DOTALL)


def country_code_of(digits: str) -> str:
    """The ITU country code at the start of an international number's digits."""
    if digits[:1] in _ONE_DIGIT_COUNTRY_CODES:
        return digits[:1]
    if digits[:2] in _TWO_DIGIT_COUNTRY_CODES:
        return digits[:2]
    return digits[:3]


def mask_phone_number(number: str) -> str:
    """ "+15551234567" -> "+1 555 *** **67"; numbers without "+" or too short keep only the last 2 digits."""
    if _MASKED_NUMBER.fullmatch(number.strip()):
        return number.strip()
    digits = "".join(character for character in number if character.isascii() and character.isdigit())
    if len(digits) <= 2:
        return _FULLY_HIDDEN
    last_two = digits[-2:]
    if not number.strip().startswith("+") or len(digits) < MIN_PHONE_DIGITS:
        return f"{_HIDDEN}{last_two}"
    country_code = country_code_of(digits)
    national = digits[len(country_code) :]
    if len(national) >= _MIN_NATIONAL_DIGITS_FOR_PREFIX:
        return f"+{country_code} {national[:3]} {_HIDDEN}{last_two}"
    return f"+{country_code} {_HIDDEN}{last_two}"


def _shorten(value: str) -> str:
    if _SHORTENED.fullmatch(value):
        return value
    if len(value) <= 2 * _SHORTENED_KEEP + 3:
        return value[:2] + "..." if len(value) > 4 else "..."
    return f"{value[:_SHORTENED_KEEP]}...{value[-_SHORTENED_KEEP:]}"


def mask_raw_id(raw_id: str) -> str:
    """Mask a communication identifier's raw id.

    "4:+15551234567" -> "4:+1 555 *** **67"; "8:acs:<resource>_<guid>" keeps "8:acs:" and shortens the rest;
    anything else is shortened and has any phone-number-like text masked.
    """
    if raw_id.startswith(_PHONE_RAW_ID_PREFIX):
        return _PHONE_RAW_ID_PREFIX + mask_phone_number(raw_id[len(_PHONE_RAW_ID_PREFIX) :])
    if raw_id.lstrip().startswith("+") or _MASKED_NUMBER.fullmatch(raw_id.strip()):
        return mask_phone_number(raw_id)
    prefix_match = _COMMUNICATION_USER_PREFIX.match(raw_id)
    prefix = prefix_match.group(0) if prefix_match else ""
    return prefix + mask_phone_numbers_in_text(_shorten(raw_id[len(prefix) :]))


def _mask_match(match: re.Match[str]) -> str:
    candidate = match.group(0)
    if _ISO_DATE.fullmatch(candidate):
        return candidate
    masked = mask_phone_number(candidate.lstrip("("))
    return masked


def mask_phone_numbers_in_text(text: str) -> str:
    """Mask every phone-number-like sequence (E.164, spaces/dashes/dots/parentheses, >= 7 digits) in text."""
    return _PHONE_LIKE.sub(_mask_match, text)


class PhoneNumberMaskingFilter(logging.Filter):
    """Rewrites each record's message (formatted with its args), exception and stack text with phone numbers
    masked, so that no raw number reaches any handler. Attach it to handlers (or loggers) early."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  # a broken format string must not lose the record or leak args
            message = str(record.msg)
        record.msg = mask_phone_numbers_in_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is masked once here.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phone_numbers_in_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phone_numbers_in_text(record.stack_info)
        return True
