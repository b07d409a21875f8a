"""Test sends: one copy of a mailing to a staff address, outside the outbox."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from campaign.audit.services import record
from campaign.auth.models import User
from campaign.core.errors import ValidationError
from campaign.extensions import db
from campaign.mailings import compose, smtp
from campaign.mailings.models import Mailing
from campaign.mailings.services import content, links_for, sample_recipient


def test_send_allowed(address: str) -> bool:
    """Whether ``address`` may receive a test: an active staff account's address, or
    one on TEST_SEND_ALLOWED (whole addresses, or "@domain" for a whole domain).

    A test skips approval and the outbox, so it must not reach outside addresses:
    otherwise any campaigner could relay free text from MAIL_FROM to anyone.
    """
    address = address.strip().lower()
    _local, _, domain = address.rpartition("@")
    allowed = {
        entry.strip().lower()
        for entry in current_app.config["TEST_SEND_ALLOWED"].split(",")
        if entry.strip()
    }
    if address in allowed or f"@{domain}" in allowed:
        return True
    staff = select(User.id).where(func.lower(User.email) == address, User.active.is_(True))
    return db.session.scalar(staff) is not None


def test_send(actor, mailing: Mailing, address: str, language: str = "en") -> None:
    """Send one copy, "[TEST]" in the subject, to a staff address (not via the outbox)."""
    address = (address or "").strip()
    if not address or "@" not in address or len(address) > 320:
        raise ValidationError("Enter an email address.", "address")
    try:
        compose.clean_header(address, "address")
    except compose.HeaderInjection as error:
        raise ValidationError(str(error), "address") from error
    if not test_send_allowed(address):
        raise ValidationError(
            "Tests go only to staff addresses (an active staff account, or the "
            "TEST_SEND_ALLOWED setting).",
            "address",
        )
    test = compose.Content(**{**content(mailing).__dict__, "subject": f"[TEST] {mailing.subject}"})
    composer = compose.Composer(mailing.id, test, language, links_for(mailing.case_id))
    recipient = sample_recipient(language)
    recipient.email = address
    sender, to, raw = composer.build(recipient)
    relay = smtp.Relay.from_url(current_app.config["SMTP_URL"], current_app.config["SMTP_TIMEOUT"])
    connection = smtp.Connection(relay, 1)
    outcome = connection.send(current_app.config["MAIL_FROM"] and sender, to, raw)
    connection.close()
    if not outcome.ok:
        raise ValidationError(f"The mail server refused the test: {outcome.detail}", "address")
    record(actor, "mailing.test", mailing, f"Sent a test of mailing {mailing.id} to {address}")
