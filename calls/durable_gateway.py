"""The few Durable client operations the HTTP functions need, with the SDK's bare exceptions mapped.

The Python durable client reports a conflict on start (409) and a finished or unknown instance on raise
(410/404) only as a bare `Exception` with a message; this adapter turns those into plain results.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import Enum

import azure.durable_functions as df

from shared.call_inbox import INBOX_EVENT, inbox_payload

log = logging.getLogger(__name__)


class RaiseResult(Enum):
    RAISED = "raised"
    FINISHED = "finished"      # the instance completed, failed or was terminated
    NOT_FOUND = "not_found"


# An instance in one of these exists and will take the call's events (Durable's OrchestrationRuntimeStatus).
LIVE_STATES = frozenset({"Pending", "Running", "Suspended"})


@dataclass(frozen=True)
class StartResult:
    started: bool            # this request created the instance
    existing: str | None     # otherwise the runtime status it found

    @property
    def live(self) -> bool:
        """The call's orchestration exists and is not finished, whoever started it."""
        return self.started or self.existing in LIVE_STATES


class DurableGateway:
    def __init__(self, client: df.DurableOrchestrationClient) -> None:
        self._client = client

    async def runtime_status(self, instance_id: str) -> str | None:
        """The instance's runtime status name, or None when there is no such instance."""
        try:
            status = await self._client.get_status(instance_id)
        except Exception:  # noqa: BLE001 - a 404 arrives as a body the SDK cannot parse
            return None
        runtime = getattr(status, "runtime_status", None)
        if runtime is None:
            return None
        return str(getattr(runtime, "value", runtime))

    async def orchestration_input(self, instance_id: str) -> dict[str, object] | None:
        """The instance's input as a JSON object, or None (no such instance, or no object input)."""
        try:
            status = await self._client.get_status(instance_id, show_input=True)
        except Exception:  # noqa: BLE001 - a 404 arrives as a body the SDK cannot parse
            return None
        value = getattr(status, "input_", None)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        return value if isinstance(value, dict) else None

    async def start_once(self, orchestrator: str, instance_id: str, payload: dict[str, object]) -> StartResult:
        """Start the instance unless it already exists: whether this call started it, else the status found.

        A check first, so that a redelivery after the call finished does not replace its history; then the
        start itself, which the host refuses for a running instance (NonRunningStates), so concurrent
        duplicates still start exactly one.
        """
        existing = await self.runtime_status(instance_id)
        if existing is not None:
            return StartResult(started=False, existing=existing)
        return await self.start_new(orchestrator, instance_id, payload)

    async def start_new(self, orchestrator: str, instance_id: str, payload: dict[str, object]) -> StartResult:
        """Start without reading the status first: only for an instance known never to have existed (an
        IncomingCall's NEW answer claim, calls/answer_claim.py), since a start replaces a finished instance.
        A running one is refused (NonRunningStates) and reported with its status, as by `start_once`."""
        try:
            await self._client.start_new(orchestrator, instance_id, payload)
        except Exception:
            existing = await self.runtime_status(instance_id)
            if existing is not None:
                return StartResult(started=False, existing=existing)
            raise
        return StartResult(started=True, existing=None)

    async def raise_event(self, instance_id: str, kind: str, payload: dict[str, object]) -> RaiseResult:
        """Raise one event of `kind` on the call's single inbox (shared/call_inbox.py)."""
        try:
            await self._client.raise_event(instance_id, INBOX_EVENT, inbox_payload(kind, payload))
        except Exception as error:  # noqa: BLE001 - the SDK raises bare exceptions for 404 and 410
            message = str(error)
            if "is gone" in message:
                return RaiseResult.FINISHED
            if "No instance with ID" in message:
                return RaiseResult.NOT_FOUND
            raise
        return RaiseResult.RAISED
