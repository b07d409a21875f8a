"""Fault tests: real Celery worker and beat processes, real Redis, PostgreSQL and SMTP.

Each test breaks one part of the system while a mailing runs (or before it
starts) and then counts what the SMTP server received: nobody missed, nobody
doubled beyond the documented window, and the mailing page says what is going on.
"""

from __future__ import annotations

import re

import pytest

from campaign.config import from_environment
from tests.mailings.conftest import (  # noqa: F401 - fixtures shared with these tests
    Controller,
    SinkHandler,
    approved_mailing,
    mail_config,
    make_supporters,
    sink,
)
from tests.mailings.test_workers import Celery
from tests.services import free_port


class Relay(SinkHandler):
    """A sink that can be down: nothing listens on its port until ``up()``."""

    def __init__(self):
        super().__init__()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.controller = None

    def up(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def relay():
    server = Relay()
    yield server
    server.down()


def mail_settings(config: dict, smtp, redis_server) -> dict:
    """The settings of tests/mailings' ``mail_config``, with Celery's production settings
    (acks late, the short publish retries that keep a request quick when Redis is down)."""
    redis_server.empty()
    config.update(
        CELERY={**from_environment()["CELERY"], "broker_url": redis_server.url},
        REDIS_URL=redis_server.url,
        SMTP_URL=smtp.url,
        MAILING_BATCH_SIZE=50,
        MAILING_RECORD_WINDOW=10,
        MAILING_CONNECTIONS=2,
        MAILING_RETRY_SECONDS=0.0,
        MAILING_LEASE_SECONDS=4,
        MAILING_WAKE_SECONDS=1,
        MAIL_FROM="Urgent Action Network <ua@example.org>",
        VERP_DOMAIN="bounces.example.org",
        BASE_URL="http://ua.example.org",
    )
    return config


@pytest.fixture
def app_config(mail_config, sink, redis_server):  # noqa: F811 - the shared fixtures
    return mail_settings(mail_config, sink, redis_server)


class Processes(Celery):
    """tests/mailings' worker and beat runner."""


def celery_runner(app, redis_server, smtp, tmp_path) -> Processes:
    return Processes(app, redis_server, smtp, tmp_path)


@pytest.fixture
def celery(app, redis_server, sink, tmp_path):  # noqa: F811 - the shared fixture
    runner = celery_runner(app, redis_server, sink, tmp_path)
    yield runner
    runner.stop()


def shown(page: str, label: str) -> int:
    """The count the mailing page shows under ``label`` (its progress card)."""
    match = re.search(rf"<dt>\s*{label}\s*</dt>\s*<dd>\s*([\d,]+)\s*</dd>", page)
    assert match, f"no {label} count on the mailing page"
    return int(match.group(1).replace(",", ""))
