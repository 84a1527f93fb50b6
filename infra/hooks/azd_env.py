"""Thin shell around the azd CLI: read and set values of the current azd environment, run azd commands.

azd passes the environment's values to hooks as process environment variables, so reading needs no CLI call.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

AZD = "azd"


def set_value(name: str, value: str) -> None:
    """Store `name=value` in the azd environment (.azure/<env>/.env). Never prints the value."""
    subprocess.run([AZD, "env", "set", name, value], check=True, stdout=subprocess.DEVNULL)


def run(arguments: Sequence[str]) -> int:
    """Run `azd <arguments>` with its output shown to the user; return its exit code."""
    return subprocess.run([AZD, *arguments], check=False).returncode
