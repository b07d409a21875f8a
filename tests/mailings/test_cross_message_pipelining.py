"""Pipelining across messages (RFC 2920, 3.1): a message's text goes in one write with
the next message's MAIL, RCPT and DATA, and every message still ends exactly once."""

from __future__ import annotations

import time

import pytest

from campaign.mailings import outbox, smtp
from tests.mailings.test_pipeline import drain
from tests.mailings.test_smtp_answers import delivery_of, run

pytestmark = pytest.mark.commits  # the outbox tests send on worker threads


@pytest.fixture
def app_config(mail_config):
    mail_config["MAILING_MAX_ATTEMPTS"] = 3
    return mail_config


def _message(n: int) -> bytes:
    # A line that starts with a dot must arrive as it was written (dot-stuffing).
    return f"Subject: message {n}\r\n\r\nbody {n}\r\n.a line with a dot\r\n".encode()


def _send(connection, n: int):
    address = f"r{n}@example.net"
    return connection.send_held(lambda _eight_bit: ("b@example.org", address, _message(n)), n)


def _connection(sink, max_messages: int = 100) -> smtp.Connection:
    sink.pipelining = True
    return smtp.Connection(smtp.Relay.from_url(sink.url, timeout=5), max_messages)


def test_each_text_goes_with_the_next_message(sink):
    connection = _connection(sink)
    try:
        assert _send(connection, 1) == [] and connection.holding
        assert sink.recipients() == []  # its text waits for the next message
        ended = _send(connection, 2)
        assert [(tag, o.status) for tag, o in ended] == [(1, smtp.SENT)]
        assert sink.recipients() == ["r1@example.net"] and connection.holding
        assert [(t, o.status) for t, o in connection.finish()] == [(2, smtp.SENT)]
        assert not connection.holding and connection.finish() == []
        assert [(t, o.status) for t, o in _send(connection, 3) + connection.finish()] == [
            (3, smtp.SENT)
        ]
    finally:
        connection.close()
    assert sink.recipients() == ["r1@example.net", "r2@example.net", "r3@example.net"]
    assert [m.data for m in sink.messages] == [_message(n) for n in (1, 2, 3)]
    assert sink.sessions == 1


def test_the_last_message_a_session_may_carry_goes_whole(sink):
    connection = _connection(sink, max_messages=3)
    ended = []
    try:
        for n in range(1, 8):
            ended += _send(connection, n)
            if n == 3:  # the third: sent at once, and the session recycled
                assert not connection.holding and connection.smtp is None
        ended += connection.finish()
    finally:
        connection.close()
    assert [(t, o.status) for t, o in ended] == [(n, smtp.SENT) for n in range(1, 8)]
    assert sink.recipients() == [f"r{n}@example.net" for n in range(1, 8)]
    assert sink.sessions == 3


def test_no_text_is_held_without_pipelining(sink):
    connection = _connection(sink)
    sink.pipelining = False
    try:
        assert [(t, o.status) for t, o in _send(connection, 1)] == [(1, smtp.SENT)]
        assert not connection.holding and not connection.pipelining
    finally:
        connection.close()
    assert sink.recipients() == ["r1@example.net"]


@pytest.mark.parametrize(
    ("rule", "first", "second"),
    [
        # A refusal of the text's end concerns that message only: the session goes on.
        ("451 4.3.0 try later", (smtp.TEMPORARY, 451), None),
        ("550 5.7.1 content refused", (smtp.PERMANENT, 550), None),
        # 421: the relay closes; the next message, not sent, is tried again later.
        ("421 4.3.2 closing", (smtp.TEMPORARY, 421), (smtp.TEMPORARY, 0)),
        # The connection drops before the text's reply: neither is known to be sent.
        ("drop", (smtp.TEMPORARY, 0), (smtp.TEMPORARY, 0)),
    ],
)
def test_a_refused_held_text_and_the_message_after_it(sink, rule, first, second):
    connection = _connection(sink)
    sink.data_rules["r1@example.net"] = rule
    try:
        _send(connection, 1)
        ended = dict(_send(connection, 2))
        assert (ended[1].status, ended[1].code) == first
        if second is None:  # the second is held, then sent
            assert 2 not in ended and connection.holding
            ended.update(connection.finish())
            assert ended[2].ok
        else:
            assert (ended[2].status, ended[2].code) == second
            assert connection.smtp is None and not connection.holding
            ended.update(_send(connection, 2) + connection.finish())  # a new session
            assert ended[2].ok
    finally:
        connection.close()
    assert sink.recipients() == ["r2@example.net"]  # once, and never the refused one


def test_a_refused_recipient_is_not_held_and_the_held_text_still_goes(sink):
    connection = _connection(sink)
    sink.rcpt_rules["r2@example.net"] = "550 5.1.1 no such user"
    try:
        _send(connection, 1)
        ended = dict(_send(connection, 2))
        assert ended[1].ok and (ended[2].status, ended[2].code) == (smtp.PERMANENT, 550)
        assert not connection.holding and connection.smtp is not None
        _send(connection, 3)
        ended.update(connection.finish())
        assert ended[3].ok
    finally:
        connection.close()
    assert sink.recipients() == ["r1@example.net", "r3@example.net"]


