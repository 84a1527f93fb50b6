"""Phone numbers never appear whole in progress output or logs."""

from __future__ import annotations

import re

_PHONE = re.compile(r"\+\d{6,15}")


def mask_phone(number: str) -> str:
    return number[:3] + "*" * max(0, len(number) - 5) + number[-2:] if len(number) > 5 else "***"


def mask_text(text: str) -> str:
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
