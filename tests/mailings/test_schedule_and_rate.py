"""A scheduled mailing started by the sweeper when due; the global send rate limit."""

from __future__ import annotations

import collections
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from campaign.core.types import utcnow
from campaign.mailings import services, tasks
from campaign.mailings.models import Delivery, Mailing
from campaign.mailings.outbox import RateLimit
from tests.mailings.test_pipeline import drain

RATE = 20


@pytest.fixture
def app_config(mail_config):
    mail_config.update(MAILING_PARALLEL_TASKS=1, MAILING_RATE_LIMIT=RATE)
    return mail_config


def deliveries(mailing_id: int) -> int:
    from campaign.extensions import db

    return db.session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.mailing_id == mailing_id)
    )


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_sweeper_starts_a_scheduled_mailing_when_due(db, sink, make_supporters, approved_mailing):
    make_supporters(3)
    mailing = approved_mailing()
    at = utcnow() + timedelta(hours=2)
    services.send(None, mailing, at=at, expected=3)
    db.session.commit()
    assert (mailing.state, deliveries(mailing.id)) == ("scheduled", 0)
    tasks.sweep()  # not due yet
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "scheduled"
    assert deliveries(mailing.id) == 0
    with time_machine.travel(at + timedelta(seconds=1), tick=False):
        tasks.sweep()
    db.session.expire_all()
    mailing = db.session.get(Mailing, mailing.id)
    assert (mailing.state, mailing.total, mailing.scheduled_at) == ("sending", 3, None)
    drain(mailing.id)
    assert sorted(sink.recipients()) == [f"s{i}@example.net" for i in range(3)]


def test_sweeper_leaves_an_unapproved_schedule_alone(db, make_supporters, approved_mailing):
    make_supporters(2)
    mailing = approved_mailing()
    mailing.state, mailing.scheduled_at = "scheduled", utcnow() - timedelta(minutes=5)
    mailing.approved_at = None  # e.g. edited after approval
    db.session.commit()
    tasks.sweep()
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).state == "scheduled"
    assert deliveries(mailing.id) == 0


@pytest.mark.commits  # sends on worker threads, each on a connection of its own
def test_rate_limit_holds_over_the_whole_pipeline(app, db, sink, make_supporters, approved_mailing):
    make_supporters(50)
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    drain(mailing.id)
    assert len(sink.messages) == 50
    times = sorted(m.at for m in sink.messages)
    # 50 at 20 a second span at least two second boundaries.
    assert times[-1] - times[0] >= 1.0
    per_second = collections.Counter(int(t) for t in times)
    assert len(per_second) >= 3
    # A message counted just before a second ends may land in the next one, at most one
    # per connection in flight.
    connections = app.config["MAILING_CONNECTIONS"]
    assert max(per_second.values()) <= RATE + connections


def test_rate_limit_is_shared_by_all_workers(redis_server):
    """Two limiters (two worker processes) share one budget through Redis."""
    limiters = [RateLimit(10, redis_server.url), RateLimit(10, redis_server.url)]
    taken: list[float] = []
    lock = threading.Lock()

    def work(limiter):
        for _ in range(15):
            limiter.take()
            with lock:
                taken.append(time.time())

    threads = [threading.Thread(target=work, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(taken) == 30
    # A moving window of 1 s: the 11th take after any take comes at least 1 s
    # later, so 30 takes span at least 2 s. The times are read just after each
    # take returns, and a loaded machine may delay a thread between the two: a
    # quarter of a second of that is allowed.
    taken.sort()
    assert min(later - earlier for earlier, later in zip(taken, taken[10:], strict=False)) >= 0.75
    assert taken[-1] - taken[0] >= 1.75


def test_no_limit_means_no_redis():
    limiter = RateLimit(0, "redis://127.0.0.1:1/0")  # nothing listens there
    started = time.monotonic()
    for _ in range(100):
        limiter.take()
    assert time.monotonic() - started < 0.5
