"""Recording send results in small, short transactions (the outbox's window).

The recorder runs in the batch's main thread while sender threads send (and, on
PostgreSQL, a claimer thread claims more). It commits results every few messages (at the
latest every 0.2 s) and only then gives their window permits back, which bounds
what a crash can repeat. It also beats the batch's holder row every second (the
sweeper's sign of life).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import timedelta

from flask import current_app
from sqlalchemy import CursorResult, bindparam, exists, text, update

from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db
from campaign.mailings import smtp
from campaign.mailings.models import Bounce, Delivery, DeliveryState, Mailing, MailingState

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.2
# How often the recorder looks for new results while fewer than a flush are waiting.
POLL_SECONDS = 0.005

# The statements of every flush, as plain SQL compiled once: the ORM's update()
# cost several times the database's own work per flush (measured: ~0.2 ms a result).
_FINAL = text(
    "UPDATE deliveries SET state = :state, sent_at = :sent_at, lease_until = NULL, "  # noqa: S608
    f"updated_at = :now WHERE state = '{DeliveryState.SENDING}' AND id IN :ids"
).bindparams(
    bindparam("sent_at", type_=UTCDateTime),
    bindparam("now", type_=UTCDateTime),
    bindparam("ids", expanding=True),
)
_NO_FAILURES = text(
    "UPDATE mailings SET consecutive_failures = 0, resume_probes = 0 "
    "WHERE id = :id AND (consecutive_failures <> 0 OR resume_probes <> 0)"
)
BEAT_SECONDS = 1.0
_STATE = text("SELECT state FROM mailings WHERE id = :id")


class Recorder:
    def __init__(self, mailing_id: int, batch, window: int, refill=None, holder=None):
        self.mailing_id = mailing_id
        self.holder = holder
        self.beaten = time.monotonic()
        self.batch = batch
        # Claims more before the senders run dry (outbox.Refill: on PostgreSQL on a
        # thread of its own), handed over to the senders by this thread; without it,
        # the batch in hand is all there is.
        self.refill = refill
        if refill is None:
            batch.close()
        # Half the window: the senders keep the other half while a flush commits.
        self.flush_at = max(1, window // 2)
        self.state_checked = 0.0  # when the mailing's state (paused?) was last read
        # Results recorded per delivery: a retry that falls due while the task runs
        # is claimed again, so one delivery may be in the batch more than once.
        self.recorded: Counter[int] = Counter()
        self.started = time.monotonic()
        config = current_app.config
        self.lease = config["MAILING_LEASE_SECONDS"]
        self.lease_renewed = time.monotonic()

    def run(self, threads) -> None:
        try:
            self._run(threads)
        except BaseException:
            # No more commits (a flush failed, or anything else here): stop sending.
            # Senders waiting for a permit are let through to see the stop and end
            # (they hold DB and SMTP connections) rather than wait forever.
            self.batch.stop.set()
            self.batch.window.release(len(self.batch.recipients) + len(threads))
            raise
        finally:
            self.batch.close()
            if self.refill is not None:
                # A claim in progress ends (committed); what nobody took goes back.
                self.refill.stop()
        self.release_unsent()

    def _run(self, threads) -> None:
        pending: list = []
        results = self.batch.results  # senders append, only this thread pops
        last = time.monotonic()
        while True:
            if self.refill is not None:
                self.refill.step()
            alive = any(t.is_alive() for t in threads)  # before draining: see the end
            while results:
                pending.append(results.popleft())
            if alive and len(pending) < self.flush_at:
                # Look again in a moment: one wake-up per POLL_SECONDS whatever the
                # rate, where a queue woke this thread for every result.
                time.sleep(POLL_SECONDS)
                while results:
                    pending.append(results.popleft())
            due = time.monotonic() - last >= FLUSH_SECONDS
            if pending and (len(pending) >= self.flush_at or due or not alive):
                self.flush(pending)
                pending, last = [], time.monotonic()
            elif due:
                self._renew_lease()
                db.session.commit()
                last = time.monotonic()
            if not alive and not results and not pending:
                break

    def flush(self, results: list) -> None:
        try:
            paused = record_results(self.mailing_id, results)
            self._renew_lease()
            state = MailingState.PAUSED if paused else MailingState.SENDING
            if not paused and time.monotonic() >= self.state_checked + FLUSH_SECONDS:
                state = db.session.scalar(_STATE, {"id": self.mailing_id})
                self.state_checked = time.monotonic()
            db.session.commit()
        except Exception:
            # Without a record the window cannot move: the batch stops (``run``). The
            # leases expire and the sweeper re-queues.
            db.session.rollback()
            log.exception("recording results of mailing %s failed", self.mailing_id)
            raise
        self.recorded.update(r.recipient.delivery_id for r in results)
        if state != MailingState.SENDING:
            # Paused (by this very flush, or by staff) or cancelled: send no more of
            # this batch. Set before the permits go back, so that no sender waiting
            # for one takes another recipient.
            self.batch.stop.set()
        self.batch.window.release(len(results))

    def _renew_lease(self) -> None:
        """Beat the holder row every second and renew the leases every third of one (no commit)."""
        from campaign.mailings import outbox

        now = time.monotonic()
        if self.holder and now - self.beaten >= BEAT_SECONDS:
            outbox.beat_holder(self.holder)
            self.beaten = now
        if now - self.lease_renewed < self.lease / 3:
            return
        _chunked_update(
            self._open_ids(),
            {"lease_until": utcnow() + timedelta(seconds=self.lease)},
            state=DeliveryState.SENDING,
        )
        self.lease_renewed = now

    def _open_ids(self) -> list[int]:
        """Deliveries whose latest claim in this batch has no recorded result yet."""
        with self.batch.ready:  # the list is extended under this lock
            recipients = list(self.batch.recipients)
        claimed = Counter(r.delivery_id for r in recipients)
        return [id_ for id_, times in claimed.items() if times > self.recorded[id_]]

    def release_unsent(self) -> None:
        """Deliveries claimed but never tried (pause, cancel, hand-over) go back to the queue."""
        from campaign.mailings import outbox

        requeue(self._open_ids())
        if self.holder:
            outbox.drop_holder(self.holder)
        finish_if_done(self.mailing_id)
        db.session.commit()


def requeue(ids: list[int]) -> None:
    """Claimed deliveries never tried go back to the queue as if never claimed (no commit)."""
    if ids:
        _chunked_update(
            ids,
            {"state": DeliveryState.QUEUED, "lease_until": None, "attempts": Delivery.attempts - 1},
            state=DeliveryState.SENDING,
        )


def _chunked_update(ids: list[int], values: dict, state: str | None = None) -> None:
    for start in range(0, len(ids), 500):
        statement = update(Delivery).where(Delivery.id.in_(ids[start : start + 500]))
        if state:
            statement = statement.where(Delivery.state == state)
        db.session.execute(statement.values(**values).execution_options(synchronize_session=False))


def record_results(mailing_id: int, results: list) -> bool:
    """Write one window of results (no commit); True if they paused the mailing."""
    now = utcnow()
    by_status: dict[str, list] = {}
    for result in results:
        by_status.setdefault(result.status, []).append(result)
    for status, sent_at in ((smtp.SENT, now), (DeliveryState.SUPPRESSED, None)):
        ids = [r.recipient.delivery_id for r in by_status.get(status, [])]
        for start in range(0, len(ids), 500):
            db.session.execute(
                _FINAL,
                {"state": status, "sent_at": sent_at, "now": now, "ids": ids[start : start + 500]},
            )
    # The relay refused our session (our settings): as if never tried; the pause tells staff.
    requeue([r.recipient.delivery_id for r in by_status.get(smtp.UNUSABLE, [])])
    for result in by_status.get(smtp.TEMPORARY, []):
        _retry_or_fail(result, now)
    for result in by_status.get(smtp.PERMANENT, []) + by_status.get(smtp.REJECTED, []):
        _fail(result, now, bounce=result.status == smtp.PERMANENT)
    return _count_failures(mailing_id, results)


def _retry_or_fail(result, now) -> None:
    config = current_app.config
    delivery = db.session.get(Delivery, result.recipient.delivery_id)
    if delivery is None or delivery.state != DeliveryState.SENDING:
        return
    delivery.last_error = result.detail[:500]
    delivery.lease_until, delivery.updated_at = None, now
    if delivery.attempts >= config["MAILING_MAX_ATTEMPTS"]:
        delivery.state = DeliveryState.FAILED
        return
    delay = config["MAILING_RETRY_SECONDS"] * 2 ** max(delivery.attempts - 1, 0)
    delivery.state = DeliveryState.QUEUED
    delivery.due_at = now + timedelta(seconds=min(delay, 6 * 3600))


def _fail(result, now, bounce: bool) -> None:
    delivery = db.session.get(Delivery, result.recipient.delivery_id)
    if delivery is None or delivery.state != DeliveryState.SENDING:
        return
    delivery.state, delivery.last_error = DeliveryState.FAILED, result.detail[:500]
    delivery.lease_until, delivery.updated_at = None, now
    if bounce and delivery.supporter_id is not None:
        from campaign.mailings.bounces import hard_bounce

        db.session.add(
            Bounce(
                delivery_id=delivery.id,
                mailing_id=delivery.mailing_id,
                supporter_id=delivery.supporter_id,
                kind="hard",
                status=str(result.code),
                diagnostic=result.detail[:500],
                recipient=result.recipient.email,
                source="smtp-reply",
            )
        )
        hard_bounce(delivery.supporter_id, f"refused at sending: {result.detail}"[:400])


def _count_failures(mailing_id: int, results: list) -> bool:
    """Failures in a row, counted on from earlier windows until a success; at the
    configured limit the mailing pauses itself (True), saying why.

    A run that reaches the limit inside one window pauses the mailing even when a
    success follows it in the same window: where the recorder cuts its windows (a
    matter of timing) must not decide whether a mailing pauses.
    """
    if all(result.status in (smtp.SENT, DeliveryState.SUPPRESSED) for result in results):
        if any(result.status == smtp.SENT for result in results):
            # The common case: a conditional update that touches (and locks) nothing.
            db.session.execute(_NO_FAILURES, {"id": mailing_id})
        return False
    mailing = db.session.get(Mailing, mailing_id, with_for_update=True)
    if mailing is None:
        return False
    run, longest, last = mailing.consecutive_failures, 0, None
    for result in results:
        if result.status == smtp.SENT:
            run = mailing.resume_probes = 0  # the relay works: its probes start over
        elif result.status != DeliveryState.SUPPRESSED:
            run += 1
            if run >= longest:
                longest, last = run, result  # the answer that ended the longest run
    mailing.consecutive_failures = run
    limit = current_app.config["MAILING_PAUSE_AFTER_FAILURES"]
    if last is None or not (limit and longest >= limit and mailing.state == MailingState.SENDING):
        return False
    mailing.state = MailingState.PAUSED
    reason = f"Paused itself after {longest} failed sends in a row. The last answer: {last.detail}"
    if last.status == smtp.TEMPORARY:
        # 4xx, refused or dropped connections: the relay's trouble, usually passing.
        # The sweeper probes the relay from this time on and resumes by itself.
        delay = current_app.config["MAILING_PROBE_SECONDS"] * 2 ** min(mailing.resume_probes, 6)
        mailing.resume_at = utcnow() + timedelta(seconds=min(delay, 3600))
        reason = f"{reason[:380]} Trying the relay again at {mailing.resume_at:%H:%M} UTC."
    else:
        mailing.resume_at = None  # refused for good: staff must look first
    mailing.pause_reason = reason[:500]
    log.warning("mailing %s paused: %s", mailing_id, mailing.pause_reason)
    return True


def finish_if_done(mailing_id: int) -> bool:
    """A sending mailing with nothing queued or sending left is sent (no commit)."""
    open_work = exists().where(
        Delivery.mailing_id == mailing_id,
        Delivery.state.in_((DeliveryState.QUEUED, DeliveryState.SENDING)),
    )
    result: CursorResult = db.session.execute(  # type: ignore[assignment]
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.state == MailingState.SENDING, ~open_work)
        .values(state=MailingState.SENT, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount > 0
