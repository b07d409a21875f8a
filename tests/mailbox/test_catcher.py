"""The local SMTP catcher keeps what it receives; staff read it on the Mailbox page."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from campaign.mailbox.catcher import start
from tests.services import free_port

# Pages, headers and messages: nothing here depends on the SQL dialect.
pytestmark = pytest.mark.any_db


@pytest.fixture
def catcher(app):
    port = free_port()
    controller = start("127.0.0.1", port, app.config["MAILBOX_PATH"])
    yield port
    controller.stop()


def send(port: int, subject: str, html: str | None = None) -> None:
    message = EmailMessage()
    message["From"] = "ua@localhost"
    message["To"] = "supporter@example.org"
    message["Subject"] = subject
    message.set_content("Please write to the Prosecutor General.\nПожалуйста, напишите.")
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(message)


def test_mail_sent_to_the_catcher_shows_in_the_mailbox(app, catcher, login):
    send(catcher, "UA 205/16: third update", "<p>Hello <script>alert(1)</script></p>")
    client = login("campaigner")
    listing = client.get("/mailbox/").get_data(as_text=True)
    assert "UA 205/16: third update" in listing and "supporter@example.org" in listing
    from campaign.mailbox.services import page

    key = page()[0][0].key
    shown = client.get(f"/mailbox/{key}").get_data(as_text=True)
    assert "Пожалуйста, напишите." in shown
    assert "X-Peer" in shown  # headers are listed
    html = client.get(f"/mailbox/{key}/html")
    assert html.status_code == 200
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    raw = client.get(f"/mailbox/{key}/raw")
    assert raw.mimetype == "message/rfc822" and b"Subject: UA 205/16" in raw.data


def test_unknown_or_hostile_keys_are_404(app, login):
    client = login("campaigner")
    for key in ("nope", "..%2F..%2Fsecret_key", "a" * 300):
        assert client.get(f"/mailbox/{key}").status_code == 404


def test_viewers_cannot_read_the_mailbox(app, login):
    assert login("viewer").get("/mailbox/").status_code == 403
