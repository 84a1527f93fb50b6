"""Shared fixtures: Azurite, settings for a test deployment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tools.azurite import running_azurite

TEST_CALL_TOKEN_SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    """A connection string for Azurite: the one `make test` started, or one started for this session."""
    given = os.environ.get("AzureWebJobsStorage")
    if given and "127.0.0.1" in given:
        yield given
        return
    with running_azurite() as endpoints:
        yield endpoints.connection_string
