"""Redis down when a mailing starts, and two beat processes by mistake."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.core.types import utcnow
from campaign.mailings import services
from campaign.mailings.models import Mailing
from tests.faults.conftest import shown
from tests.mailings.test_workers import duplicates, finished, wait_for


def everyone(n: int) -> list[str]:
    return sorted(f"s{i}@example.net" for i in range(n))


@pytest.fixture
def app_config(app_config, redis_server):
    # As in production: the rate limits count in Redis.
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_server.url)
    return app_config


@pytest.mark.slow
def test_redis_down_when_a_mailing_starts(db, sink, celery, redis_server, make_supporters,
                                          approved_mailing, login):  # fmt: skip
    make_supporters(200)
    mailing = approved_mailing()
    mailing_id = mailing.id
    celery.beat()
    celery.worker()
    redis_server.stop()
    try:
        # Staff can still log in (the rate limit falls back to memory) and send.
        staff = login("coordinator")
        started = time.monotonic()
        response = staff.post(
            f"/mailings/{mailing_id}/send", data={"confirm": "y", "expected": "200", "typed": "200"}
        )
        seconds = time.monotonic() - started
        print(f"send with Redis down answered {response.status_code} in {seconds:.2f} s")
        assert response.status_code == 302, response.get_data(as_text=True)
        page = staff.get(f"/mailings/{mailing_id}").get_data(as_text=True)
        assert "badge-sending" in page and shown(page, "Queued") == 200  # none lost
        assert db.session.get(Mailing, mailing_id).state == "sending"
        db.session.rollback()
        time.sleep(2)  # the worker and beat keep trying to reach Redis meanwhile
        assert not sink.messages
    finally:
        redis_server.start()  # same port, empty: the wake-up message was never stored
    wait_for(db, finished(db, mailing_id), 90, celery, "the sweeper never sent the mailing")
    assert sorted(sink.recipients()) == everyone(200)
    assert duplicates(sink) == 0


@pytest.mark.slow
def test_two_beats_send_a_scheduled_mailing_once(db, sink, celery, make_supporters,
                                                 approved_mailing):  # fmt: skip
    make_supporters(300)
    sink.delay = 0.005
    mailing = approved_mailing()
    services.send(None, mailing, at=utcnow() + timedelta(seconds=4))
    mailing_id = mailing.id  # read before the commit: after it, SQLite's lock would be held
    db.session.commit()
    # Two beats by mistake (each ticks every second) and two workers, so that
    # sweeps run side by side: the scheduled mailing falls due while both tick.
    celery.beat()
    celery.start("beat", "--schedule", str(celery.tmp / "schedule-2"), name="beat-2")
    celery.worker("one")
    celery.worker("two")
    wait_for(db, finished(db, mailing_id), 90, celery, "the mailing did not finish")
    assert sorted(sink.recipients()) == everyone(300)
    assert duplicates(sink) == 0
    started = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "mailing.send")
    ).all()
    assert len(started) == 1  # started once
    assert services.counts(mailing_id)["sent"] == 300
