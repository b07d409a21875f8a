"""Reading the catcher's Maildir for the Mailbox page."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

from campaign.mailbox.catcher import ensure_maildir

_KEY = re.compile(r"^[A-Za-z0-9._\-]{1,200}$")


@dataclass
class Summary:
    key: str
    sender: str
    recipients: str
    subject: str
    date: str


def _maildir() -> mailbox.Maildir:
    path = current_app.config["MAILBOX_PATH"]
    ensure_maildir(path)
    return mailbox.Maildir(path, factory=None, create=True)


def _files() -> list[os.DirEntry]:
    root = Path(current_app.config["MAILBOX_PATH"])
    entries = []
    for sub in ("new", "cur"):
        folder = root / sub
        if folder.is_dir():
            entries.extend(e for e in os.scandir(folder) if e.is_file())
    return sorted(entries, key=lambda e: e.stat().st_mtime, reverse=True)


def page(number: int = 1, per_page: int = 50) -> tuple[list[Summary], int]:
    """One page of messages, newest first, parsing only that page's headers."""
    files = _files()
    start = max(number - 1, 0) * per_page
    summaries = []
    for entry in files[start : start + per_page]:
        with open(entry.path, "rb") as fh:
            headers = email.parser.BytesHeaderParser(policy=email.policy.default).parse(fh)
        summaries.append(
            Summary(
                key=entry.name.split(":", 1)[0],
                sender=str(headers.get("From", "")),
                recipients=str(headers.get("X-RcptTo") or headers.get("To", "")),
                subject=str(headers.get("Subject", "")),
                date=str(headers.get("Date", "")),
            )
        )
    return summaries, len(files)


def get(key: str) -> EmailMessage | None:
    if not _KEY.match(key or ""):
        return None
    try:
        with _maildir().get_file(key) as fh:
            return email.message_from_binary_file(fh, policy=email.policy.default)
    except KeyError:
        return None


def raw(key: str) -> bytes | None:
    if not _KEY.match(key or ""):
        return None
    try:
        return _maildir().get_bytes(key)
    except KeyError:
        return None


def parts(message: EmailMessage) -> tuple[str | None, str | None]:
    """The plain-text and HTML bodies, if any."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (text.get_content() if text else None, html.get_content() if html else None)


def clear() -> int:
    box = _maildir()
    keys = list(box.keys())
    for key in keys:
        box.discard(key)
    return len(keys)
