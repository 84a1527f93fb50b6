"""Injected failures: the next N requests of an operation answer 429 (with Retry-After) or 5xx."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class InjectedFault:
    status: int
    retry_after: float | None  # seconds; sent as Retry-After (whole seconds) and retry-after-ms


class FaultPlan:
    """Thread-safe queue of faults per operation name ("answer", "email", "terminate", "play", ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[InjectedFault]] = {}
        self.injected: list[tuple[str, InjectedFault]] = []

    def fail_next(self, operation: str, *, status: int = 429, times: int = 1, retry_after: float | None = None) -> None:
        if times < 1:
            raise ValueError("times must be >= 1")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._pending.setdefault(operation, []).extend([InjectedFault(status, retry_after)] * times)

    def take(self, operation: str) -> InjectedFault | None:
        with self._lock:
            queue = self._pending.get(operation)
            if not queue:
                return None
            fault = queue.pop(0)
            self.injected.append((operation, fault))
            return fault

    def pending(self, operation: str) -> int:
        with self._lock:
            return len(self._pending.get(operation, []))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
