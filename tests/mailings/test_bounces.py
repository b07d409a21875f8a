"""Bounces and complaints: parsing RFC 3464 DSNs and ARF reports, and intake over SMTP.

The intake is the real aiosmtpd server of ``python -m campaign.mailings.bounces``,
started in-process on a free port; the DSN is sent to it with smtplib.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from campaign.core.types import utcnow
from campaign.mailings import bounces, services
from campaign.mailings.compose import message_id, verp_address
from campaign.mailings.models import Bounce, BounceScore, Delivery
from campaign.supporters.models import ConsentEvent, Supporter
from tests.mailings.test_pipeline import drain
from tests.services import free_port

# The mailing is sent on worker threads and bounces arrive on the intake's thread.
pytestmark = pytest.mark.commits


@pytest.fixture
def app_config(mail_config):
    return mail_config


def dsn(recipient: str, status: str, original_id: str, action: str = "failed") -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464)."""
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "To: bounces@example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "Arrival-Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} mailbox problem\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"Message-ID: {original_id}\r\n"
        "Subject: Act now\r\n"
        "\r\n"
        "--B1--\r\n"
    ).encode()


def arf(recipient: str, original_id: str) -> bytes:
    """An abuse report as a mailbox provider's feedback loop sends it (RFC 5965)."""
    return (
        "From: fbl@isp.example.net\r\n"
        "To: fbl@example.org\r\n"
        "Subject: FW: Act now\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F1"\r\n'
        "\r\n"
        "--F1\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "This is an email abuse report.\r\n"
        "--F1\r\n"
        "Content-Type: message/feedback-report\r\n"
        "\r\n"
        "Feedback-Type: abuse\r\n"
        "User-Agent: ISP-FBL/1.0\r\n"
        "Version: 1\r\n"
        f"Original-Rcpt-To: {recipient}\r\n"
        "\r\n"
        "--F1\r\n"
        "Content-Type: message/rfc822\r\n"
        "\r\n"
        f"Message-ID: {original_id}\r\n"
        "Subject: Act now\r\n"
        "\r\n"
        "Please act.\r\n"
        "--F1--\r\n"
    ).encode()


@pytest.fixture
def sent(db, sink, make_supporters, approved_mailing):
    """Two supporters, each sent one copy of a mailing through the sink."""
    make_supporters(2)
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


@pytest.fixture
def intake(app):
    port = free_port()
    controller = bounces.start_smtp_intake(app, "127.0.0.1", port)
    yield port
    controller.stop()


def deliver(port: int, recipient: str, raw: bytes) -> None:
    from campaign.extensions import db

    db.session.commit()  # the intake writes from its own session: hold no lock meanwhile
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("", [recipient], raw)


# -- parsing --------------------------------------------------------------------------


def test_dsn_with_enhanced_status_is_hard_or_soft():
    [hard] = bounces.parse(dsn("a@example.net", "5.1.1", "<ua.3.7@example.org>"))
    assert (hard.kind, hard.status, hard.recipient) == ("hard", "5.1.1", "a@example.net")
    assert hard.message_id == "<ua.3.7@example.org>"
    assert "mailbox problem" in hard.diagnostic
    [soft] = bounces.parse(dsn("a@example.net", "4.2.2", "<ua.3.7@example.org>"))
    assert (soft.kind, soft.status) == ("soft", "4.2.2")


def test_delayed_dsn_is_not_a_bounce():
    assert bounces.parse(dsn("a@example.net", "4.4.7", "<x@y>", action="delayed")) == []


def test_arf_is_a_complaint():
    [report] = bounces.parse(arf("b@example.net", "<ua.3.8@example.org>"))
    assert report.kind == "complaint"
    assert report.recipient == "b@example.net"
    assert report.message_id == "<ua.3.8@example.org>"
    assert "abuse" in report.diagnostic


def test_plain_text_bounce_takes_its_status_from_the_text():
    raw = b"From: x@y\r\nSubject: failure\r\n\r\nDelivery failed: 5.7.1 relay denied\r\n"
    [report] = bounces.parse(raw)
    assert (report.kind, report.status) == ("hard", "5.7.1")


# -- intake over SMTP -------------------------------------------------------------------


def test_hard_bounce_to_verp_address_suppresses_and_links_the_delivery(db, sent, intake):
    first, second = sent
    address = verp_address(first.id)
    deliver(intake, address, dsn("s0@example.net", "5.1.1", first.message_id))
    db.session.expire_all()
    supporter = db.session.get(Supporter, first.supporter_id)
    assert supporter.state == "bounced"
    assert db.session.get(Delivery, first.id).state == "bounced"
    [bounce] = db.session.scalars(select(Bounce))
    assert (bounce.kind, bounce.status, bounce.delivery_id) == ("hard", "5.1.1", first.id)
    assert bounce.mailing_id == first.mailing_id
    event = db.session.scalar(select(ConsentEvent).where(ConsentEvent.supporter_id == supporter.id))
    assert event is not None and event.new_state == "bounced"
    # The other supporter is untouched.
    assert db.session.get(Supporter, second.supporter_id).state == "subscribed"
    assert db.session.get(Delivery, second.id).state == "sent"


def test_soft_bounce_is_scored_not_suppressed(db, sent, intake):
    first = sent[0]
    deliver(intake, verp_address(first.id), dsn("s0@example.net", "4.2.2", first.message_id))
    db.session.expire_all()
    assert db.session.get(Supporter, first.supporter_id).state == "subscribed"
    assert db.session.get(Delivery, first.id).state == "sent"
    assert db.session.get(BounceScore, first.supporter_id).score == 1.0
    assert db.session.scalar(select(Bounce.kind)) == "soft"


def test_soft_bounces_on_five_days_suppress(db, sent):
    supporter_id = sent[0].supporter_id
    start = utcnow()
    for day in range(5):
        with time_machine.travel(start + timedelta(days=day), tick=False):
            bounces.soft_bounce(supporter_id, "4.2.2 full")
            assert bounces.soft_bounce(supporter_id, "4.2.2 full") is None  # same day: no point
    db.session.commit()
    assert db.session.get(BounceScore, supporter_id).score == 5.0
    assert db.session.get(Supporter, supporter_id).state == "bounced"


def test_stale_soft_score_starts_again(db, sent):
    supporter_id = sent[0].supporter_id
    start = utcnow()
    for day in (0, 1, 2, 20):
        with time_machine.travel(start + timedelta(days=day), tick=False):
            bounces.soft_bounce(supporter_id, "4.2.2 full")
    assert db.session.get(BounceScore, supporter_id).score == 1.0
    assert db.session.get(Supporter, supporter_id).state == "subscribed"


def test_complaint_by_message_id_marks_complained(db, sent, intake):
    second = sent[1]
    raw = arf("s1@example.net", message_id(second.mailing_id, second.id))
    deliver(intake, verp_address(second.id), raw)
    db.session.expire_all()
    assert db.session.get(Supporter, second.supporter_id).state == "complained"
    assert db.session.scalar(select(Bounce.delivery_id)) == second.id


def test_forged_verp_address_is_refused_at_rcpt(db, sent, intake):
    first = sent[0]
    forged = f"bounces+{first.id}-0123456789@bounces.example.org"
    assert forged != verp_address(first.id)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        deliver(intake, forged, dsn("s0@example.net", "5.1.1", first.message_id))
    assert refused.value.recipients[forged][0] == 550
    db.session.expire_all()
    assert db.session.get(Supporter, first.supporter_id).state == "subscribed"
    assert db.session.scalar(select(Bounce.id)) is None