def test_a_message_that_cannot_be_built_leaves_the_held_text_held(sink):
    connection = _connection(sink)
    try:
        _send(connection, 1)

        def broken(_eight_bit):
            raise ValueError("no such template")

        with pytest.raises(ValueError, match="no such template"):
            connection.send_held(broken, 2)
        assert connection.holding
        assert [(t, o.status) for t, o in connection.finish()] == [(1, smtp.SENT)]
    finally:
        connection.close()
    assert sink.recipients() == ["r1@example.net"]


def test_an_abandoned_text_is_never_delivered(sink):
    connection = _connection(sink)
    _send(connection, 1)
    assert connection.holding
    smtp.POOL.give_back(connection)  # a stopped batch gives its connection back holding
    assert not connection.holding and connection.smtp is None and len(smtp.POOL) == 0
    connection = _connection(sink)
    try:
        _send(connection, 2)
        connection.close()  # no QUIT into the text: the socket is dropped
        assert not connection.holding and connection.smtp is None
    finally:
        connection.close()
    assert sink.recipients() == []


def test_the_rate_limit_waits_after_the_held_text_is_sent(redis_server):
    from campaign.mailings.outbox import RateLimit

    rate = RateLimit("1/second", redis_server.url)
    calls = []
    rate.take(before_waiting=lambda: calls.append("finished"))
    assert calls == []  # no wait, nothing sent early
    rate.take(before_waiting=lambda: calls.append("finished"))
    assert calls == ["finished"]  # once, before the wait


# -- through the outbox --------------------------------------------------------------


def test_every_supporter_once_through_the_outbox(db, sink, make_supporters, approved_mailing):
    sink.pipelining = True
    make_supporters(60)
    sink.rcpt_rules["s7@example.net"] = "550 5.1.1 no such user"
    sink.data_rules["s11@example.net"] = ["421 4.3.2 closing"]  # once, then taken
    sink.data_rules["s23@example.net"] = ["drop"]
    sink.data_rules["s31@example.net"] = ["451 4.3.0 try later"]
    run(db, approved_mailing)
    received = sink.recipients()
    assert len(received) == 59 and len(set(received)) == 59  # each once, s7 never
    assert delivery_of(db, "s7@example.net").state == "failed"
    for address in ("s11@example.net", "s23@example.net", "s31@example.net"):
        delivery = delivery_of(db, address)
        assert delivery.state == "sent" and delivery.attempts == 2
    assert all(m.data.count(b"\r\n.\r\n") == 0 for m in sink.messages)


def test_a_rate_limited_mailing_sends_each_once(db, app, sink, make_supporters, approved_mailing):
    sink.pipelining = True
    app.config["MAILING_RATE_LIMIT"] = "20/second"
    make_supporters(30)
    mailing = approved_mailing()
    from campaign.mailings import services

    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    assert sorted(sink.recipients()) == sorted(f"s{i}@example.net" for i in range(30))


def test_a_held_text_does_not_wait_out_the_rate_limit(
    db, app, sink, make_supporters, approved_mailing, monkeypatch
):
    """Over the global rate the sender sleeps; the text it holds goes before, not with
    the next message after the sleep (it would then arrive a whole second late)."""
    sink.pipelining = True
    app.config.update(MAILING_RATE_LIMIT="1/second", MAILING_CONNECTIONS=1)
    make_supporters(2)
    waits = []  # when the sender, its held text sent, went to sleep
    take = outbox.RateLimit.take

    def take_and_note(self, before_waiting=None):
        def then_note():
            before_waiting()
            waits.append(time.time())

        return take(self, before_waiting=then_note if before_waiting else None)

    monkeypatch.setattr(outbox.RateLimit, "take", take_and_note)
    run(db, approved_mailing)
    first, second = sink.messages
    # Compared with the moment of the wait, not with a duration: on a slow machine
    # the first message's own round trips can take half of the rate's second.
    assert waits, "the sender never waited for the rate"
    assert first.at <= waits[-1] < second.started


def test_a_text_held_when_the_mailing_pauses_goes_after_the_resume(
    db, app, sink, make_supporters, approved_mailing
):
    """The pause stops the senders with texts held: each is dropped unsent (the relay
    discards it), its delivery goes back to the queue, and it is sent once on resume."""
    from campaign.mailings import services
    from campaign.mailings.models import Mailing

    sink.pipelining = True
    app.config["MAILING_PAUSE_AFTER_FAILURES"] = 5
    make_supporters(40)
    for i in range(10, 30):
        sink.data_rules[f"s{i}@example.net"] = ["451 4.3.0 relay trouble"]
    mailing = run(db, approved_mailing)
    mailing = db.session.get(Mailing, mailing.id)
    assert mailing.state == "paused"
    assert len(sink.messages) < 20  # stopped before the end
    sink.data_rules.clear()  # the relay is well again
    services.resume(None, mailing)
    db.session.commit()
    drain(mailing.id)
    received = sink.recipients()
    assert sorted(received) == sorted(f"s{i}@example.net" for i in range(40))
    assert db.session.get(Mailing, mailing.id).state == "sent"
