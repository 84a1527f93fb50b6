"""One local stack (simulator, dev host with function_app, media host, ACS JWT on) per fuzz module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.local_stack import LocalStack, local_stack


@pytest.fixture(scope="module")
def fuzz_stack(azurite_connection_string: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with local_stack(azurite_connection_string, tmp_path_factory.mktemp("fuzz"), time_scale=0.05) as stack:
        yield stack
