"""Where each call's artefacts live in the transcripts container. Both processes use these names."""

from __future__ import annotations


def call_prefix(instance_id: str) -> str:
    return f"calls/{instance_id}/"


def answer_claim_blob(instance_id: str) -> str:
    """Created once, conditionally, by the delivery that may answer the call (calls/answer_claim.py)."""
    return f"calls/{instance_id}/answer.claim"


def transcript_blob(instance_id: str) -> str:
    """Append blob, one JSON line per final transcript segment (written by the media host)."""
    return f"calls/{instance_id}/transcript.jsonl"


def media_report_blob(instance_id: str) -> str:
    """Frame counts and gaps, written by the media host when the socket closes."""
    return f"calls/{instance_id}/media.json"


def summary_blob(instance_id: str) -> str:
    """The rendered summary (subject, plain text, HTML), kept whether or not the email goes out."""
    return f"calls/{instance_id}/summary.json"


def email_receipt_blob(instance_id: str) -> str:
    """Written once the summary email is accepted by ACS, so a retried activity does not send twice."""
    return f"calls/{instance_id}/email.json"


def recording_blob(instance_id: str, index: int, extension: str) -> str:
    """One chunk of the call's recording, downloaded from ACS when it keeps the file (no bring-your-own-storage)."""
    return f"calls/{instance_id}/recording-{index}.{extension}"
