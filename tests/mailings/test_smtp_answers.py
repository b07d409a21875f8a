"""421, 451, 550 and a connection dropped during DATA each end as the rules say."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campaign.mailings import services
from campaign.mailings.models import Bounce, Delivery, Mailing
from campaign.supporters.models import Supporter
from tests.mailings.test_pipeline import drain


@pytest.fixture
def app_config(mail_config):
    mail_config["MAILING_MAX_ATTEMPTS"] = 3
    return mail_config


def run(db, approved_mailing):
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    return mailing


def delivery_of(db, address):
    return db.session.scalar(
        select(Delivery).join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(Supporter.email == address)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("where", "answer"),
    [("data", "421 4.3.2 try later"), ("rcpt", "451 4.7.1 greylisted"), ("data", "drop")],
)
def test_temporary_trouble_is_retried_and_delivered_once(
    db, sink, make_supporters, approved_mailing, where, answer
):
    make_supporters(20)
    rules = sink.data_rules if where == "data" else sink.rcpt_rules
    rules["s3@example.net"] = [answer, answer]  # twice, then accepted
    mailing = run(db, approved_mailing)
    assert sink.count("s3@example.net") == 1
    assert len(sink.messages) == 20 and len(set(sink.recipients())) == 20
    delivery = delivery_of(db, "s3@example.net")
    assert delivery.state == "sent" and delivery.attempts == 3
    assert db.session.get(Mailing, mailing.id).state == "sent"


def test_temporary_trouble_fails_after_the_last_attempt(db, sink, make_supporters,
                                                        approved_mailing):  # fmt: skip
    make_supporters(5)
    sink.rcpt_rules["s1@example.net"] = "451 4.7.1 greylisted"
    run(db, approved_mailing)
    delivery = delivery_of(db, "s1@example.net")
    assert delivery.state == "failed" and "451" in delivery.last_error
    assert db.session.get(Supporter, delivery.supporter_id).state == "subscribed"


def test_550_fails_the_delivery_and_bounces_the_address(db, sink, make_supporters,
                                                        approved_mailing):  # fmt: skip
    make_supporters(10)
    sink.rcpt_rules["s4@example.net"] = "550 5.1.1 no such user"
    run(db, approved_mailing)
    delivery = delivery_of(db, "s4@example.net")
    assert delivery.state == "failed" and delivery.attempts == 1
    assert db.session.get(Supporter, delivery.supporter_id).state == "bounced"
    bounce = db.session.scalar(select(Bounce))
    assert bounce.delivery_id == delivery.id and bounce.kind == "hard"
    assert sink.count("s4@example.net") == 0 and len(sink.messages) == 9


def test_consecutive_failures_pause_the_mailing(db, sink, make_supporters, approved_mailing, app):
    app.config["MAILING_PAUSE_AFTER_FAILURES"] = 5
    make_supporters(30)
    for i in range(30):
        sink.rcpt_rules[f"s{i}@example.net"] = "451 4.3.0 relay trouble"
    mailing = run(db, approved_mailing)
    mailing = db.session.get(Mailing, mailing.id)
    assert mailing.state == "paused"
    assert "failed sends in a row" in mailing.pause_reason and "451" in mailing.pause_reason
    # Resuming sends only what is still queued, never what was sent (listmonk's bug).
    sink.rcpt_rules.clear()
    services.resume(None, mailing)
    db.session.commit()
    drain(mailing.id)
    assert len(sink.messages) == 30 and len(set(sink.recipients())) == 30
