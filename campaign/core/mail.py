"""A small transactional sender over SMTP_URL, for single emails such as a
sign-up confirmation. Mass mailings have their own pipeline (mailings/).

``SMTP_URL`` is ``smtp://host:port`` (STARTTLS when the server offers it and
credentials are given) or ``smtps://user:pass@host:465`` (TLS from the start).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app


def _connect(url: str, timeout: float) -> smtplib.SMTP:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    smtp: smtplib.SMTP
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    elif parts.scheme == "smtp":
        smtp = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
        if parts.username and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
    else:
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}")
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp


def build_message(
    to: str, subject: str, text: str, html: str | None = None, *, headers: dict | None = None
) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = config["MAIL_FROM"].rsplit("@", 1)[-1].strip(">") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value  # EmailMessage refuses CR/LF in values: no header injection
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def send_email(
    to: str, subject: str, text: str, html: str | None = None, *, headers: dict | None = None
) -> str:
    """Send one message now; returns its Message-ID. SMTP errors propagate."""
    message = build_message(to, subject, text, html, headers=headers)
    timeout = current_app.config["SMTP_TIMEOUT"]
    with _connect(current_app.config["SMTP_URL"], timeout) as smtp:
        smtp.send_message(message)
    return message["Message-ID"]
