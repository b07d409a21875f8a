"""421, 451, 550 and a connection dropped during DATA each end as the rules say."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from campaign.mailings import outbox, services, smtp
from campaign.mailings.models import Bounce, Delivery, Mailing
from campaign.supporters.models import Supporter
from tests.mailings.test_pipeline import drain

# Each test sends on worker threads, each on a connection of its own.
pytestmark = pytest.mark.commits


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


@pytest.mark.parametrize(
    ("where", "answer", "status"),
    [
        ("rcpt", "550 5.1.1 no such user", smtp.PERMANENT),
        ("rcpt", "451 4.7.1 greylisted", smtp.TEMPORARY),
        ("mail", "550 5.7.1 sender refused", smtp.REJECTED),
        ("mail", "451 4.3.0 try later", smtp.TEMPORARY),
    ],
)
def test_a_pipelining_relay_that_takes_data_after_a_refusal(sink, app, where, answer, status):
    """354 to DATA after a refused MAIL or RCPT: the refusal counts, and no QUIT is waited on."""
    sink.pipelining = sink.confused = True
    if where == "rcpt":
        sink.rcpt_rules["no@example.net"] = answer
    else:
        sink.mail_rules["refused@example.org"] = answer
    sender = "refused@example.org" if where == "mail" else "b@example.org"
    connection = smtp.Connection(smtp.Relay.from_url(sink.url, timeout=5), 100)
    message = b"Subject: hi\r\n\r\nbody\r\n"
    try:
        assert connection.send("b@example.org", "ok@example.net", message).ok
        assert connection.pipelining
        started = time.monotonic()
        outcome = connection.send(sender, "no@example.net", message)
        assert time.monotonic() - started < 2  # not SMTP_TIMEOUT waiting for a QUIT reply
        assert (outcome.status, outcome.code) == (status, int(answer[:3]))
        assert connection.smtp is None  # the confused session is gone
        assert connection.send("b@example.org", "ok2@example.net", message).ok
    finally:
        connection.close()
    assert sink.recipients() == ["ok@example.net", "ok2@example.net"]
    assert all(m.data == message for m in sink.messages)


@pytest.mark.parametrize("answer", ["550 5.1.1 no such user", "451 4.7.1 greylisted"])
def test_a_refused_rcpt_ends_the_same_when_the_relay_takes_data(
    db, sink, make_supporters, approved_mailing, app, answer
):
    """Through the outbox: 5xx fails and bounces, 4xx is retried, as without pipelining."""
    app.config["SMTP_TIMEOUT"] = 5
    sink.pipelining = sink.confused = True
    make_supporters(10)
    sink.rcpt_rules["s4@example.net"] = [answer, answer]
    started = time.monotonic()
    run(db, approved_mailing)
    assert time.monotonic() - started < 4
    delivery = delivery_of(db, "s4@example.net")
    supporter = db.session.get(Supporter, delivery.supporter_id)
    if answer.startswith("5"):
        assert delivery.state == "failed" and delivery.attempts == 1
        assert supporter.state == "bounced"
        assert db.session.scalar(select(Bounce)).delivery_id == delivery.id
        assert sink.count("s4@example.net") == 0 and len(sink.messages) == 9
    else:
        assert delivery.state == "sent" and delivery.attempts == 3
        assert supporter.state == "subscribed" and db.session.scalar(select(Bounce)) is None
        assert sink.count("s4@example.net") == 1 and len(sink.messages) == 10


def test_a_mailing_that_pauses_itself_stops_at_once(db, sink, make_supporters, approved_mailing,
                                                    app):  # fmt: skip
    """The flush that pauses the mailing stops the senders: none waits for a state read."""
    app.config["MAILING_PAUSE_AFTER_FAILURES"] = 5
    make_supporters(300)
    for i in range(300):
        sink.rcpt_rules[f"s{i}@example.net"] = "451 4.3.0 relay trouble"
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    outbox.run_batch(mailing.id)
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "paused"
    tried = db.session.scalar(select(func.count()).where(Delivery.attempts > 0))
    # At most the failures that paused it, what was pending, and one window in flight.
    window = app.config["MAILING_RECORD_WINDOW"]
    assert 5 <= tried <= 5 + 2 * window
    assert db.session.scalar(select(func.count()).where(Delivery.state == "sending")) == 0
