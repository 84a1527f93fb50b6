"""ACS Email send requests: validation and rendering as an RFC 5322 message (stdlib `email`). No I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from tools.acs_simulator.acs_errors import AcsError
from tools.acs_simulator.records import DeliveredEmail

MAX_RECIPIENTS = 50


class InvalidRecipientsError(ValueError):
    """A recipients list is not a list of {address, displayName} objects."""


def _addresses(recipients: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    entries = recipients.get(kind) or []
    if not isinstance(entries, list):
        raise InvalidRecipientsError(f"recipients.{kind} must be a list")
    out: list[tuple[str, str]] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str) or "@" not in entry["address"]:
            raise InvalidRecipientsError(f"recipients.{kind} entries need an email address")
        out.append((str(entry.get("displayName") or ""), entry["address"]))
    return out


def parse_send_request(body: Any, operation_id: str) -> DeliveredEmail | AcsError:
    """Validate as the service does (sender, at least one `to`, subject, a body, <= 50 recipients)."""
    if not isinstance(body, dict):
        return AcsError(400, "BadRequest", "The request body must be a JSON object.")
    sender = body.get("senderAddress")
    content = body.get("content")
    recipients = body.get("recipients")
    if not isinstance(sender, str) or "@" not in sender:
        return AcsError(400, "BadRequest", "senderAddress is required.")
    if not isinstance(content, dict) or not isinstance(content.get("subject"), str):
        return AcsError(400, "BadRequest", "content.subject is required.")
    if not isinstance(recipients, dict):
        return AcsError(400, "BadRequest", "recipients is required.")
    try:
        to, cc, bcc = (_addresses(recipients, k) for k in ("to", "cc", "bcc"))
    except InvalidRecipientsError as exc:
        return AcsError(400, "BadRequest", str(exc))
    if not to:
        return AcsError(400, "BadRequest", "recipients.to needs at least one address.")
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        return AcsError(400, "BadRequest", f"At most {MAX_RECIPIENTS} recipients are allowed.")
    plain, html = content.get("plainText"), content.get("html")
    if not isinstance(plain, str) and not isinstance(html, str):
        return AcsError(400, "BadRequest", "content needs plainText or html.")
    return DeliveredEmail(
        operation_id=operation_id,
        sender=sender,
        to=tuple(formataddr(a) for a in to),
        cc=tuple(formataddr(a) for a in cc),
        bcc=tuple(formataddr(a) for a in bcc),
        subject=content["subject"],
        plain_text=plain if isinstance(plain, str) else None,
        html=html if isinstance(html, str) else None,
        request_json=body,
    )


def render_eml(email: DeliveredEmail, sent_at: datetime | None = None) -> bytes:
    """multipart/alternative with text then html (the order mail clients prefer the last of)."""
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    if email.cc:
        message["Cc"] = ", ".join(email.cc)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(sent_at or datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=email.operation_id[:32], domain="acs-simulator.invalid")
    message["X-ACS-Operation-Id"] = email.operation_id
    message.set_content(email.plain_text if email.plain_text is not None else "")
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message.as_bytes(policy=SMTP)
