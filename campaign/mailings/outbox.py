"""The outbox engine: claim deliveries with a lease, send them, record results in a window.

One call of ``run_batch`` (one Celery task) sends deliveries of one mailing
(DESIGN.md §3):

1. claim, in one short transaction, MAILING_BATCH_SIZE due queued rows: they
   become ``sending`` with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL;
   SQLite's BEGIN IMMEDIATE serialises claimers), and rows whose supporter is
   no longer subscribed become ``suppressed`` at once;
2. send over MAILING_CONNECTIONS reused SMTP connections in threads; just
   before each message the supporter's state is read again, so an unsubscribe
   committed before that moment stops the message;
3. record results in short transactions. A semaphore of MAILING_RECORD_WINDOW
   permits is taken before each send and given back only once its result is
   committed, so at any moment at most that many sent messages are not yet
   recorded: the most a crash of this process can ever repeat;
4. while the senders work, the recorder claims the next MAILING_BATCH_SIZE
   rows once fewer than half a batch is left, for up to TASK_SECONDS, so the
   connections never wait for a claim or a new task.

No transaction is held open across SMTP I/O.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, or_, select, update

from campaign.core.db import dialect_name
from campaign.core.types import utcnow
from campaign.extensions import db
from campaign.mailings import compose, smtp
from campaign.mailings.models import Delivery, Mailing
from campaign.supporters.models import Supporter

log = logging.getLogger(__name__)
SUPPRESSED = "suppressed"
_pool_lock = threading.Lock()
_idle_connections: list[smtp.Connection] = []


@dataclass
class Result:
    recipient: compose.Recipient
    status: str  # smtp.SENT/TEMPORARY/PERMANENT/REJECTED or SUPPRESSED
    detail: str = ""
    code: int = 0


# -- claiming ------------------------------------------------------------------------


def claim(mailing_id: int, limit: int, lease_seconds: int) -> list[compose.Recipient]:
    """Lease up to ``limit`` due deliveries of a sending mailing; commits."""
    now = utcnow()
    state = db.session.scalar(select(Mailing.state).where(Mailing.id == mailing_id))
    if state != "sending":
        db.session.commit()
        return []
    due = (
        select(Delivery.id)
        .where(
            Delivery.mailing_id == mailing_id,
            Delivery.state == "queued",
            or_(Delivery.due_at.is_(None), Delivery.due_at <= now),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    if dialect_name() == "postgresql":
        # Locked and picked once, as a materialised CTE: in a plain IN (subquery)
        # PostgreSQL may run the locking subquery again as the UPDATE goes, skip the
        # rows the UPDATE itself has just changed, and so claim far more than ``limit``.
        picked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        due = select(picked.c.id)
    else:
        due = due.scalar_subquery()
    ids = list(
        db.session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(due), Delivery.state == "queued")
            .values(
                state="sending",
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=Delivery.attempts + 1,
                updated_at=now,
            )
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not ids:
        db.session.commit()
        return []
    # The suppression check at claim time: one statement for the whole batch.
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(ids),
            Delivery.supporter_id.in_(select(Supporter.id).where(Supporter.state != "subscribed")),
        )
        .values(state=SUPPRESSED, lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(
        select(
            Delivery.id,
            Supporter.id,
            Supporter.email,
            Supporter.first_name,
            Supporter.last_name,
            Supporter.language,
            Supporter.city,
            Supporter.country,
        )
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(Delivery.id.in_(ids), Delivery.state == "sending")
        .order_by(Delivery.id)
    ).all()
    db.session.commit()
    return [compose.Recipient(*row) for row in rows]


# -- sending ---------------------------------------------------------------------------


class StateCheck:
    """Reads one supporter's state on a connection of its own, outside any transaction."""

    def __init__(self, engine):
        self.connection = engine.raw_connection()
        self.postgres = engine.dialect.name == "postgresql"
        if self.postgres:
            self.connection.driver_connection.autocommit = True
        marker = "%s" if self.postgres else "?"
        # The marker is one of two constants; the id goes as a bound parameter.
        self.sql = "SELECT state FROM supporters WHERE id = " + marker  # noqa: S608

    def subscribed(self, supporter_id: int) -> bool:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self.sql, (supporter_id,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return bool(row) and row[0] == "subscribed"

    def close(self) -> None:
        if self.postgres:
            self.connection.driver_connection.autocommit = False
        self.connection.close()


class RateLimit:
    """At most N messages a second over all workers: a counter per second in Redis.

    If Redis is away the sender waits and tries again: sending slows, nothing is lost.
    """

    def __init__(self, per_second: int, redis_url: str):
        self.per_second = per_second
        self.client = None
        if per_second > 0:
            import redis

            self.client = redis.Redis.from_url(redis_url, socket_timeout=2)

    def take(self) -> None:
        if self.client is None:
            return
        while True:
            second = int(time.time())
            key = f"campaign:mail-rate:{second}"
            try:
                pipe = self.client.pipeline()
                pipe.incr(key)
                pipe.expire(key, 5)
                count = pipe.execute()[0]
            except Exception:  # noqa: BLE001 - any Redis trouble: wait, never skip the limit
                time.sleep(0.5)
                continue
            if count <= self.per_second:
                return
            time.sleep(max(second + 1 - time.time(), 0.001))


@dataclass
class Batch:
    """The deliveries a task sends: claimed in chunks, refilled while the senders run.

    The recorder thread appends newly claimed recipients (``extend``) before the
    senders run dry, so the SMTP connections never wait for a claim; ``close``
    says that no more will come and lets the senders finish.
    """

    mailing_id: int
    recipients: list[compose.Recipient]
    composers: dict  # (language, country or None) → Composer, and "by_country"
    window: threading.Semaphore
    results: queue.Queue = field(default_factory=queue.Queue)
    stop: threading.Event = field(default_factory=threading.Event)
    next_index: int = 0
    open: bool = False  # more recipients may still be appended
    ready: threading.Condition = field(default_factory=threading.Condition)

    def take(self) -> compose.Recipient | None:
        with self.ready:
            while True:
                if self.stop.is_set():
                    return None
                if self.next_index < len(self.recipients):
                    recipient = self.recipients[self.next_index]
                    self.next_index += 1
                    return recipient
                if not self.open:
                    return None
                self.ready.wait(0.05)

    def left(self) -> int:
        """Claimed recipients no sender has taken yet."""
        return len(self.recipients) - self.next_index

    def extend(self, recipients: list[compose.Recipient]) -> None:
        with self.ready:
            self.recipients.extend(recipients)
            self.ready.notify_all()

    def close(self) -> None:
        with self.ready:
            self.open = False
            self.ready.notify_all()


def _connection(relay: smtp.Relay, per_connection: int) -> smtp.Connection:
    with _pool_lock:
        for i, connection in enumerate(_idle_connections):
            if connection.relay == relay:
                return _idle_connections.pop(i)
    return smtp.Connection(relay, per_connection)


def _give_back(connection: smtp.Connection) -> None:
    with _pool_lock:
        _idle_connections.append(connection)


def close_connections() -> None:
    with _pool_lock:
        connections = list(_idle_connections)
        _idle_connections.clear()
    for connection in connections:
        connection.close()


def _sender(app, batch: Batch, relay, per_connection, rate: RateLimit) -> None:
    connection = _connection(relay, per_connection)
    with app.app_context():
        check = StateCheck(db.engine)
        try:
            while True:
                batch.window.acquire()
                recipient = batch.take()
                if recipient is None:
                    batch.window.release()
                    return
                try:
                    result = _send_one(batch, recipient, connection, check, rate)
                except Exception as error:
                    log.exception("sending delivery %s failed", recipient.delivery_id)
                    result = Result(recipient, smtp.TEMPORARY, f"internal error: {error}"[:300])
                batch.results.put(result)
        finally:
            check.close()
            _give_back(connection)


def _send_one(batch, recipient, connection, check: StateCheck, rate: RateLimit) -> Result:
    if not check.subscribed(recipient.supporter_id):
        return Result(recipient, SUPPRESSED, "unsubscribed or suppressed before sending")
    composers = batch.composers
    composer = composers[compose.composer_key(recipient, composers["by_country"])]

    def build(eight_bit: bool) -> tuple[str, str, bytes]:
        # Built once the session is open: 8bit only if this session's relay offers it.
        built = composer.build(recipient, eight_bit=eight_bit)
        rate.take()
        return built

    try:
        outcome = connection.send_built(build)
    except compose.HeaderInjection as error:
        return Result(recipient, smtp.REJECTED, f"refused to build the message: {error}")
    return Result(recipient, outcome.status, outcome.detail, outcome.code)


# -- the batch --------------------------------------------------------------------------


def run_batch(mailing_id: int) -> int:
    """Claim, send and record deliveries of a mailing; returns how many it claimed.

    The first claim takes MAILING_BATCH_SIZE deliveries; while they are sent the
    recorder claims the next ones before the senders run dry, for at most
    TASK_SECONDS, so a long mailing is sent by a few long-running tasks without
    a pause between batches (and Jinja renders each language once per task).
    """
    from campaign.mailings import recording

    config = current_app.config
    size, lease = config["MAILING_BATCH_SIZE"], config["MAILING_LEASE_SECONDS"]
    recipients = claim(mailing_id, size, lease)
    if not recipients:
        recording.finish_if_done(mailing_id)
        db.session.commit()
        return 0
    try:
        composers = add_composers(mailing_id, {}, recipients)
        db.session.commit()  # end the read transaction: SMTP I/O follows
    except Exception:
        db.session.rollback()
        unclaim(recipients)
        raise
    window = max(config["MAILING_RECORD_WINDOW"], 1)
    batch = Batch(mailing_id, recipients, composers, threading.Semaphore(window), open=True)
    relay = smtp.Relay.from_url(config["SMTP_URL"], config["SMTP_TIMEOUT"])
    rate = RateLimit(config["MAILING_RATE_LIMIT"], config["REDIS_URL"])
    app = current_app._get_current_object()
    threads = [
        threading.Thread(
            target=_sender,
            args=(app, batch, relay, config["MAILING_MESSAGES_PER_CONNECTION"], rate),
            daemon=True,
        )
        for _ in range(max(1, min(config["MAILING_CONNECTIONS"], len(recipients))))
    ]
    for thread in threads:
        thread.start()
    refill = Refill(mailing_id, batch, size, lease, time.monotonic() + TASK_SECONDS)
    recorder = recording.Recorder(mailing_id, batch, window, refill)
    recorder.run(threads)
    return len(batch.recipients)


# How long one task keeps claiming more deliveries of its mailing (far below any
# broker visibility timeout and the lease; other mailings get their turn after).
TASK_SECONDS = 20


def add_composers(mailing_id: int, composers: dict, recipients) -> dict:
    """Composers for the (language, country) keys of ``recipients`` not yet in ``composers``."""
    from campaign.mailings import services

    mailing = db.session.get(Mailing, mailing_id)
    if "by_country" not in composers:
        composers["by_country"] = compose.needs_country(services.content(mailing))
    by_country = composers["by_country"]
    for key in {compose.composer_key(r, by_country) for r in recipients} - composers.keys():
        # Added before the recipients that need it: sender threads only read the dict.
        composers[key] = services.composer_for(mailing, *key)
    return composers


class Refill:
    """Claims the next deliveries for a running batch (called by the recorder thread)."""

    def __init__(self, mailing_id: int, batch: Batch, size: int, lease: int, until: float):
        self.mailing_id, self.batch, self.size, self.lease = mailing_id, batch, size, lease
        self.until = until
        self.low_water = max(size // 2, 1)

    def __call__(self) -> None:
        batch = self.batch
        if not batch.open or batch.left() >= self.low_water:
            return
        if batch.stop.is_set() or time.monotonic() >= self.until:
            batch.close()
            return
        recipients = []
        try:
            recipients = claim(self.mailing_id, self.size, self.lease)
            if recipients:
                add_composers(self.mailing_id, batch.composers, recipients)
                db.session.commit()
        except Exception:
            # The batch in hand is still sent and recorded. The claim has committed:
            # what it leased goes back to the queue now, not when the lease runs out.
            db.session.rollback()
            log.exception("claiming more deliveries of mailing %s failed", self.mailing_id)
            unclaim(recipients)
            recipients = []
        if recipients:
            batch.extend(recipients)
        else:
            batch.close()


def unclaim(recipients: list[compose.Recipient]) -> None:
    """Claimed deliveries that will not be sent go back to the queue, attempts as before.

    If that fails too, the sweeper re-queues them once their lease runs out.
    """
    from campaign.mailings import recording

    if not recipients:
        return
    try:
        recording.requeue([r.delivery_id for r in recipients])
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("re-queueing %s claimed deliveries failed", len(recipients))


def remaining(mailing_id: int) -> bool:
    """Whether the mailing still has deliveries that are due now."""
    now = utcnow()
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Delivery.mailing_id == mailing_id,
                    Delivery.state == "queued",
                    or_(Delivery.due_at.is_(None), Delivery.due_at <= now),
                )
            )
        )
    )
