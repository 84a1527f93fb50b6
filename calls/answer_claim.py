"""One answer per call: the delivery that creates the call's claim blob answers; every other delivery does not.

Starting the orchestration is not enough to decide who answers. On Azure Storage two concurrent starts of one
instance id can both succeed (DTFx AzureStorageOrchestrationService.CreateTaskOrchestrationAsync reads the
status, queues ExecutionStarted, and AzureTableTrackingStore.SetNewExecutionAsync ignores the insert conflict),
so `start_once` may say True to two deliveries of one IncomingCall. The claim is a conditional create in Blob
storage (If-None-Match: *), which exactly one writer wins; the loser answers nothing and raises nothing, so a
refused duplicate never ends a live call.

The claim runs beside the orchestration's start (calls/events_http.py), so the winner answers only when the
orchestration exists and is live; a winner whose start failed releases its claim (`release_claim`) before
asking Event Grid to deliver again, so that the redelivery can claim and answer.

A delivery that claims and then crashes before answering leaves a claim that no redelivery can take: the call
then rings out and the orchestration records a missed call, which is the safe side (never two answers).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from calls import app_context
from shared.blob_names import answer_claim_blob


def claim_answer(instance_id: str, delivery_id: str) -> bool:
    """True for the one delivery allowed to answer this call; False when another delivery already claimed it."""
    container = app_context.transcripts_container()
    body = json.dumps({"deliveryId": delivery_id, "claimedAt": datetime.now(UTC).isoformat()}).encode("utf-8")
    for attempt in range(2):
        try:
            # overwrite=False sends If-None-Match: * (azure-storage-blob _upload_helpers.upload_block_blob); the
            # service answers 409 BlobAlreadyExists to every writer but the first.
            container.upload_blob(answer_claim_blob(instance_id), body, overwrite=False)
            return True
        except ResourceExistsError:
            return False
        except ResourceNotFoundError:
            if attempt:
                raise
            _create_container(container)
    return False


def release_claim(instance_id: str, delivery_id: str) -> bool:
    """Deletes this delivery's claim (its start failed, nothing was answered); True when it is gone.

    Conditional on the blob being the one this delivery wrote (its ETag), so another delivery's claim is kept.
    """
    blob = app_context.transcripts_container().get_blob_client(answer_claim_blob(instance_id))
    try:
        downloaded = blob.download_blob()
        if json.loads(downloaded.readall()).get("deliveryId") != delivery_id:
            return False
        blob.delete_blob(etag=downloaded.properties.etag, match_condition=MatchConditions.IfNotModified)
    except ResourceNotFoundError:
        return True
    except (AzureError, ValueError):  # changed by another writer, or storage unavailable: kept
        return False
    return True


def _create_container(container: ContainerClient) -> None:
    try:
        container.create_container()
    except ResourceExistsError:
        pass  # created by a concurrent delivery
