"""Mailings that fall due start at once; dead batches give their deliveries back; a
self-pause for temporary failures resumes by itself (issue #16, items 10, 11, 12)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaign.audit.models import AuditEvent
from campaign.auth.models import User
from campaign.core.models import Heartbeat
from campaign.core.types import utcnow
from campaign.mailings import outbox, services, tasks
from campaign.mailings.models import Delivery, Mailing, OutboxHolder
from tests.mailings.conftest import Controller

# Sender threads, batches and the recorder use connections of their own.
pytestmark = pytest.mark.commits


@pytest.fixture
def app_config(mail_config):
    mail_config.update(MAILING_TASK_SECONDS=60.0, MAILING_PROBE_SECONDS=1)
    return mail_config


@pytest.fixture
def wakes(monkeypatch):
    woken: list[int] = []
    monkeypatch.setattr(tasks, "wake", lambda mailing_id, tasks=None: woken.append(mailing_id))
    return woken


def sending(db, approved_mailing, wakes) -> Mailing:
    """An approved mailing, sent: its deliveries queued, the start's own wake-up forgotten."""
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    wakes.clear()
    return mailing


def sweep(db) -> None:
    """One run of beat's sweeper, committed as the task's commit point would."""
    tasks.sweep()
    db.session.commit()


def send_all(db, mailing_id: int, rounds: int = 40) -> None:
    for _ in range(rounds):
        if not outbox.run_batch(mailing_id):
            break
        db.session.commit()


# -- item 10: a mailing that falls due starts within seconds ----------------------------


def test_a_scheduled_mailing_starts_while_a_long_one_holds_the_worker(
    db, app, sink, make_supporters, approved_mailing, wakes
):
    """Before: a task kept its mailing for 20 s (and longer at a slow relay) while the
    other mailing's tasks waited in the queue behind it: the thank-you variant of an
    outcome notice started about a minute late. Now the running task hands over."""
    make_supporters(600)
    sink.delay = 0.02
    long_one = approved_mailing()
    creator = db.session.get(User, long_one.created_by_id)
    due_one = services.create_mailing(
        creator, kind="free", subject="Thank you", body="Thanks.", everyone=True
    )
    services.approve(creator, due_one)
    services.send(None, long_one)
    services.send(None, due_one, at=utcnow() + timedelta(seconds=1))
    long_id, due_id = long_one.id, due_one.id
    db.session.commit()  # and no transaction after it: SQLite's write lock stays free
    ended: list[float] = []

    def worker():
        with app.app_context():
            outbox.run_batch(long_id)
            db.session.commit()
            ended.append(time.monotonic())

    thread = threading.Thread(target=worker)
    thread.start()
    time.sleep(1.2)
    tasks.sweep()  # the beat tick: the scheduled mailing falls due
    db.session.commit()
    due_at = time.monotonic()
    assert db.session.get(Mailing, due_id).state == "sending"
    db.session.commit()
    thread.join(60)
    assert ended, "the long task never ended"
    # It hands over within a few seconds, instead of holding on for MAILING_TASK_SECONDS.
    assert ended[0] - due_at < 5.0, ended[0] - due_at
    counts = services.counts(long_id)
    assert counts["sending"] == 0 and 0 < counts["sent"] < 600
    assert counts["queued"] == 600 - counts["sent"]  # the rest is back in the queue, untouched
    assert not outbox.live_holders(long_id, utcnow() - timedelta(seconds=60))


def test_a_batch_hands_over_when_the_tick_waits_behind_it(
    db, app, sink, make_supporters, approved_mailing
):
    """The tick (which starts scheduled mailings) waits in the queue behind the batches."""
    from campaign.core.tasks import beat

    make_supporters(600)
    sink.delay = 0.02
    mailing = approved_mailing()
    services.send(None, mailing)
    period = 5.0
    schedule = {"tick": {"task": "core.tick", "schedule": period}}
    app.config["CELERY"] = {**app.config["CELERY"], "beat_schedule": schedule}
    beat("tick")
    db.session.commit()
    db.session.execute(
        update(Heartbeat)
        .where(Heartbeat.name == "tick")
        .values(at=utcnow() - timedelta(seconds=3 * period + 1))
    )
    db.session.commit()
    started = time.monotonic()
    outbox.run_batch(mailing.id)
    assert time.monotonic() - started < 5.0  # not MAILING_TASK_SECONDS (60)
    assert 0 < services.counts(mailing.id)["sent"] < 600


def test_no_handover_when_nobody_else_waits(db, app, sink, make_supporters, approved_mailing):
    app.config.update(MAILING_TASK_SECONDS=3.0)
    make_supporters(300)
    sink.delay = 0.02
    mailing = approved_mailing()
    services.send(None, mailing)
    db.session.commit()
    started = time.monotonic()
    outbox.run_batch(mailing.id)
    assert time.monotonic() - started >= 3.0  # kept on for its whole time


# -- item 11: a dead batch gives back only what it held -----------------------------------


