"""Bounces and complaints: parsing DSNs (RFC 3464) and ARF reports, and intake.

Intake comes by SMTP (aiosmtpd, ``python -m campaign.mailings.bounces``) on the
VERP addresses, or from a mailbox polled over IMAP (BOUNCE_IMAP_URL). A hard
bounce or a complaint suppresses the address; soft bounces add to a score
(Mailman's defaults: 1 point a bouncing day, suppressed at 5, forgotten after
7 days without a bounce).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import imaplib
import logging
import re
import signal
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage, Message
from urllib.parse import unquote, urlsplit

from aiosmtpd.controller import Controller
from flask import current_app
from sqlalchemy import select

from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.mailings.compose import verp_delivery_id
from campaign.mailings.models import Bounce, BounceKind, BounceScore, Delivery, DeliveryState
from campaign.supporters.models import Supporter, SupporterState, email_key
from campaign.supporters.services import suppress

log = logging.getLogger(__name__)
SOFT_THRESHOLD = 5.0  # Mailman 3: bounce_score_threshold
STALE_AFTER = timedelta(days=7)  # Mailman 3: bounce_info_stale_after
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_OUR_MESSAGE_ID = re.compile(r"<ua\.(\d+)\.(\d+)@[^>]+>")


@dataclass
class Report:
    kind: str  # hard, soft or complaint
    status: str = ""
    diagnostic: str = ""
    recipient: str = ""
    message_id: str = ""


# -- parsing -------------------------------------------------------------------------


def parse(raw: bytes) -> list[Report]:
    """What a DSN (RFC 3464) or an ARF complaint (RFC 5965) says, per recipient."""
    message = email.message_from_bytes(raw, policy=policy.default)
    param = message.get_param("report-type")
    report_type = param.lower() if isinstance(param, str) else ""
    original = _original_message_id(message)
    if message.get_content_type() == "multipart/report" and report_type == "feedback-report":
        return [_complaint(message, original)]
    statuses = [p for p in message.walk() if p.get_content_type() == "message/delivery-status"]
    if statuses:
        # A DSN says per recipient what happened; "delayed" or "delivered" is no bounce,
        # so its explanatory text must not be read as one.
        return [report for part in statuses for report in _delivery_status(part, original)]
    # Not a standard DSN: take an enhanced status code from the text if there is one.
    text = _text_of(message)
    match = _STATUS.search(text)
    if match and match.group(1) == "2":
        return []
    status = match.group(0) if match else ""
    kind = BounceKind.HARD if status.startswith("5") else BounceKind.SOFT
    return [Report(kind, status, _first_line(text), "", original)]


def _delivery_status(part, original: str) -> list[Report]:
    blocks = part.get_payload()
    if isinstance(blocks, str):  # some parsers leave it as text
        blocks = [email.message_from_string(b) for b in blocks.split("\n\n") if b.strip()]
    reports = []
    for block in blocks[1:] if len(blocks) > 1 else blocks:
        action = str(block.get("Action", "")).strip().lower()
        status = str(block.get("Status", "")).strip()
        if action != "failed":
            continue  # delayed, delivered, relayed: not a bounce
        recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        recipient = recipient.split(";", 1)[-1].strip()
        diagnostic = str(block.get("Diagnostic-Code", "")).split(";", 1)[-1].strip()
        kind = BounceKind.HARD if status.startswith("5") else BounceKind.SOFT
        reports.append(Report(kind, status[:20], diagnostic[:500], recipient[:320], original))
    return reports


def _complaint(message: EmailMessage, original: str) -> Report:
    recipient, feedback = "", ""
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            fields = part.get_payload()
            block = fields[0] if isinstance(fields, list) and fields else None
            if isinstance(block, Message):
                recipient = str(block.get("Original-Rcpt-To", "")).strip()
                feedback = str(block.get("Feedback-Type", "")).strip()
    return Report(
        BounceKind.COMPLAINT, "", f"feedback type: {feedback or 'abuse'}", recipient, original
    )


def _original_message_id(message: EmailMessage) -> str:
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found = str(payload[0].get("Message-ID", ""))
            else:
                raw = part.get_payload(decode=True)
                found = _header_in_text(raw.decode("utf-8") if isinstance(raw, bytes) else "")
            if found:
                return found.strip()
    return ""


def _header_in_text(text: str) -> str:
    match = _OUR_MESSAGE_ID.search(text)
    return match.group(0) if match else ""


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    try:
        return body.get_content() if body is not None else ""
    except (LookupError, KeyError):
        return ""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:500]


# -- applying ------------------------------------------------------------------------------


def process(raw: bytes, envelope_recipients=(), source: str = "smtp") -> list[Bounce]:
    """Record what a bounce or complaint says and suppress as the rules say (no commit)."""
    delivery = _delivery(raw, envelope_recipients)
    bounces = []
    for report in parse(raw):
        if delivery is None and report.message_id:
            delivery = _delivery_by_message_id(report.message_id)
        supporter_id = delivery.supporter_id if delivery else _supporter_by_email(report.recipient)
        bounce = Bounce(
            delivery_id=delivery.id if delivery else None,
            mailing_id=delivery.mailing_id if delivery else None,
            supporter_id=supporter_id,
            kind=report.kind,
            status=report.status,
            diagnostic=report.diagnostic,
            recipient=report.recipient,
            source=source,
        )
        db.session.add(bounce)
        bounces.append(bounce)
        if supporter_id is None:
            continue
        detail = f"{report.status} {report.diagnostic}".strip()[:400]
        if report.kind == BounceKind.COMPLAINT:
            _suppress(supporter_id, SupporterState.COMPLAINED, "complaint", detail)
        elif report.kind == BounceKind.HARD:
            hard_bounce(supporter_id, detail)
            if delivery is not None and delivery.state == DeliveryState.SENT:
                delivery.state = DeliveryState.BOUNCED
        else:
            soft_bounce(supporter_id, detail)
    db.session.flush()
    return bounces


def _delivery(raw: bytes, envelope_recipients) -> Delivery | None:
    candidates = list(envelope_recipients)
    if not candidates:
        headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0], policy=policy.compat32)
        for name in ("Delivered-To", "X-Original-To", "Envelope-To", "To"):
            candidates.extend(str(v) for v in headers.get_all(name, []))
    for address in candidates:
        for word in re.findall(r"[^\s<>,\"]+@[^\s<>,\"]+", address):
            delivery_id = verp_delivery_id(word)
            if delivery_id is not None:
                return db.session.get(Delivery, delivery_id)
    return None


def _delivery_by_message_id(value: str) -> Delivery | None:
    match = _OUR_MESSAGE_ID.search(value)
    if not match:
        return None
    delivery = db.session.get(Delivery, int(match.group(2)))
    return delivery if delivery and delivery.mailing_id == int(match.group(1)) else None


def _supporter_by_email(address: str) -> int | None:
    if not address:
        return None
    key = email_key(address)
    return db.session.scalar(select(Supporter.id).where(Supporter.email_key == key))


def hard_bounce(supporter_id: int, detail: str) -> None:
    _suppress(supporter_id, SupporterState.BOUNCED, "bounce", detail)


def soft_bounce(supporter_id: int, detail: str) -> None:
    """One point per day that bounces; stale scores start again; at 5 the address is bounced."""
    now = utcnow()
    score = db.session.get(BounceScore, supporter_id)
    if score is None:
        score = BounceScore(supporter_id=supporter_id, score=0.0, last_bounce_at=now)
        db.session.add(score)
        score.score = 1.0
    elif now - score.last_bounce_at > STALE_AFTER:
        score.score, score.last_bounce_at = 1.0, now
    elif score.last_bounce_at.date() != now.date():
        score.score, score.last_bounce_at = score.score + 1.0, now
    if score.score >= SOFT_THRESHOLD:
        hard_bounce(supporter_id, f"soft bounces on {int(score.score)} days; last: {detail}")


def _suppress(supporter_id: int, state: str, source: str, detail: str) -> None:
    supporter = db.session.get(Supporter, supporter_id)
    if (
        supporter is None
        or supporter.state == state
        or supporter.state == SupporterState.COMPLAINED
    ):
        return
    suppress(supporter, state, source=source, detail=detail[:500])


def recent(limit: int = 100, mailing_id: int | None = None) -> list[Bounce]:
    query = select(Bounce).order_by(Bounce.id.desc()).limit(limit)
    if mailing_id:
        query = query.where(Bounce.mailing_id == mailing_id)
    return list(db.session.scalars(query))


# -- intake over SMTP ------------------------------------------------------------------------


class BounceHandler:
    """aiosmtpd handler: accepts mail only for valid VERP addresses and records it."""

    def __init__(self, app):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.app.app_context():
            known = verp_delivery_id(address) is not None
        if not known:
            return "550 5.1.1 No such bounce address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self._store, envelope.content, envelope.rcpt_tos)
        except Exception:
            log.exception("bounce intake failed")
            return "451 4.3.0 Could not record the report; try again later"
        return "250 Message accepted"

    def _store(self, raw: bytes, recipients) -> None:
        with self.app.app_context():
            try:
                process(raw, recipients, source="smtp")
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise


def start_smtp_intake(app, host: str, port: int):
    controller = Controller(BounceHandler(app), hostname=host, port=port)
    controller.start()
    return controller


# -- intake over IMAP --------------------------------------------------------------------------

_last_poll = 0.0


def poll_imap(url: str) -> int:
    """Fetch unseen messages from the mailbox at ``url``, record them, delete them."""
    parts = urlsplit(url)
    client_class = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    port = parts.port or (993 if parts.scheme == "imaps" else 143)
    # No host: loopback, as a None host always meant to the socket layer.
    client = client_class(parts.hostname or "localhost", port, timeout=30)
    handled = 0
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(parts.path.strip("/") or "INBOX")
        _status, data = client.search(None, "UNSEEN")
        for number in (data[0] or b"").decode().split()[:200]:
            _status, fetched = client.fetch(number, "(RFC822)")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), b"")
            process(raw, (), source="imap")
            db.session.commit()  # recorded before it is deleted from the mailbox
            client.store(number, "+FLAGS", "(\\Seen \\Deleted)")
            handled += 1
        client.expunge()
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return handled


def poll_if_configured() -> None:
    global _last_poll
    url = current_app.config["BOUNCE_IMAP_URL"]
    if not url or time.monotonic() - _last_poll < 60:
        return
    _last_poll = time.monotonic()
    try:
        poll_imap(url)
    except (imaplib.IMAP4.error, OSError) as error:
        log.warning("bounce mailbox poll failed: %s", error)


def main() -> None:
    # The process entry point (Procfile) builds the app, whose package imports
    # this module: at the top this would be a cycle.
    from campaign import create_app

    app = create_app()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bounces %(message)s")
    host, port = app.config["BOUNCE_SMTP_HOST"], app.config["BOUNCE_SMTP_PORT"]
    controller = start_smtp_intake(app, host, port)
    log.info("bounce intake on %s:%s", host, port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
