"""Celery tasks of the outbox, the wake-up, and the sweeper that beat's tick runs.

Tasks take a mailing id and handle one bounded batch. A batch that leaves due
work enqueues its successor; the sweeper finds what no task carries (a lost
Celery message, a flushed Redis, a killed worker) and wakes it, and probes the
relay of a mailing that paused itself for temporary failures.

This module imports the outbox and the services; services reach ``wake`` here
through a thin function (no import cycle at module level).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from celery import shared_task, signals
from flask import current_app
from sqlalchemy import CursorResult, delete, select, update

from campaign.audit.services import record
from campaign.core.db import on_commit
from campaign.core.tasks import periodic
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.mailings import outbox, recording, services, settings, smtp
from campaign.mailings.bounces import poll_if_configured
from campaign.mailings.models import Delivery, DeliveryState, Mailing, MailingState, OutboxHolder
from campaign.mailings.signals import work_queued

log = logging.getLogger(__name__)


@shared_task(name="mailings.send_batch", ignore_result=True)
def send_batch(mailing_id: int) -> int:
    claimed = outbox.run_batch(mailing_id)
    if claimed and outbox.remaining(mailing_id):
        db.session.commit()
        wake(mailing_id, tasks=1)
    return claimed


def wake(mailing_id: int, tasks: int | None = None) -> bool:
    """Enqueue batch tasks; False when Redis is unreachable (the sweeper tries again)."""
    count = tasks or current_app.config["MAILING_PARALLEL_TASKS"]
    try:
        for _ in range(count):
            send_batch.apply_async((mailing_id,), retry=False)
    except Exception:  # noqa: BLE001 - any broker trouble: the database still holds the work
        log.warning("could not enqueue mailing %s; the sweeper will retry", mailing_id)
        return False
    return True


@work_queued.connect
def _work_queued(mailing_id: int, **_kwargs) -> None:
    wake(mailing_id)


@periodic
def sweep() -> None:
    """Re-queue orphaned and expired deliveries, start scheduled mailings, wake stalled
    ones, probe the relay of self-paused ones, finish done ones."""
    now = utcnow()
    requeue_orphans(now)
    for mailing in db.session.scalars(
        select(Mailing).where(
            Mailing.state.in_(
                (
                    MailingState.SENDING,
                    MailingState.PAUSED,
                    MailingState.CANCELLED,
                    MailingState.SCHEDULED,
                )
            )
        )
    ):
        if mailing.state == MailingState.SCHEDULED:
            if mailing.scheduled_at and mailing.scheduled_at <= now:
                services.start_due(mailing)  # not if it changed since approval
            continue
        requeue_expired(mailing.id, now)
        if mailing.state == MailingState.SENDING:
            _wake_if_stalled(mailing, now)
        elif (
            mailing.state == MailingState.PAUSED and mailing.resume_at and mailing.resume_at <= now
        ):
            _probe_and_resume(mailing, now)
    db.session.commit()


def _rows_changed(statement) -> int:
    """The rows an UPDATE changed (execute types its result as a plain Result)."""
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


def requeue_expired(mailing_id: int, now) -> int:
    changed = _rows_changed(
        update(Delivery)
        .where(
            Delivery.mailing_id == mailing_id,
            Delivery.state == DeliveryState.SENDING,
            Delivery.lease_until < now,
        )
        .values(state=DeliveryState.QUEUED, lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed:
        log.warning("mailing %s: %s expired leases re-queued", mailing_id, changed)
    return changed


def requeue_orphans(now) -> int:
    """Deliveries of batches that stopped beating (a killed worker) go back to the queue now.

    Only those: the deliveries other batches hold stay theirs. The holder rows go.
    """
    cutoff = now - timedelta(seconds=current_app.config["MAILING_HOLDER_TIMEOUT"])
    dead = list(db.session.scalars(select(OutboxHolder.id).where(OutboxHolder.beat_at < cutoff)))
    if not dead:
        return 0
    changed = _rows_changed(
        update(Delivery)
        .where(Delivery.state == DeliveryState.SENDING, Delivery.holder.in_(dead))
        .values(state=DeliveryState.QUEUED, lease_until=None, holder=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(OutboxHolder).where(OutboxHolder.id.in_(dead)))
    if changed:
        log.warning(
            "%s deliveries of %s silent batches re-queued before their lease ran out",
            changed,
            len(dead),
        )
    return changed


def _wake_if_stalled(mailing: Mailing, now) -> None:
    if recording.finish_if_done(mailing.id):
        return
    if not outbox.remaining(mailing.id):
        return  # the rest is leased, or waits for its retry time
    # Due deliveries and no batch alive on this mailing: its task messages are lost
    # (a killed worker, a flushed Redis). Deliveries still leased by a live batch do
    # not hold the rest back (issue #16, item 11).
    cutoff = now - timedelta(seconds=current_app.config["MAILING_HOLDER_TIMEOUT"])
    if outbox.live_holders(mailing.id, cutoff):
        return
    pause = timedelta(seconds=current_app.config["MAILING_WAKE_SECONDS"])
    if mailing.woken_at and now - mailing.woken_at < pause:
        return
    mailing.woken_at = now
    mailing_id = mailing.id
    on_commit(lambda: wake(mailing_id))


def _probe_and_resume(mailing: Mailing, now) -> None:
    """A mailing paused for temporary failures: resume once the relay takes a session again.

    Staff see it in the mailing's audit trail; a failed probe doubles the wait
    (at most an hour) and says when the next one is.
    """
    config = current_app.config
    relay = smtp.Relay.from_url(config["SMTP_URL"], config["SMTP_TIMEOUT"], config["SMTP_CA_FILE"])
    claimed = _rows_changed(
        update(Mailing)
        .where(
            Mailing.id == mailing.id, Mailing.state == MailingState.PAUSED, Mailing.resume_at <= now
        )
        .values(resume_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # one prober of two beats; no lock held across the probe
    if not claimed:
        return
    outcome = smtp.probe(relay)
    db.session.refresh(mailing)
    if mailing.state != MailingState.PAUSED:
        return  # staff acted while the probe ran
    if outcome.ok:
        mailing.state, mailing.pause_reason, mailing.consecutive_failures = (
            MailingState.SENDING,
            "",
            0,
        )
        mailing.resume_probes += 1
        record(
            None,
            "mailing.resume",
            mailing,
            f"Mailing {mailing.id} resumed by itself: the mail relay answers again",
        )
        mailing_id = mailing.id
        on_commit(lambda: wake(mailing_id))
        return
    mailing.resume_probes += 1
    delay = config["MAILING_PROBE_SECONDS"] * 2 ** min(mailing.resume_probes, 6)
    mailing.resume_at = utcnow() + timedelta(seconds=min(delay, 3600))
    head = mailing.pause_reason.split(" Trying the relay again")[0]
    mailing.pause_reason = (
        f"{head[:300]} Trying the relay again at {mailing.resume_at:%H:%M} UTC "
        f"(it did not answer: {outcome.detail})"
    )[:500]


@signals.worker_init.connect(weak=False)
def _check_settings(sender=None, **_kwargs) -> None:
    """Refuse to start a worker whose outbox settings could stall a mailing."""
    app = getattr(getattr(sender, "app", None), "flask_app", None)
    if app is None:
        return
    pool = getattr(sender, "pool_cls", None)
    kind = "threads" if pool is not None and "thread" in str(pool).lower() else "other"
    try:
        settings.check_worker(app.config, kind, getattr(sender, "concurrency", 1) or 1)
    except settings.SettingError as error:
        log.error("the worker refuses to start: %s", error)
        raise SystemExit(f"campaign worker: {error}") from error


@signals.worker_process_shutdown.connect(weak=False)
@signals.worker_shutdown.connect(weak=False)
def _close_smtp_pool(**_kwargs) -> None:
    """QUIT every idle SMTP session of this process (prefork children and --pool=solo)."""
    smtp.POOL.close()


@periodic
def poll_bounces() -> None:
    poll_if_configured()


__all__ = ["send_batch", "sweep", "wake"]
