"""The outbox in one process against a real SMTP server: every supporter once."""

from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import func, select

from campaign.mailings import outbox, services
from campaign.mailings.models import Delivery, Mailing


@pytest.fixture
def app_config(mail_config):
    return mail_config


def drain(mailing_id: int, limit: int = 200) -> None:
    from campaign.extensions import db

    for _ in range(limit):
        if not outbox.run_batch(mailing_id):
            break
    db.session.commit()


def test_every_supporter_gets_one_copy(db, sink, make_supporters, approved_mailing):
    make_supporters(120)
    make_supporters(5, state="unsubscribed", start=1000)
    mailing = approved_mailing()
    assert services.send(None, mailing, expected=120) is mailing
    db.session.commit()
    assert mailing.total == 120
    drain(mailing.id)
    received = sink.recipients()
    assert len(received) == 120
    assert len(set(received)) == 120
    assert db.session.get(Mailing, mailing.id).state == "sent"
    assert services.counts(mailing.id)["sent"] == 120


def test_starting_twice_materialises_nothing_new(db, make_supporters, approved_mailing):
    make_supporters(30)
    mailing = approved_mailing()
    services.start(None, mailing)
    services.start(None, mailing)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 30


def test_message_headers(db, sink, make_supporters, approved_mailing, app):
    make_supporters(1)
    mailing = approved_mailing(subject="Freedom for Ahmed — ÄÖÜ")
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    [got] = sink.messages
    message = email.message_from_bytes(got.data, policy=policy.default)
    delivery = db.session.scalar(select(Delivery))
    assert message["Subject"] == "Freedom for Ahmed — ÄÖÜ"
    assert message["Message-ID"] == f"<ua.{mailing.id}.{delivery.id}@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<http://ua.example.org/")
    assert message["List-Id"]
    assert got.sender.startswith(f"bounces+{delivery.id}-")
    assert got.sender.endswith("@bounces.example.org")
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    html = message.get_body(("html",)).get_content()
    assert "Dear First0," in message.get_body(("plain",)).get_content()
    assert 'style="' in html and "<style" not in html  # CSS inlined


def test_names_cannot_inject_headers(db, sink, approved_mailing):
    from campaign.supporters.models import Supporter

    db.session.add(
        Supporter(email="evil@example.net", first_name="Eve\r\nBcc: victim@example.com",
                  last_name="X\nSubject: spam", state="subscribed")
    )  # fmt: skip
    db.session.commit()
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    [got] = sink.messages
    message = email.message_from_bytes(got.data, policy=policy.default)
    assert message["Bcc"] is None
    assert message["Subject"] == "Act now"
    assert "victim@example.com" in str(message["To"])  # inside the display name, folded


def test_subject_with_line_break_is_refused(db, make_user):
    from campaign.core.errors import ValidationError

    with pytest.raises(ValidationError) as error:
        services.create_mailing(None, kind="free", subject="Hi\r\nBcc: x@y.z", body="b",
                                everyone=True)  # fmt: skip
    assert error.value.field == "subject"
