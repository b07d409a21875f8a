"""Parts go 7bit, 8bit or quoted-printable as is safe, and arrive intact every way."""

from __future__ import annotations

import email
import re
from email import policy

import pytest

from campaign.mailings import services, smtp
from campaign.mailings.compose import MAX_LINE, Recipient
from tests.mailings.test_pipeline import drain

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.fixture
def app_config(mail_config):
    return mail_config


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def parts(raw: bytes) -> dict:
    """content type → (Content-Transfer-Encoding, decoded content)."""
    message = parse(raw)
    assert not message.defects
    return {
        part.get_content_type(): (part["Content-Transfer-Encoding"], part.get_content())
        for part in message.iter_parts()
    }


def ann(**fields) -> Recipient:
    values = {"delivery_id": 5, "supporter_id": 1, "email": "ann@example.org",
              "first_name": "Ann", "last_name": "Lee"}  # fmt: skip
    return Recipient(**{**values, **fields})


def test_ascii_parts_go_as_they_are(db, approved_mailing):
    mailing = approved_mailing(body="Please write to the prosecutor today.")
    composer = services.composer_for(mailing, "en")
    for eight_bit in (False, True):
        _sender, _to, raw = composer.build(ann(), eight_bit=eight_bit)
        got = parts(raw)
        assert raw.isascii()
        assert got["text/plain"][0] == got["text/html"][0] == "7bit"
        assert "Please write to the prosecutor today." in got["text/plain"][1]
        assert "Dear Ann" in got["text/plain"][1] or "Ann" in got["text/plain"][1]


def test_other_characters_go_8bit_only_where_the_relay_takes_it(db, approved_mailing):
    mailing = approved_mailing(body="Écrivez au procureur — aujourd’hui, s’il vous plaît.")
    composer = services.composer_for(mailing, "fr")
    zoe = ann(first_name="Zoë", last_name="Ærø", language="fr")
    _s, _t, quoted = composer.build(zoe, eight_bit=False)
    _s, _t, eight = composer.build(zoe, eight_bit=True)
    assert quoted.isascii() and not eight.isascii()
    assert {e for e, _ in parts(quoted).values()} == {"quoted-printable"}
    assert {e for e, _ in parts(eight).values()} == {"8bit"}
    assert len(eight) < len(quoted)
    # The same text either way, with the supporter's name in it.
    assert parts(quoted)["text/plain"][1] == parts(eight)["text/plain"][1]
    assert parts(quoted)["text/html"][1] == parts(eight)["text/html"][1]
    assert "aujourd’hui" in parts(eight)["text/plain"][1]
    assert "Zoë" in parts(eight)["text/plain"][1] and "Zoë" in parts(eight)["text/html"][1]
    assert parse(eight)["To"].addresses[0].display_name == "Zoë Ærø"


def test_a_long_line_makes_the_part_quoted_printable(db, approved_mailing):
    long_line = "word " * 300  # 1,500 characters on one line
    mailing = approved_mailing(body=long_line.strip())
    composer = services.composer_for(mailing, "en")
    _s, _t, raw = composer.build(ann(), eight_bit=True)
    assert max(len(line) for line in raw.split(b"\r\n")) <= MAX_LINE
    got = parts(raw)
    assert got["text/plain"][0] == "quoted-printable"
    assert long_line.strip() in got["text/plain"][1]


