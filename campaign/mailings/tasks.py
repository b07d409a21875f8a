"""Celery tasks of the outbox, and the sweeper that beat's tick runs.

Tasks take a mailing id and handle one bounded batch. A batch that leaves due
work enqueues its successor; the sweeper finds what no task carries (a lost
Celery message, a flushed Redis, a killed worker) and wakes it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import select, update

from campaign.core.tasks import periodic
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.mailings import outbox, recording, services
from campaign.mailings.models import Delivery, Mailing

log = logging.getLogger(__name__)


@shared_task(name="mailings.send_batch", ignore_result=True)
def send_batch(mailing_id: int) -> int:
    claimed = outbox.run_batch(mailing_id)
    if claimed and outbox.remaining(mailing_id):
        db.session.commit()
        services.wake(mailing_id, tasks=1)
    return claimed


@periodic
def sweep() -> None:
    """Re-queue expired leases, start scheduled mailings, wake stalled ones, finish done ones."""
    now = utcnow()
    for mailing in db.session.scalars(
        select(Mailing).where(Mailing.state.in_(("sending", "paused", "cancelled", "scheduled")))
    ):
        if mailing.state == "scheduled":
            if mailing.scheduled_at and mailing.scheduled_at <= now:
                services.start_due(mailing)  # not if it changed since approval
            continue
        requeue_expired(mailing.id, now)
        if mailing.state == "sending":
            _wake_if_stalled(mailing, now)
    db.session.commit()


def requeue_expired(mailing_id: int, now) -> int:
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.mailing_id == mailing_id,
            Delivery.state == "sending",
            Delivery.lease_until < now,
        )
        .values(state="queued", lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.warning("mailing %s: %s expired leases re-queued", mailing_id, result.rowcount)
    return result.rowcount


def _wake_if_stalled(mailing: Mailing, now) -> None:
    if recording.finish_if_done(mailing.id):
        return
    leased = db.session.scalar(
        select(Delivery.id)
        .where(Delivery.mailing_id == mailing.id, Delivery.state == "sending")
        .limit(1)
    )
    if leased is not None or not outbox.remaining(mailing.id):
        return  # someone is working on it, or the rest waits for its retry time
    pause = timedelta(seconds=current_app.config["MAILING_WAKE_SECONDS"])
    if mailing.woken_at and now - mailing.woken_at < pause:
        return
    mailing.woken_at = now
    mailing_id = mailing.id
    from campaign.core.db import on_commit

    on_commit(lambda: services.wake(mailing_id))


__all__ = ["send_batch", "sweep"]


@periodic
def poll_bounces() -> None:
    from campaign.mailings.bounces import poll_if_configured

    poll_if_configured()
