"""One answer per call: the delivery that creates the call's claim blob answers; every other delivery does not.

Starting the orchestration is not enough to decide who answers. On Azure Storage two concurrent starts of one
instance id can both succeed (DTFx AzureStorageOrchestrationService.CreateTaskOrchestrationAsync reads the
status, queues ExecutionStarted, and AzureTableTrackingStore.SetNewExecutionAsync ignores the insert conflict),
so a start may say "started" to two deliveries of one IncomingCall. The claim is a conditional create in Blob
storage (If-None-Match: *), which exactly one writer wins; the loser answers nothing and raises nothing, so a
refused duplicate never ends a live call.

The claim comes first (calls/events_http.py), and it also says whether the call's orchestration may already
exist. Nothing starts a call's orchestration without a claim blob in place, and nothing deletes the blob while
a redelivery of the call's IncomingCall can still come: a failed start marks its claim released instead, and
only age removes it (the retention timer and the storage lifecycle rule, after RETENTION_DAYS, at least one
day; Event Grid stops redelivering an IncomingCall after a minute, eventTimeToLiveInMinutes in
infra/modules/event-grid-subscription.bicep, and after 24 hours at most). So a claim created NEW proves that
no orchestration of this call exists, finished or not: its winner starts at once, without reading the status
first (one Durable round trip instead of two while the caller hears ringing). A start can then only replace
nothing; `overridableExistingInstanceStates: NonRunningStates` refuses it for a running instance.

A winner whose start failed marks its claim released (`release_claim`, conditional on its ETag) before asking
Event Grid to deliver again. The start may have happened all the same, so the redelivery that takes a released
claim over (TAKEN_OVER) reads the status before it starts, and a call that finished meanwhile is not replaced.

A delivery that claims and then crashes before starting leaves a claim no redelivery can take; the deliveries
that find it HELD still start the orchestration if none exists (status first), so the call is recorded as
missed rather than lost. Never two answers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobClient, ContainerClient

from calls import app_context
from shared.blob_names import answer_claim_blob

RELEASED = "releasedAt"


class Claim(Enum):
    NEW = "new"                  # this delivery created the claim: no orchestration of the call exists
    TAKEN_OVER = "taken_over"    # a released claim, now this delivery's: its orchestration may exist
    HELD = "held"                # another delivery holds it: not this delivery's to answer

    @property
    def won(self) -> bool:
        return self is not Claim.HELD


def claim_answer(instance_id: str, delivery_id: str) -> Claim:
    """This delivery's claim on answering the call (one round trip when it is the first)."""
    container = app_context.transcripts_container()
    for attempt in range(2):
        try:
            # overwrite=False sends If-None-Match: * (azure-storage-blob _upload_helpers.upload_block_blob); the
            # service answers 409 BlobAlreadyExists to every writer but the first.
            container.upload_blob(answer_claim_blob(instance_id), _claim_body(delivery_id), overwrite=False)
            return Claim.NEW
        except ResourceExistsError:
            return _take_over_released(container.get_blob_client(answer_claim_blob(instance_id)), delivery_id)
        except ResourceNotFoundError:
            if attempt:
                raise
            _create_container(container)
    raise ResourceNotFoundError("the claim container could not be created")


def release_claim(instance_id: str, delivery_id: str) -> bool:
    """Marks this delivery's claim released (its start failed, nothing was answered); True when it is.

    Conditional on the blob being the one this delivery wrote (its ETag), so another delivery's claim is kept.
    Marked, not deleted: the failed start may have created the orchestration (see the module's docstring).
    """
    blob = app_context.transcripts_container().get_blob_client(answer_claim_blob(instance_id))
    try:
        downloaded = blob.download_blob()
        claim = json.loads(downloaded.readall())
        if claim.get("deliveryId") != delivery_id or RELEASED in claim:
            return False
        body = json.dumps({**claim, RELEASED: datetime.now(UTC).isoformat()}).encode("utf-8")
        blob.upload_blob(body, overwrite=True, etag=downloaded.properties.etag,
                         match_condition=MatchConditions.IfNotModified)
    except (AzureError, ValueError):  # gone, changed by another writer, or storage unavailable: not released
        return False
    return True


def _take_over_released(blob: BlobClient, delivery_id: str) -> Claim:
    """TAKEN_OVER when the existing claim was released and this delivery's conditional write wins; else HELD."""
    try:
        downloaded = blob.download_blob()
        if RELEASED not in json.loads(downloaded.readall()):
            return Claim.HELD
        blob.upload_blob(_claim_body(delivery_id), overwrite=True, etag=downloaded.properties.etag,
                         match_condition=MatchConditions.IfNotModified)
    except (ResourceModifiedError, ResourceNotFoundError, ValueError):  # another delivery took it, or it is unreadable
        return Claim.HELD
    return Claim.TAKEN_OVER


def _claim_body(delivery_id: str) -> bytes:
    return json.dumps({"deliveryId": delivery_id, "claimedAt": datetime.now(UTC).isoformat()}).encode("utf-8")


def _create_container(container: ContainerClient) -> None:
    try:
        container.create_container()
    except ResourceExistsError:
        pass  # created by a concurrent delivery
