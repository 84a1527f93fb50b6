"""azd preprovision hook: make sure the azd environment has a CALL_TOKEN_SECRET.

The secret is generated once per azd environment and then reused, because rotating it on every provision would
invalidate the tokens of calls in progress. main.bicep stores it in Key Vault; both apps read it from there.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping

SECRET_NAME = "CALL_TOKEN_SECRET"
MIN_LENGTH = 32  # shared/settings.py refuses shorter secrets


def needs_new_secret(environ: Mapping[str, str]) -> bool:
    """True when the environment has no usable CALL_TOKEN_SECRET (missing, blank or too short)."""
    return len(environ.get(SECRET_NAME, "").strip()) < MIN_LENGTH


def new_secret() -> str:
    """A random secret of 64 URL-safe characters (384 bits)."""
    return secrets.token_urlsafe(48)


def main() -> int:
    if not needs_new_secret(os.environ):
        return 0
    # Imported here so the pure functions above load without the azd shell.
    from infra.hooks import azd_env

    azd_env.set_value(SECRET_NAME, new_secret())
    print(f"preprovision: generated {SECRET_NAME} for this azd environment (stored in .azure/, never committed)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.exit(main())
