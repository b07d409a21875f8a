"""A due outcome notice survives killed processes and a second beat: it is sent once.

Real Celery worker and beat processes, real Redis and a real SMTP server on
loopback. The notice falls due while everything is down (kill -9); when the
processes come back, with two beats by mistake, it starts once and every
supporter in the case audience gets exactly one copy.
"""

from __future__ import annotations

import collections
import email
import email.policy
import os
import signal
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from campaign.cases import services as cases
from campaign.core.types import utcnow
from campaign.letters.services import record_action
from campaign.mailings import services as mailings
from campaign.mailings.models import Delivery, Mailing
from campaign.outcomes import lifecycle, services
from campaign.outcomes.models import OutcomeNotice
from campaign.supporters.models import Supporter
from tests.mailings.test_workers import Celery, wait_for


@pytest.fixture
def app_config(mail_config):
    return mail_config


@pytest.fixture
def celery(app, redis_server, sink, tmp_path):
    runner = Celery(app, redis_server, sink, tmp_path)
    yield runner
    runner.stop()


@pytest.mark.slow
def test_a_notice_due_while_everything_is_down_is_sent_once(
    app,
    db,
    sink,
    make_supporters,
    celery,
):
    make_supporters(40)
    acting = db.session.scalar(select(Supporter).order_by(Supporter.id).limit(1))
    case = cases.create_case(
        None, {"title": "Tatar leaders", "summary": "S", "recommended_actions": "A"},
        number=205, year=2016,
    )  # fmt: skip
    cases.issue_case(None, case)
    cases.link_person(None, case, cases.save_person(None, None, {"name": "Ilmi Umerov"}))
    appeal = mailings.create_mailing(
        None, kind="appeal", subject="Appeal", case_id=case.id, everyone=True
    )
    mailings.approve(None, appeal)
    mailings.start(None, appeal)
    db.session.execute(update(Delivery).values(state="sent"))
    record_action(case, supporter=acting, channel="email", source="email link")
    closing = services.close_case(
        None, case, decision="no_further_action",
        outcomes=[{"person_id": case.people[0].id, "outcome": "released",
                   "on": date(2017, 10, 25)}],
    )  # fmt: skip
    due = utcnow() + timedelta(seconds=6)
    notice = lifecycle.schedule_notice(None, case, closing, timing="org_time", at=due)
    # Read before the commit: a read after it would begin a transaction, and on SQLite
    # (BEGIN IMMEDIATE) hold the write lock while the worker and beat are up.
    notice_id, subject, acting_email = notice.id, notice.subject, acting.email
    db.session.commit()

    # Up, then everything killed before the notice falls due.
    beat, worker = celery.beat(), celery.worker()
    time.sleep(3)
    for process in (beat, worker):
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    state = db.session.scalar(select(OutcomeNotice.state).where(OutcomeNotice.id == notice_id))
    db.session.rollback()
    assert state == "scheduled"
    time.sleep(max((due - utcnow()).total_seconds(), 0) + 2)  # it falls due while down

    # Back, with two beats by mistake and two workers.
    celery.beat()
    celery.start("beat", "--schedule", str(celery.tmp / "schedule-2"), name="beat-2")
    celery.worker("one")
    celery.worker("two")

    def all_sent():
        row = db.session.get(OutcomeNotice, notice_id)
        if row is None or row.state != "started":
            return False
        states = db.session.scalars(
            select(Mailing.state).where(Mailing.id.in_((row.mailing_id, row.thanks_mailing_id)))
        ).all()
        return all(s in ("sent", "cancelled") for s in states)

    wait_for(db, all_sent, 90, celery, "the notice was not sent")
    mailings_started = db.session.scalars(
        select(Mailing.id).where(Mailing.case_id == case.id, Mailing.kind == "outcome")
    ).all()
    assert len(mailings_started) == 2  # started once: one main and one thank-you mailing
    copies = collections.Counter(m.recipient for m in sink.messages if subject.encode() in m.data)
    assert len(copies) == 40, celery.logs()
    assert set(copies.values()) == {1}
    texts = {
        m.recipient: email.message_from_bytes(m.data, policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
        for m in sink.messages
        if subject.encode() in m.data
    }
    thanked = [who for who, text in texts.items() if "yours was one of 1 appeal for" in text]
    assert thanked == [acting_email]  # the one supporter who acted got the thank-you
