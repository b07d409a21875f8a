"""The SMTP relay down when a mailing starts, and a relay that takes 10 s per answer."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from campaign.mailings import services
from campaign.mailings.models import Delivery, Mailing
from tests.faults.conftest import celery_runner, shown
from tests.mailings.test_workers import duplicates, finished, start_mailing, wait_for


def everyone(n: int) -> list[str]:
    return sorted(f"s{i}@example.net" for i in range(n))


@pytest.mark.slow
def test_smtp_down_at_start_pauses_with_the_reason_and_sends_once_when_back(
    app, db, relay, redis_server, tmp_path, make_supporters, approved_mailing, login
):
    celery = celery_runner(app, redis_server, relay, tmp_path)
    try:
        make_supporters(30)
        staff = login("coordinator")
        celery.beat()
        celery.worker()
        mailing_id = start_mailing(db, approved_mailing)

        def paused():
            state = db.session.scalar(select(Mailing.state).where(Mailing.id == mailing_id))
            return state == "paused" and services.counts(mailing_id)["sending"] == 0

        # Every attempt is refused; after MAILING_PAUSE_AFTER_FAILURES (50) failures
        # in a row the mailing pauses itself before any delivery runs out of attempts.
        wait_for(db, paused, 90, celery, "the mailing did not pause itself")
        mailing = db.session.get(Mailing, mailing_id)
        assert "failed sends in a row" in mailing.pause_reason
        assert "Connection refused" in mailing.pause_reason
        assert services.counts(mailing_id)["queued"] == 30  # nothing given up, nothing lost
        page = html.unescape(staff.get(f"/mailings/{mailing_id}").get_data(as_text=True))
        assert "Paused itself after" in page and "Connection refused" in page
        db.session.rollback()

        relay.up()
        response = staff.post(f"/mailings/{mailing_id}/resume")
        assert response.status_code == 302
        wait_for(db, finished(db, mailing_id), 90, celery, "the mailing did not finish")
        assert sorted(relay.recipients()) == everyone(30)
        assert duplicates(relay) == 0
        assert services.counts(mailing_id)["sent"] == 30
    finally:
        celery.stop()


@pytest.mark.slow
def test_a_relay_taking_10_s_per_answer_sends_each_message_once(
    db, sink, celery, make_supporters, approved_mailing, login
):
    # Each DATA answer takes 10 s: longer than the 4 s lease, shorter than the
    # client's SMTP_TIMEOUT (30 s by default). The batch renews its leases while
    # it waits, so the sweeper re-queues nothing and a second worker takes nothing.
    make_supporters(3)
    sink.delay = 10
    celery.env["MAILING_CONNECTIONS"] = "3"
    celery.beat()
    celery.worker("one")
    celery.worker("two")
    staff = login("viewer")
    mailing_id = start_mailing(db, approved_mailing)

    def on_the_wire():
        return services.counts(mailing_id)["sending"] == 3

    wait_for(db, on_the_wire, 30, celery, "the deliveries were not claimed")
    page = staff.get(f"/mailings/{mailing_id}").get_data(as_text=True)
    assert "badge-sending" in page and shown(page, "Sending") == 3
    db.session.rollback()
    wait_for(db, finished(db, mailing_id), 90, celery, "the mailing did not finish")
    assert sorted(sink.recipients()) == everyone(3)
    assert duplicates(sink) == 0
    attempts = db.session.scalars(
        select(Delivery.attempts).where(Delivery.mailing_id == mailing_id)
    ).all()
    assert attempts == [1, 1, 1]  # sent at the first attempt: no timeout, no retry
