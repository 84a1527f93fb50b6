"""Seeded mutations of valid inputs (pure): the long fuzz run's input generator.

Faster than hypothesis for tens of thousands of inputs and keeps going after a failure, so the run can count
outcomes instead of stopping at the first.
"""

from __future__ import annotations

import json
import random
from typing import Any

_STRINGS = ["", " ", "\x00", "\u2028", "💥", "A" * 5000, "../../etc/passwd", "%00", "null", "4:+14255550100",
            "Microsoft.Communication.CallConnected", "{", "[]", "<script>alert(1)</script>", "\ud7ff", "1e309"]
_NUMBERS: list[Any] = [0, -1, 2**63, -(2**64), 1e308, -1e-308, 0.5, 10**40]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.25:
        return rng.choice(_STRINGS + [rng.randbytes(rng.randint(0, 20)).decode("latin-1")])
    if roll < 0.45:
        return rng.choice(_NUMBERS + [rng.randint(-10**6, 10**6)])
    if roll < 0.55:
        return rng.choice([None, True, False])
    if roll < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.8:
        nested: Any = []
        for _ in range(rng.randint(50, 3000)):  # deep nesting
            nested = [nested]
        return nested
    return {rng.choice(_STRINGS[:6] + ["id", "type", "data", "kind"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list) and len(value) < 50:
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def mutate_value(seed: Any, rng: random.Random) -> Any:
    value = json.loads(json.dumps(seed))
    for _ in range(rng.randint(1, 3)):
        paths = _paths(value)
        if not paths:
            return random_value(rng)
        path = rng.choice(paths)
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.4:
            del parent[path[-1]]
        elif isinstance(parent, list) and rng.random() < 0.2:
            parent.append(json.loads(json.dumps(parent[path[-1]])))  # duplicate an element
        else:
            parent[path[-1]] = random_value(rng)
    return value


def mutate_bytes(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    roll = rng.random()
    if roll < 0.3 and data:
        return bytes(data[: rng.randint(0, len(data) - 1)])  # truncated
    if roll < 0.6:
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if roll < 0.8:
        return rng.randbytes(rng.randint(0, 2048))
    return bytes(data) * rng.randint(2, 40)  # repeated (large)


def mutated_body(seed: Any, rng: random.Random) -> bytes:
    """Mostly structurally mutated JSON; sometimes mutated or random bytes."""
    if rng.random() < 0.75:
        try:
            return json.dumps(mutate_value(seed, rng)).encode()
        except (RecursionError, ValueError):
            return b"[" * 10000
    return mutate_bytes(json.dumps(seed).encode(), rng)


def random_text(rng: random.Random, limit: int = 200) -> str:
    """A short hostile string (no nesting, so it can be put in a URL or header)."""
    return str(random_value(rng, depth=4))[:limit]
