"""core.mail: one transactional email over SMTP_URL to a real SMTP server."""

import pytest

from campaign.core.mail import build_message, send_email


def test_send_email_delivers_text_and_html(app, inbox):
    message_id = send_email(
        "ana@example.org", "Confirmez", "Bonjour — текст", "<p>Bonjour</p>", headers={"X-Test": "1"}
    )
    [received] = inbox.messages()
    assert received["Message-ID"] == message_id and received["X-Test"] == "1"
    assert "текст" in received.get_body(("plain",)).get_content()
    assert received.get_body(("html",)).get_content().strip() == "<p>Bonjour</p>"


def test_header_injection_is_refused(app):
    with pytest.raises(ValueError):
        build_message("a@example.org", "Hi\r\nBcc: victim@example.org", "text")


def test_an_unknown_scheme_is_refused(app):
    app.config["SMTP_URL"] = "http://127.0.0.1:25"
    with pytest.raises(ValueError, match="smtp://"):
        send_email("a@example.org", "s", "t")
