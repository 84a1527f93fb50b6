"""The daily digest (timer trigger, where `DIGEST_EMAIL_TO` is set): one email a day with the previous local
day's calls from the call index, sent through the same ACS Email client as the call summaries.

The timer runs every quarter hour; the pure core (shared/daily_digest.py) says whether a day is due. Each day
has one marker row in the `digests` table (PartitionKey = the local day as yyyymmdd, so the retention purge
removes it with the day): a run claims it with a conditional create (or, when an earlier run died holding it,
a conditional update on its ETag), sends, then marks it sent. Two instances, or a rerun, therefore send one
digest a day; a failed send gives the claim back so the next run retries, under the same operation id (ACS
refuses a second delivery of one operation id).

The dev host does not run timer triggers; tests call `run_digest(now)` as the Functions host would.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

import azure.durable_functions as df
import azure.functions as func
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from calls import app_context, call_index
from calls.storage_tables import table_client
from shared.app_config import AppConfig
from shared.call_lifecycle import iso
from shared.daily_digest import SENDING, SENT, claim_action, day_window, digest_call, due_day
from shared.digest_render import render_digest

bp = df.Blueprint()
log = logging.getLogger(__name__)
SCHEDULE = "0 7,22,37,52 * * * *"  # every quarter hour, off the quarter itself when other jobs start
MARKER_TABLE = "digests"
MARKER_ROW = "digest"
_NAMESPACE = uuid.UUID("0f0c7f4e-5b1a-4c7e-9a8e-6d1f0b7d2c31")


@dataclass(frozen=True)
class DigestRun:
    status: str  # "off", "not_due", "skipped" (sent already, or another run holds the day), "sent"
    day: date | None = None
    calls: int = 0
    operation_id: str | None = None


def digest_zone(config: AppConfig) -> tzinfo:
    """The business hours' time zone (CALL_TIMEZONE), else UTC."""
    hours = config.answer_policy.business_hours
    return hours.zone if hours is not None else UTC


def digest_operation_id(day: date) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"digest/{day.isoformat()}"))


def _claim(markers: TableClient, partition: str, now: datetime) -> str | None:
    """The ETag of this run's claim on the day, or None when the day is sent or claimed by another run."""
    try:
        marker = markers.get_entity(partition, MARKER_ROW)
    except ResourceNotFoundError:
        marker = None
    action = claim_action(marker, now)
    entity = {"PartitionKey": partition, "RowKey": MARKER_ROW, "state": SENDING, "claimedAt": iso(now)}
    try:
        if action == "create":
            return str(markers.create_entity(entity)["etag"])
        if action == "take_over" and marker is not None:
            return str(markers.update_entity(entity, mode=UpdateMode.REPLACE, etag=marker.metadata["etag"],
                                             match_condition=MatchConditions.IfNotModified)["etag"])
    except (ResourceExistsError, ResourceModifiedError):
        pass  # another run claimed it between our read and our write
    return None


def run_digest(now: datetime) -> DigestRun:
    """Send the digest that is due at `now`, if any and not sent yet."""
    config = app_context.config()
    if not config.digest.enabled:
        return DigestRun("off")
    day = due_day(now, config.digest.send_at, digest_zone(config))
    if day is None:
        return DigestRun("not_due")
    return send_digest(day, now)


def send_digest(day: date, now: datetime) -> DigestRun:
    """Send the digest of the local `day` once (the marker row decides); Azure errors propagate."""
    config = app_context.config()
    markers = table_client(config.core.storage, MARKER_TABLE)
    partition = day.strftime("%Y%m%d")
    etag = _claim(markers, partition, now)
    if etag is None:
        return DigestRun("skipped", day)
    operation_id = digest_operation_id(day)
    try:
        zone = digest_zone(config)
        rows, truncated = call_index.calls_between(*day_window(day, zone))
        rendered = render_digest(day, [digest_call(row) for row in rows], zone, config.core.callback_base_url,
                                 truncated)
        message = {
            "senderAddress": config.core.email_sender,
            "recipients": {"to": [{"address": address} for address in config.digest.recipients]},
            "content": {"subject": rendered.subject, "plainText": rendered.plain_text, "html": rendered.html},
            "headers": {"X-Call-Digest": day.isoformat()},
        }
        result = app_context.email_client().begin_send(message, operation_id=operation_id).result()
        status = str((result or {}).get("status", "Unknown"))
        if status.lower() != "succeeded":
            raise RuntimeError(f"digest email for {day.isoformat()} ended with status {status}")
    except BaseException:
        # Give the day back so the next run retries (conditional: only our own claim).
        try:
            markers.delete_entity(partition, MARKER_ROW, etag=etag, match_condition=MatchConditions.IfNotModified)
        except ResourceModifiedError:
            pass
        raise
    markers.update_entity({"PartitionKey": partition, "RowKey": MARKER_ROW, "state": SENT, "claimedAt": iso(now),
                           "sentAt": iso(datetime.now(UTC)), "operationId": operation_id, "calls": len(rows)},
                          mode=UpdateMode.REPLACE)
    return DigestRun("sent", day, len(rows), operation_id)


@bp.timer_trigger(schedule=SCHEDULE, arg_name="timer", run_on_startup=False, use_monitor=True)
def daily_digest(timer: func.TimerRequest) -> None:
    run = run_digest(datetime.now(UTC))
    if run.status == "sent":
        log.info("Daily digest of %s sent: %d calls (operation %s)", run.day, run.calls, run.operation_id)
