"""Fixtures for supporters: a real SMTP catcher on loopback, Celery run eagerly,
and small factories."""

from __future__ import annotations

import mailbox
import re
from email import policy
from email.parser import BytesParser

import pytest

from tests.services import free_port


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def app_config(app_config, smtp_port):
    return {
        **app_config,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "BASE_URL": "https://ua.test",
    }


@pytest.fixture
def eager(app):
    """Tasks enqueued after commit run at once, in this process (as a worker would)."""
    celery = app.extensions["celery"]
    celery.conf.task_always_eager = True
    celery.conf.task_eager_propagates = True
    yield celery
    celery.conf.task_always_eager = False


class Inbox:
    def __init__(self, path):
        self.path = path

    def messages(self):
        box = mailbox.Maildir(self.path, factory=None, create=True)
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(box.get_bytes(key)) for key in box.iterkeys()]

    def links(self, message) -> list[str]:
        text = message.get_body(("plain",)).get_content()
        return re.findall(r"https://ua\.test\S+", text)


@pytest.fixture
def inbox(app, smtp_port, tmp_path):
    """The local SMTP catcher (aiosmtpd) on loopback, keeping mail in a Maildir."""
    from campaign.mailbox.catcher import start

    folder = tmp_path / "caught"
    controller = start("127.0.0.1", smtp_port, folder)
    yield Inbox(folder)
    controller.stop()


@pytest.fixture
def make_supporter(app, db):
    from campaign.supporters.models import ConsentEvent, Supporter

    counter = iter(range(1, 10_000))

    def make(state: str = "subscribed", **fields):
        n = next(counter)
        values = {"email": f"person{n}@example.org", "language": "en", "interests": []}
        values.update(fields)
        supporter = Supporter(state=state, **values)
        db.session.add(supporter)
        db.session.add(ConsentEvent(supporter=supporter, new_state=state, source="test"))
        db.session.commit()
        return supporter

    return make


def path_of(url: str) -> str:
    return url.removeprefix("https://ua.test")


def fail_the_second_write(monkeypatch):
    """The import writer fails at its second batch ("disk gone"), as a crash would.

    Returns the real ``write``, to put back."""
    from campaign.supporters.imports.writer import Writer

    original = Writer.write
    calls = []

    def failing(self, batch, counts):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk gone")
        return original(self, batch, counts)

    monkeypatch.setattr(Writer, "write", failing)
    return original
