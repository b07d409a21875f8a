"""Fixtures for mailings: a real SMTP server on loopback whose answers the test controls."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller as _Controller
from sqlalchemy import insert

from tests.services import free_port


class Controller(_Controller):
    """aiosmtpd's server thread, untraced: coverage measures campaign/, and the
    sinks' thread runs only aiosmtpd and the handlers here, which its tracer slowed
    several times over (a line of untraced code still costs a call into it)."""

    def _run(self, ready_event: threading.Event) -> None:
        sys.settrace(None)
        super()._run(ready_event)


@dataclass
class Received:
    sender: str
    recipient: str
    data: bytes
    at: float
    mail_options: list = field(default_factory=list)
    eight_bit: bool = True  # whether the session announced 8BITMIME
    started: float = 0.0  # when its MAIL FROM arrived: the transaction's start


@dataclass
class SinkHandler:
    """Records each message; ``rules`` (address → reply or "drop") decide refusals."""

    messages: list[Received] = field(default_factory=list)
    mail_rules: dict = field(default_factory=dict)
    rcpt_rules: dict = field(default_factory=dict)
    data_rules: dict = field(default_factory=dict)
    delay: float = 0.0
    pipelining: bool = False  # announce PIPELINING (RFC 2920) in the EHLO reply
    # Announce 8BITMIME (RFC 6152): True, False, or in how many sessions (the first ones).
    eight_bit: bool | int = True
    # Answer 354 to DATA even after refusing MAIL or RCPT (RFC 2920 wants 503 or 554).
    confused: bool = False
    sessions: int = 0
    # Messages in DATA at once (each waits ``delay`` there), and the most there were.
    in_flight: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # what aiosmtpd leaves to a handler with this hook
        with self.lock:
            self.sessions += 1
            announce = self.eight_bit
            if not isinstance(announce, bool):
                announce = self.sessions <= announce
        session.eight_bit = announce
        if not announce:
            responses = [line for line in responses if line[4:].upper() != "8BITMIME"]
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.started = time.time()
        rule = self._rule(self.mail_rules, address)
        if rule and not self.confused:
            return rule
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return rule or "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rule = self._rule(self.rcpt_rules, address)
        if rule and self.confused:
            envelope.rcpt_tos.append(address)  # so that DATA is answered 354
        if rule:
            return rule
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            with self.lock:
                self.in_flight -= 1
        recipient = envelope.rcpt_tos[0]
        rule = self._rule(self.data_rules, recipient)
        if rule == "drop":
            server.transport.close()
            return "421 4.4.2 gone"  # never reaches the client: the socket is closed
        if rule:
            return rule
        with self.lock:
            self.messages.append(
                Received(
                    envelope.mail_from,
                    recipient,
                    envelope.content,
                    time.time(),
                    list(envelope.mail_options),
                    getattr(session, "eight_bit", True),
                    getattr(envelope, "started", 0.0),
                )
            )
        return "250 OK"

    def _rule(self, rules: dict, address: str):
        rule = rules.get(address)
        if isinstance(rule, list):  # a sequence of answers, one per attempt
            return rule.pop(0) if rule else None
        return rule

    def count(self, address: str) -> int:
        with self.lock:
            return sum(1 for m in self.messages if m.recipient == address)

    def recipients(self) -> list[str]:
        with self.lock:
            return [m.recipient for m in self.messages]


@pytest.fixture(autouse=True)
def _close_smtp_pool():
    """Batches keep SMTP sessions for the next one; a test's relay ends with the test."""
    yield
    from campaign.mailings import smtp

    smtp.POOL.close()


@pytest.fixture
def sink():
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{port}"
    handler.port = port
    handler.controller = controller  # a test may stop it and start another on the port
    yield handler
    with contextlib.suppress(AssertionError):  # aiosmtpd: already stopped by the test
        handler.controller.stop()


@pytest.fixture
def mail_config(app_config, sink, redis_server):
    """Settings for a quick pipeline: small batches and windows, fast retries."""
    redis_server.empty()
    app_config["CELERY"] = {**app_config.get("CELERY", {}), "broker_url": redis_server.url}
    app_config.update(
        REDIS_URL=redis_server.url,
        SMTP_URL=sink.url,
        MAILING_BATCH_SIZE=50,
        MAILING_RECORD_WINDOW=10,
        MAILING_CONNECTIONS=2,
        MAILING_RETRY_SECONDS=0.0,
        MAILING_LEASE_SECONDS=30,
        MAILING_WAKE_SECONDS=1,
        MAIL_FROM="Urgent Action Network <ua@example.org>",
        VERP_DOMAIN="bounces.example.org",
        BASE_URL="http://ua.example.org",
    )
    return app_config


@pytest.fixture
def make_supporters(db):
    from campaign.supporters.models import Supporter

    def make(n: int, state: str = "subscribed", start: int = 0, **fields) -> list[int]:
        rows = [
            {
                "email": f"s{i}@example.net",
                "first_name": f"First{i}",
                "last_name": "Supporter",
                "language": fields.get("language", "en"),
                "state": state,
            }
            for i in range(start, start + n)
        ]
        db.session.execute(insert(Supporter), rows)
        db.session.commit()
        return list(range(start, start + n))

    return make


@pytest.fixture
def approved_mailing(db, make_user):
    from campaign.mailings import services

    def make(**kwargs):
        user = make_user("coordinator", "coord@example.org")
        values = {"kind": "free", "subject": "Act now", "body": "Please act.", "everyone": True}
        values.update(kwargs)
        mailing = services.create_mailing(user, **values)
        services.approve(user, mailing)
        db.session.commit()
        return mailing

    return make