def test_the_deliveries_of_a_silent_batch_go_back_at_once(
    db, app, make_supporters, approved_mailing, wakes
):
    app.config.update(MAILING_LEASE_SECONDS=300, MAILING_HOLDER_TIMEOUT=5)
    make_supporters(30)
    mailing = sending(db, approved_mailing, wakes)
    dead = outbox.register_holder(mailing.id)
    alive = outbox.register_holder(mailing.id)
    held_by_dead = outbox.claim(mailing.id, 10, 300, dead)
    held_by_alive = outbox.claim(mailing.id, 10, 300, alive)
    db.session.execute(
        update(OutboxHolder)
        .where(OutboxHolder.id == dead)
        .values(beat_at=utcnow() - timedelta(seconds=6))
    )
    db.session.commit()
    sweep(db)

    def states(recipients):
        ids = [r.delivery_id for r in recipients]
        return set(db.session.scalars(select(Delivery.state).where(Delivery.id.in_(ids))))

    assert states(held_by_dead) == {"queued"}  # long before their 300 s lease
    assert states(held_by_alive) == {"sending"}  # a live batch keeps its own
    assert db.session.get(OutboxHolder, dead) is None
    # A live batch holds this mailing: no extra tasks.
    assert wakes == []
    db.session.execute(
        update(OutboxHolder)
        .where(OutboxHolder.id == alive)
        .values(beat_at=utcnow() - timedelta(seconds=6))
    )
    db.session.commit()
    sweep(db)
    assert states(held_by_alive) == {"queued"}
    assert wakes == [mailing.id]  # the rest goes on at once, on whatever worker is there


def test_a_batch_that_failed_holding_nothing_does_not_hold_its_mailing_back(
    db, app, make_supporters, approved_mailing, wakes
):
    """A database outage fails a batch before it can drop its holder row; once its
    leases have run out and its deliveries are queued again, the tick wakes the
    mailing at once, not after MAILING_HOLDER_TIMEOUT (60 s)."""
    make_supporters(30)
    mailing = sending(db, approved_mailing, wakes)
    failed = outbox.register_holder(mailing.id)
    held = outbox.claim(mailing.id, 10, 300, failed)
    silent_since = utcnow() - timedelta(seconds=outbox.IDLE_HOLDER_SECONDS + 2)
    db.session.execute(
        update(OutboxHolder).where(OutboxHolder.id == failed).values(beat_at=silent_since)
    )
    db.session.commit()
    tasks.sweep()  # it still holds its deliveries: it may only be slow
    db.session.commit()
    assert wakes == []
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_([r.delivery_id for r in held]))
        .values(state="queued", lease_until=None)  # what the lease sweep does
    )
    db.session.commit()
    sweep(db)
    assert wakes == [mailing.id]


# -- item 12: a pause for temporary failures resumes by itself -----------------------------


def test_a_pause_for_temporary_failures_probes_and_resumes_by_itself(
    db, app, sink, make_supporters, approved_mailing, wakes
):
    app.config.update(MAILING_PAUSE_AFTER_FAILURES=5)
    make_supporters(20)
    sink.data_rules.update({f"s{i}@example.net": "421 4.3.2 try later" for i in range(20)})
    mailing = sending(db, approved_mailing, wakes)
    send_all(db, mailing.id, rounds=1)
    db.session.refresh(mailing)
    assert mailing.state == "paused" and mailing.resume_at is not None
    assert "Trying the relay again at" in mailing.pause_reason
    # The relay is now down altogether: the probe fails, the wait doubles.
    sink.controller.stop()
    db.session.execute(update(Mailing).where(Mailing.id == mailing.id).values(resume_at=utcnow()))
    db.session.commit()
    sweep(db)
    db.session.refresh(mailing)
    assert mailing.state == "paused" and mailing.resume_probes == 1
    assert mailing.resume_at > utcnow() + timedelta(seconds=1)
    assert "it did not answer" in mailing.pause_reason
    # The relay recovers: the next probe resumes the mailing, and staff see it.
    sink.data_rules.clear()
    sink.controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    sink.controller.start()
    db.session.execute(update(Mailing).where(Mailing.id == mailing.id).values(resume_at=utcnow()))
    db.session.commit()
    sweep(db)
    db.session.refresh(mailing)
    assert mailing.state == "sending" and mailing.pause_reason == ""
    assert wakes == [mailing.id]
    entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mailing.resume"))
    assert entry is not None and "resumed by itself" in entry.summary
    send_all(db, mailing.id)
    assert services.counts(mailing.id)["sent"] == 20
    assert sorted(sink.recipients()) == sorted(f"s{i}@example.net" for i in range(20))


def test_a_pause_for_permanent_failures_waits_for_staff(
    db, app, sink, make_supporters, approved_mailing, wakes
):
    app.config.update(MAILING_PAUSE_AFTER_FAILURES=5)
    make_supporters(10)
    sink.rcpt_rules.update({f"s{i}@example.net": "550 5.1.1 no such user" for i in range(10)})
    mailing = sending(db, approved_mailing, wakes)
    send_all(db, mailing.id, rounds=1)
    db.session.refresh(mailing)
    assert mailing.state == "paused" and mailing.resume_at is None
    sweep(db)
    db.session.refresh(mailing)
    assert mailing.state == "paused" and wakes == []