def test_a_value_with_a_line_break_cannot_break_out(db, approved_mailing):
    mailing = approved_mailing()
    composer = services.composer_for(mailing, "en")
    sly = ann(first_name="Ann\r\nBcc: x@example.com", city="Paris\n.\r\nMAIL FROM:<x@y>")
    _s, _t, raw = composer.build(sly, eight_bit=True)
    message = parse(raw)
    assert "Bcc" not in message and not message.defects
    assert not re.search(rb"\r\n\.\r\n", raw)  # no line that would end the DATA early


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_a_mailing_arrives_intact_through_the_relay(
    db, sink, make_supporters, approved_mailing, pipelining
):
    from campaign.supporters.tokens import UNSUBSCRIBE, supporter_for

    sink.pipelining = pipelining
    make_supporters(30, language="fr")
    make_supporters(30, start=100)
    mailing = approved_mailing(body="Écrivez aujourd’hui.\n\n.\n.leading dot stays")
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    assert len(sink.messages) == 60 and len(set(sink.recipients())) == 60
    encodings = set()
    for got in sink.messages:
        message = parse(got.data)
        assert not message.defects
        text = message.get_body(("plain",)).get_content()
        page = message.get_body(("html",)).get_content()
        encodings.update(part["Content-Transfer-Encoding"] for part in message.iter_parts())
        assert "Écrivez aujourd’hui." in text and "Écrivez aujourd’hui." in page
        assert "\n.\n.leading dot stays" in text.replace("\r\n", "\n")
        token = message["List-Unsubscribe"].strip("<>").rpartition("/")[2]
        assert supporter_for(UNSUBSCRIBE, token)[0].email == got.recipient
    assert "8bit" in encodings  # aiosmtpd announces 8BITMIME


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_answers_are_classified_the_same_with_pipelining(sink, app, pipelining):
    sink.pipelining = pipelining
    sink.rcpt_rules.update({"gone@example.net": "550 5.1.1 no such user",
                            "grey@example.net": "451 4.7.1 greylisted"})  # fmt: skip
    sink.data_rules["later@example.net"] = "421 4.3.2 try later"
    connection = smtp.Connection(smtp.Relay.from_url(sink.url), 100)
    message = b"Subject: hi\r\n\r\n.dot\r\nbody\r\n"
    try:
        assert connection.send("b@example.org", "ok@example.net", message).ok
        assert connection.pipelining is pipelining and connection.eight_bit
        first = connection.smtp
        gone = connection.send("b@example.org", "gone@example.net", message)
        assert (gone.status, gone.code) == (smtp.PERMANENT, 550)
        grey = connection.send("b@example.org", "grey@example.net", message)
        assert (grey.status, grey.code) == (smtp.TEMPORARY, 451)
        assert connection.smtp is first  # a refused recipient keeps the session
        later = connection.send("b@example.org", "later@example.net", message)
        assert (later.status, later.code) == (smtp.TEMPORARY, 421)
        assert connection.smtp is None  # 421: the session is dropped
        assert connection.send("b@example.org", "ok2@example.net", message).ok
    finally:
        connection.close()
    assert sink.recipients() == ["ok@example.net", "ok2@example.net"]
    assert sink.messages[0].data.endswith(b".dot\r\nbody\r\n")


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_a_relay_without_8bitmime_gets_7bit_only(
    db, sink, make_supporters, approved_mailing, app, pipelining
):
    """No BODY=8BITMIME and no 8bit octet, even in the sender's name; all arrives intact."""
    app.config["MAIL_FROM"] = "Amnesty Österreich <ua@example.org>"
    app.config["MAIL_REPLY_TO"] = '"Büro Wien, Amnesty" <buero@example.org>'
    sink.eight_bit, sink.pipelining = False, pipelining
    from campaign.supporters.models import Supporter

    db.session.add(Supporter(email="zoe@example.net", first_name="Zoë", last_name="Ærø",
                             language="fr", state="subscribed"))  # fmt: skip
    db.session.commit()
    make_supporters(5, language="fr")
    body = "Écrivez au procureur — aujourd’hui, s’il vous plaît."
    mailing = approved_mailing(body=body)
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    assert len(sink.messages) == 6
    for got in sink.messages:
        assert not got.eight_bit
        assert "BODY=8BITMIME" not in got.mail_options and got.data.isascii()
        message = parse(got.data)
        assert not message.defects
        sender = message["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == ("Amnesty Österreich", "ua@example.org")
        reply_to = message["Reply-To"].addresses[0]
        assert (reply_to.display_name, reply_to.addr_spec) == (
            "Büro Wien, Amnesty",
            "buero@example.org",
        )
        assert {part["Content-Transfer-Encoding"] for part in message.iter_parts()} == {
            "quoted-printable"
        }
        assert body in message.get_body(("plain",)).get_content()
        assert body in message.get_body(("html",)).get_content()
    zoe = next(m for m in sink.messages if m.recipient == "zoe@example.net")
    assert "Zoë" in parse(zoe.data).get_body(("plain",)).get_content()


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_8bit_follows_what_each_session_announces(db, sink, make_supporters, approved_mailing, app):
    """A recycled connection may reach a relay without 8BITMIME: each message asks its session."""
    app.config.update(MAILING_CONNECTIONS=1, MAILING_MESSAGES_PER_CONNECTION=1)
    sink.eight_bit = 1  # only the first session offers 8BITMIME
    make_supporters(4, language="fr")
    body = "Écrivez aujourd’hui."
    mailing = approved_mailing(body=body)
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    assert len(sink.messages) == 4 and sink.sessions == 4
    # The first message goes 8bit (its session offers it), the others quoted-printable.
    assert [m.eight_bit for m in sink.messages] == [True, False, False, False]
    assert [("BODY=8BITMIME" in m.mail_options) for m in sink.messages] == [
        True,
        False,
        False,
        False,
    ]
    assert [m.data.isascii() for m in sink.messages] == [False, True, True, True]
    for got in sink.messages:
        assert body in parse(got.data).get_body(("plain",)).get_content()
