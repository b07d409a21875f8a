"""The outbox with real Celery workers, real Redis and a real SMTP server on loopback.

Each test runs a mailing of a few hundred to a few thousand deliveries through
worker processes (and beat, whose tick runs the sweeper) and breaks something
in the middle: kill -9 a worker, restart Redis, run two workers at once,
unsubscribe people. Then it counts what the SMTP server received.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from campaign.mailings import services
from campaign.mailings.models import Delivery, Mailing
from campaign.supporters.models import Supporter
from tests import celery_processes

WINDOW = 10


@pytest.fixture
def app_config(mail_config):
    mail_config.update(MAILING_RECORD_WINDOW=WINDOW, MAILING_LEASE_SECONDS=4)
    return mail_config


class Celery:
    def __init__(self, app, redis_server, sink, tmp_path):
        self.env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": redis_server.url,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SMTP_URL": sink.url,
            "BEAT_TICK_SECONDS": "1",
            "MAIL_FROM": app.config["MAIL_FROM"],
            "VERP_DOMAIN": app.config["VERP_DOMAIN"],
            "BASE_URL": app.config["BASE_URL"],
            "MAILING_BATCH_SIZE": "100",
            "MAILING_RECORD_WINDOW": str(WINDOW),
            "MAILING_CONNECTIONS": "2",
            "MAILING_LEASE_SECONDS": "4",
            # A batch silent this long (killed, or cut off by a database outage)
            # no longer holds its mailing back: 60 s by default.
            "MAILING_HOLDER_TIMEOUT": "5",
            "MAILING_WAKE_SECONDS": "2",
            "MAILING_RETRY_SECONDS": "0.2",
        }
        self.tmp = tmp_path
        self.session = app.extensions["sqlalchemy"].session
        self.processes: list[celery_processes.CeleryProcess] = []

    def start(self, *args: str, name: str) -> celery_processes.CeleryProcess:
        process = celery_processes.start(
            [*args, "--loglevel=INFO"], self.env, self.tmp / f"{name}.log", append=True
        )
        self.processes.append(process)
        return process

    def worker(self, name: str = "worker") -> celery_processes.CeleryProcess:
        return self.start(
            "worker", "--pool=solo", "--without-gossip", "--without-mingle", "-n", f"{name}@%h",
            name=name,
        )  # fmt: skip

    def beat(self) -> celery_processes.CeleryProcess:
        return self.start("beat", "--schedule", str(self.tmp / "schedule"), name="beat")

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2500:] for p in self.tmp.glob("*.log"))

    def stop(self) -> None:
        """Terminate every process; kill what is still there after 5 s (a worker's
        warm shutdown would wait out its batch, up to MAILING_TASK_SECONDS).

        The test's own transaction ends first: on SQLite (BEGIN IMMEDIATE) a read the
        test made after its last commit holds the write lock, and a worker blocked on
        it would not answer the SIGTERM."""
        self.session.rollback()
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 5
        for process in self.processes:
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def celery(app, redis_server, sink, tmp_path):
    runner = Celery(app, redis_server, sink, tmp_path)
    yield runner
    runner.stop()


def start_mailing(db, approved_mailing) -> int:
    mailing = approved_mailing()
    mailing_id = mailing.id  # read now: after the commit, a read would hold SQLite's lock
    services.send(None, mailing)
    db.session.commit()  # the commit enqueues the first tasks
    return mailing_id


def wait_for(db, predicate, timeout: float, celery: Celery, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        db.session.rollback()  # never keep a (write-locking, on SQLite) transaction open
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout} s\n{celery.logs()}")


def finished(db, mailing_id):
    return lambda: (
        db.session.scalar(select(Mailing.state).where(Mailing.id == mailing_id)) == "sent"
    )


def duplicates(sink) -> int:
    counts = collections.Counter(sink.recipients())
    return sum(n - 1 for n in counts.values())


@pytest.mark.slow
def test_kill_9_a_worker_mid_mailing(db, sink, make_supporters, approved_mailing, celery):
    make_supporters(1500)
    sink.delay = 0.002
    celery.beat()
    worker = celery.worker()
    mailing_id = start_mailing(db, approved_mailing)
    wait_for(db, lambda: len(sink.messages) >= 400, 60, celery, "400 messages never arrived")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    received_at_kill = len(sink.messages)
    celery.worker("again")
    wait_for(db, finished(db, mailing_id), 120, celery, "the mailing did not finish")
    assert set(sink.recipients()) == {f"s{i}@example.net" for i in range(1500)}
    doubled = duplicates(sink)
    print(f"kill -9 after {received_at_kill} messages: {doubled} duplicates (window {WINDOW})")
    # On the wire (2 connections) plus answered and unrecorded (the window).
    assert doubled <= 2 + WINDOW
    assert services.counts(mailing_id)["sent"] == 1500


@pytest.mark.slow
def test_restart_redis_mid_mailing(db, sink, make_supporters, approved_mailing, celery,
                                   redis_server):  # fmt: skip
    make_supporters(1500)
    sink.delay = 0.002
    celery.beat()
    celery.worker()
    mailing_id = start_mailing(db, approved_mailing)
    wait_for(db, lambda: len(sink.messages) >= 300, 60, celery, "300 messages never arrived")
    redis_server.restart()  # no persistence: every queued task message is gone
    wait_for(db, finished(db, mailing_id), 120, celery, "the mailing did not finish")
    assert sorted(sink.recipients()) == sorted(f"s{i}@example.net" for i in range(1500))
    assert duplicates(sink) == 0


@pytest.mark.slow
def test_two_workers_at_once_double_nobody(db, sink, make_supporters, approved_mailing, celery,
                                           db_backend):  # fmt: skip
    if db_backend != "postgresql":
        pytest.skip("two workers claiming at once is the PostgreSQL case (SKIP LOCKED)")
    make_supporters(3000)
    celery.beat()
    celery.worker("one")
    celery.worker("two")
    mailing_id = start_mailing(db, approved_mailing)
    wait_for(db, finished(db, mailing_id), 120, celery, "the mailing did not finish")
    assert sorted(sink.recipients()) == sorted(f"s{i}@example.net" for i in range(3000))
    assert duplicates(sink) == 0


@pytest.mark.slow
@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelining"])
def test_unsubscribe_while_the_mailing_runs(
    db, sink, make_supporters, approved_mailing, celery, pipelining
):
    """With pipelining across messages the read still comes right before MAIL FROM;
    the text then follows the relay's answer to the message before it (20 ms here)."""
    from campaign.supporters.services import unsubscribe

    make_supporters(400)
    sink.delay = 0.02
    sink.pipelining = pipelining
    celery.beat()
    celery.worker()
    mailing_id = start_mailing(db, approved_mailing)
    wait_for(db, lambda: len(sink.messages) >= 30, 60, celery, "30 messages never arrived")
    # Supporters a little ahead of the sending position: claimed in this batch
    # or the next, not yet sent. How many the senders reach before the unsubscribes
    # commit depends on the machine's load; those they do not reach must all be
    # suppressed, and at least a few are (more on a quiet machine).
    ahead = db.session.scalars(
        select(Delivery.supporter_id)
        .where(Delivery.mailing_id == mailing_id, Delivery.state.in_(("queued", "sending")))
        .order_by(Delivery.id)
        .offset(20)
        .limit(40)
    ).all()
    gone = set()
    for supporter in db.session.scalars(select(Supporter).where(Supporter.id.in_(ahead))):
        unsubscribe(supporter, source="test")
        gone.add(supporter.email)
    db.session.commit()  # and read nothing until the worker is done: SQLite's lock
    committed = time.time()
    wait_for(db, finished(db, mailing_id), 120, celery, "the mailing did not finish")
    # Nothing may start after the unsubscribe committed (RELIABILITY): no MAIL FROM
    # to those supporters later than the commit, give or take the step from a read
    # to its MAIL FROM. A transaction started before may end later: with pipelining
    # its text follows the relay's answer to the message before it, which on a
    # loaded machine (five test processes on two cores) came 0.1 s after the commit.
    late = [m for m in sink.messages if m.recipient in gone and m.started > committed + 0.1]
    assert not late
    reached = gone & set(sink.recipients())
    states = db.session.scalars(
        select(Delivery.state)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(Supporter.id.in_(ahead), Supporter.email.not_in(reached))
    ).all()
    assert len(states) >= 10 and set(states) == {"suppressed"}
    assert len(sink.messages) == 400 - len(states) and duplicates(sink) == 0
