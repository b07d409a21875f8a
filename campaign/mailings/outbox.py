"""The outbox engine: claim deliveries with a lease, send them, record results in a window.

One call of ``run_batch`` (one Celery task) sends deliveries of one mailing
(DESIGN.md §3):

1. claim, in one short transaction, MAILING_BATCH_SIZE due queued rows: they
   become ``sending`` with a lease and this batch's holder id (``FOR UPDATE
   SKIP LOCKED`` on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises claimers),
   and rows whose supporter is no longer subscribed become ``suppressed`` at once;
2. send over MAILING_CONNECTIONS reused SMTP connections in threads; just
   before each message the supporter's state is read again (one query for all
   the senders about to send, ``SuppressionCheck``), so an unsubscribe committed
   before that moment stops the message;
3. record results in short transactions. A sender takes one of
   MAILING_RECORD_WINDOW permits once the relay has answered, given back only
   once the result is committed: at any moment at most MAILING_CONNECTIONS
   messages are on the wire and MAILING_RECORD_WINDOW answered but unrecorded,
   the most a crash of this process can repeat (docs/RELIABILITY.md);
4. while the senders work, the next MAILING_BATCH_SIZE rows are claimed once
   fewer than half a batch is left, for up to MAILING_TASK_SECONDS (on
   PostgreSQL by a claimer thread on a session and connection of its own, so the
   recorder keeps committing results, and the senders keep their permits, while
   a claim runs; on SQLite, one writer at a time, by the recorder between its
   commits), and the recorder beats the holder row every second, so that the sweeper re-queues the
   deliveries of a killed worker at once rather than at the end of their lease.

No transaction is held open across SMTP I/O.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from select import POLLIN, POLLOUT, poll
from typing import Any

import limits
import limits.storage
import limits.strategies
import psycopg
from flask import current_app
from psycopg.pq import ExecStatus, TransactionStatus
from sqlalchemy import bindparam, delete, exists, insert, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.selectable import ScalarSelect, Select

from campaign.core.db import dialect_name
from campaign.core.types import UTCDateTime, utcnow
from campaign.extensions import db
from campaign.mailings import compose, settings, smtp
from campaign.mailings.models import Delivery, DeliveryState, Mailing, MailingState, OutboxHolder
from campaign.supporters.models import SupporterState

log = logging.getLogger(__name__)


@dataclass
class Result:
    recipient: compose.Recipient
    status: str  # smtp.SENT/TEMPORARY/PERMANENT/REJECTED/UNUSABLE or DeliveryState.SUPPRESSED
    detail: str = ""
    code: int = 0


# -- claiming ------------------------------------------------------------------------


def claim(
    mailing_id: int, limit: int, lease_seconds: int, holder: str | None = None
) -> list[compose.Recipient]:
    """Lease up to ``limit`` due deliveries of a sending mailing for ``holder``; commits."""
    now = utcnow()
    state = db.session.scalar(select(Mailing.state).where(Mailing.id == mailing_id))
    if state != MailingState.SENDING:
        db.session.commit()
        return []
    due = (
        select(Delivery.id)
        .where(
            Delivery.mailing_id == mailing_id,
            Delivery.state == DeliveryState.QUEUED,
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
        chosen: Select[tuple[int]] | ScalarSelect[int] = select(picked.c.id)
    else:
        chosen = due.scalar_subquery()
    ids = list(
        db.session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(chosen), Delivery.state == DeliveryState.QUEUED)
            .values(
                state=DeliveryState.SENDING,
                lease_until=now + timedelta(seconds=lease_seconds),
                holder=holder,
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
    recipients: list[compose.Recipient] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        # The suppression check at claim time: the supporters' states come with the
        # chunk's rows, and only the rows of those no longer subscribed (most often
        # none) are written. A statement that looked the unsubscribed up in
        # ``supporters`` instead read the whole table at every claim.
        suppressed = []
        for delivery_id, supporter_id, state, *fields in db.session.execute(
            _CLAIMED, {"ids": chunk}
        ):
            if state == SupporterState.SUBSCRIBED:
                recipients.append(compose.Recipient(delivery_id, supporter_id, *fields))
            else:
                suppressed.append(delivery_id)
        if suppressed:
            db.session.execute(_SUPPRESS_AT_CLAIM, {"ids": suppressed, "now": now})
    db.session.commit()
    return recipients


# Plain SQL compiled once, the ids as one expanding parameter: the ORM statements
# cost more per claim than the database's own work (500 ids coerced one by one).
# The states formatted in are the enums' own constant values, never input.
_SUPPRESS_AT_CLAIM = text(
    f"UPDATE deliveries SET state = '{DeliveryState.SUPPRESSED}', lease_until = NULL, "  # noqa: S608
    f"updated_at = :now WHERE id IN :ids AND state = '{DeliveryState.SENDING}'"
).bindparams(bindparam("now", type_=UTCDateTime), bindparam("ids", expanding=True))
_CLAIMED = text(
    "SELECT d.id, s.id, s.state, s.email, s.first_name, s.last_name, s.language, s.city, "  # noqa: S608
    "s.country FROM deliveries d JOIN supporters s ON s.id = d.supporter_id "
    f"WHERE d.id IN :ids AND d.state = '{DeliveryState.SENDING}' ORDER BY d.id"
).bindparams(bindparam("ids", expanding=True))


# -- sending ---------------------------------------------------------------------------


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


_SUBSCRIBED = (
    f"SELECT id FROM supporters WHERE state = '{SupporterState.SUBSCRIBED}' "  # noqa: S608
    "AND id = ANY($1::integer[])"
)


class SuppressionCheck:
    """The last look at supporters' states, one query for every sender waiting at that moment.

    Each sender asks just before its message goes (``ask``) and waits for a read
    that *began after it asked* (``answer``), so an unsubscribe committed before
    that moment still stops the message, exactly as a read per message would. The
    reads go over ``readers`` database connections whatever the number of
    senders: a sender that finds a connection idle reads on it, for itself and
    for everybody who queued while it was busy (group commit, applied to reads);
    the others wait for the next read. So the number of SMTP connections no longer
    needs as many database connections (issue #18: 15 senders exhausted
    SQLAlchemy's pool and stalled the mailing). Two readers spare a sender the
    wait for the other sender's read in flight (a round trip a message on
    PostgreSQL with two connections).

    On PostgreSQL ``ask`` sends the read and returns at once, so the sender
    composes its message while the read is on its way; the message goes only
    once ``answer`` has the result. On SQLite (in-process, no round trip) the
    read runs in ``answer``.
    """

    def __init__(self, engine: Engine, readers: int = 1) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        # PostgreSQL: one prepared statement per connection, run through libpq's
        # own calls (psycopg's documented ``pgconn``): psycopg's cursor spent ~25 µs
        # of the worker's CPU a read, one read a message (docs/PERFORMANCE.md).
        self.statement = f"ua_suppression_{uuid.uuid4().hex}".encode()
        self.pgconns: dict[Any, psycopg.pq.abc.PGconn] = {}  # looked up once, not per read
        self.connections: list = []
        try:
            for _ in range(max(1, readers)):
                self.connections.append(self._connect())
        except BaseException:
            self.close()  # the readers opened so far go back to the pool
            raise
        self.idle = list(self.connections)  # connections no read is using
        self.lock = threading.Lock()
        self.waiting: list[_Question] = []
        self.reads = 0  # how many queries ran (the tests count them)

    def _connect(self):
        """A reader connection: autocommit, its statement prepared (PostgreSQL)."""
        connection = self.engine.raw_connection()
        try:
            self._autocommit(connection, True)
            if self.postgres:
                # Sent and awaited like a read: a table locked, or a server that
                # stopped answering, holds it for READ_TIMEOUT_SECONDS at most.
                pgconn = _pgconn(connection)
                pgconn.send_prepare(self.statement, _SUBSCRIBED.encode())
                _flush(pgconn)
                _result(pgconn)
                self.pgconns[connection] = pgconn
        except BaseException:
            connection.invalidate()  # closed and given back to the pool
            raise
        return connection

    def _replaced(self, connection):
        """A fresh reader in place of one whose read failed, or the same one if none
        can be had now. A read given up on (READ_TIMEOUT_SECONDS) leaves its connection
        busy, and one whose statement is gone (the server restarted) would fail every
        read after it: either way each later read on it failed until the batch ended."""
        if not self.postgres:
            return connection
        try:
            fresh = self._connect()
        except Exception:  # the database is away: later reads fail (and are retried)
            log.warning("no fresh connection for the suppression check", exc_info=True)
            return connection
        with self.lock:
            self.connections[self.connections.index(connection)] = fresh
            del self.pgconns[connection]
        connection.invalidate()  # closed and given back: never lent out busy
        return fresh

    def subscribed(self, supporter_id: int) -> bool:
        """Whether the supporter is subscribed, by a read that began after this call."""
        return self.answer(self.ask(supporter_id))

    def ask(self, supporter_id: int) -> _Question:
        """The question, its read begun if a connection is idle; ``answer`` must follow."""
        question = _Question(supporter_id)
        with self.lock:
            if not self.idle:
                self.waiting.append(question)
                return question
            question.connection = self.idle.pop()
        self._begin(question)
        return question

    def answer(self, question: _Question) -> bool:
        """Whether the supporter is subscribed; raises what the read raised.

        Each waiting sender blocks on a lock of its own, released once its answer is
        in (or once it is handed a connection to read for the others): one wake-up a
        message, where a shared condition woke every waiting sender at every read.
        """
        if not question.group:  # its read not begun: it waits, or was just handed a connection
            if question.connection is None:
                question.done.acquire()  # answered, or handed a connection to read on
                if question.connection is None:
                    return question.answered()
            self._begin(question)
        group = question.group
        try:
            if question.error is not None:
                raise question.error  # sending the read failed
            subscribed = self._receive(question.connection, {q.supporter_id for q in group})
            for q in group:
                q.answer = q.supporter_id in subscribed
        except Exception as error:  # noqa: BLE001 - handed to every sender that asked
            for q in group:
                q.answer, q.error = False, error
            question.connection = self._replaced(question.connection)
        with self.lock:
            self.reads += 1
            if self.waiting:  # asked during this read: the first of them reads next
                following = self.waiting.pop(0)
                following.connection = question.connection
                following.done.release()
            else:
                self.idle.append(question.connection)
        for q in group[1:]:
            q.done.release()
        return question.answered()

    def _begin(self, question: _Question) -> None:
        """Sends the read for this question and every one queued until now."""
        with self.lock:
            question.group, self.waiting = [question, *self.waiting], []
        try:
            self._send(question.connection, {q.supporter_id for q in question.group})
        except Exception as error:  # noqa: BLE001 - answer() hands it to the group
            question.error = error

    def _send(self, connection, ids: set[int]) -> None:
        """PostgreSQL: the read sent (one array parameter whatever the number of ids;
        ints only, so its text form is exact). SQLite reads in ``_receive``."""
        if not self.postgres:
            return
        pgconn = self.pgconns[connection]
        pgconn.send_query_prepared(self.statement, [f"{{{','.join(map(str, ids))}}}".encode()])
        _flush(pgconn)

    def _receive(self, connection, ids: set[int]) -> set[int]:
        """Which of ``ids`` are subscribed, by the read ``_send`` began."""
        if not self.postgres:
            return self._read(connection, ids)
        result = _result(self.pgconns[connection])
        values = (result.get_value(row, 0) for row in range(result.ntuples))
        return {int(value) for value in values if value is not None}

    def _read(self, connection, ids: set[int]) -> set[int]:
        """SQLite's read: bound parameters, 500 a statement."""
        found: set[int] = set()
        ids_list = sorted(ids)
        cursor = connection.cursor()
        try:
            for start in range(0, len(ids_list), 500):
                chunk = ids_list[start : start + 500]
                markers = ", ".join(["?"] * len(chunk))
                # Only markers are formatted in; the ids go as bound parameters.
                cursor.execute(
                    f"SELECT id FROM supporters WHERE state = '{SupporterState.SUBSCRIBED}' "  # noqa: S608
                    f"AND id IN ({markers})",
                    chunk,
                )
                found.update(row[0] for row in cursor.fetchall())
        finally:
            cursor.close()
        return found

    def _autocommit(self, connection, on: bool) -> None:
        # PostgreSQL: each read its own transaction, begun when it is sent.
        driver = connection.driver_connection
        if self.postgres and driver is not None:
            driver.autocommit = on

    def close(self) -> None:
        for connection in self.connections:
            if self.postgres:
                if self.pgconns[connection].transaction_status != TransactionStatus.IDLE:
                    # A read given up on (READ_TIMEOUT_SECONDS) may still be running:
                    # the pool closes this connection rather than lend it out busy.
                    connection.invalidate()
                    continue
                # The pool hands the connection to others: no statement left on it.
                with contextlib.suppress(psycopg.Error):
                    self.pgconns[connection].exec_(b"DEALLOCATE " + self.statement)
            self._autocommit(connection, False)
            connection.close()


# How long a suppression read may take before the sender gives up on it (and the
# message is retried later): a server that stopped answering, not a slow one.
READ_TIMEOUT_SECONDS = 60.0


def _flush(pgconn) -> None:
    """What was sent goes out (a few dozen bytes: at once, but for a full buffer)."""
    while pgconn.flush():
        _wait_for(pgconn, write=True)


def _result(pgconn):
    """The result of the command sent on ``pgconn`` (libpq's asynchronous reading;
    waiting releases the GIL); raises if the command failed."""
    results = []
    while True:
        pgconn.consume_input()
        while pgconn.is_busy():
            _wait_for(pgconn, write=False)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            break
        results.append(result)
    if not results:
        raise psycopg.OperationalError("suppression check failed: no result")
    for result in results:
        if result.status not in (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK):
            message = result.error_message.decode("utf-8", "replace").strip()
            raise psycopg.OperationalError(f"suppression check failed: {message}")
    return results[0]


def _wait_for(pgconn, *, write: bool) -> None:
    # poll, not select: a worker with hundreds of SMTP connections may hold
    # descriptors past select's 1024.
    poller = poll()
    poller.register(pgconn.socket, POLLOUT if write else POLLIN)
    if not poller.poll(READ_TIMEOUT_SECONDS * 1000):
        raise psycopg.OperationalError(
            f"suppression check failed: no answer from the database in {READ_TIMEOUT_SECONDS:g} s"
        )


def _pgconn(connection) -> psycopg.pq.abc.PGconn:
    driver = connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver.pgconn


@dataclass
class _Question:
    supporter_id: int
    answer: bool | None = None
    error: Exception | None = None
    connection: Any = None  # handed to this sender: it reads for everybody waiting
    group: list[_Question] = field(default_factory=list)  # its read's questions, once begun
    done: threading.Lock = field(default_factory=_held_lock)

    def answered(self) -> bool:
        if self.error is not None:
            raise self.error
        return bool(self.answer)


class Suppressed(Exception):
    """The supporter left between the claim and the moment of sending."""


class RateLimit:
    """Shared limits over all workers, counted in Redis through the `limits` library.

    ``take`` waits for the global rate (MAILING_RATE_LIMIT); ``domain_wait`` says
    how long a message to a limited recipient domain must wait (0: go now). If
    Redis is away the sender waits and asks again: sending slows, a limit is
    never skipped.
    """

    def __init__(self, rate, redis_url: str, domain_rates: dict | None = None):
        # A parsed limit, or the setting's value as written (50, "3000/minute", 0).
        if rate is not None and not isinstance(rate, limits.RateLimitItem):
            rate = settings.rate_limit(rate)
        self.rate = rate
        self.domain_rates = domain_rates or {}
        self.limiter = None
        if rate is not None or self.domain_rates:
            storage = limits.storage.storage_from_string(
                redis_url, socket_timeout=2, socket_connect_timeout=2
            )
            # A moving window: at most N in any second. A fixed window starts at its
            # first hit, so two of them could let 2N through within one clock second.
            self.limiter = limits.strategies.MovingWindowRateLimiter(storage)

    def take(self, before_waiting=None) -> None:
        """Counts one message against the global rate, first waiting as long as it
        says; ``before_waiting`` is called once if it has to wait."""
        if self.rate is None:
            return
        while (wait := self._wait(self.rate, "all")) > 0:
            if before_waiting is not None:
                before_waiting()
                before_waiting = None
            time.sleep(wait)

    def domain_wait(self, email: str) -> float:
        if not self.domain_rates:
            return 0.0
        domain = email.rpartition("@")[2].lower()
        rate = self.domain_rates.get(domain)
        if rate is None:
            return 0.0
        return self._wait(rate, "domain", domain)

    def _wait(self, rate, *identifiers: str) -> float:
        """0 if one message may go now (and counts it), else the seconds to wait."""
        assert self.limiter is not None  # made whenever a rate is set
        try:
            if self.limiter.hit(rate, "campaign-mail", *identifiers):
                return 0.0
            reset = self.limiter.get_window_stats(rate, "campaign-mail", *identifiers).reset_time
        except Exception:  # any Redis trouble: wait, never skip the limit
            log.warning("mail rate limit: Redis unreachable, waiting", exc_info=True)
            return 0.5
        return max(reset - time.time(), 0.005)


@dataclass
class Batch:
    """The deliveries a task sends: claimed in chunks, refilled while the senders run.

    The recorder thread appends newly claimed recipients (``extend``) before the
    senders run dry, so the SMTP connections never wait for a claim; ``close``
    says that no more will come and lets the senders finish. A recipient whose
    domain is over its rate waits aside (``defer``) while the senders go on with
    the others.
    """

    mailing_id: int
    recipients: list[compose.Recipient]
    composers: compose.ComposerSet  # grown by the recorder thread, read by the senders
    window: threading.Semaphore
    # Answered results, appended by the senders (deque.append is atomic), popped by
    # the recorder thread: no lock and no wake-up per message.
    results: deque[Result] = field(default_factory=deque)
    stop: threading.Event = field(default_factory=threading.Event)
    next_index: int = 0
    open: bool = False  # more recipients may still be appended
    ready: threading.Condition = field(default_factory=threading.Condition)
    deferred: list = field(default_factory=list)  # heap of (monotonic time, n, recipient)
    _order: itertools.count = field(default_factory=itertools.count)

    def take(self, wait: bool = True) -> compose.Recipient | None:
        """The next recipient; None once there is none and will be none, or (``wait``
        False) when none is at hand now."""
        with self.ready:
            while True:
                if self.stop.is_set():
                    return None
                now = time.monotonic()
                if self.deferred and self.deferred[0][0] <= now:
                    return heapq.heappop(self.deferred)[2]
                if self.next_index < len(self.recipients):
                    recipient = self.recipients[self.next_index]
                    self.next_index += 1
                    return recipient
                if not (wait and (self.open or self.deferred)):
                    return None
                pause = 0.05
                if self.deferred:
                    pause = min(pause, max(self.deferred[0][0] - now, 0.001))
                self.ready.wait(pause)

    def defer(self, recipient: compose.Recipient, seconds: float) -> None:
        with self.ready:
            at = time.monotonic() + seconds
            heapq.heappush(self.deferred, (at, next(self._order), recipient))

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


def _sender(batch: Batch, relay, per_connection, rate: RateLimit, check) -> None:
    connection = smtp.POOL.take(relay, per_connection)
    try:
        while True:
            # A held message text (smtp.Connection.send_held) goes with the next
            # message if one is at hand, else alone: it never waits for a claim.
            recipient = batch.take(wait=not connection.holding)
            if recipient is None:
                if connection.holding and not batch.stop.is_set():
                    _record(batch, connection.finish())
                    continue
                return  # stopped: a held text is dropped unsent (give_back), re-queued
            try:
                _send_one(batch, recipient, connection, check, rate)
            except Exception as error:
                log.exception("sending delivery %s failed", recipient.delivery_id)
                detail = f"internal error: {error}"[:300]
                _record(batch, [(recipient, smtp.Outcome(smtp.TEMPORARY, 0, detail))])
    finally:
        smtp.POOL.give_back(connection)


def _record(batch: Batch, ended: list[tuple[compose.Recipient, smtp.Outcome]]) -> None:
    """Hands the recorder each message that has ended (answered, or not sent at all)."""
    for recipient, outcome in ended:
        result = Result(recipient, outcome.status, outcome.detail, outcome.code)
        # The permit is taken once the relay has answered: the window bounds what
        # is answered but unrecorded; what is on the wire is bounded by the
        # connections (docs/RELIABILITY.md).
        batch.window.acquire()
        batch.results.append(result)


def _send_one(batch, recipient, connection, check: SuppressionCheck, rate: RateLimit) -> None:
    wait = rate.domain_wait(recipient.email)
    if wait > 0:
        batch.defer(recipient, wait)
        return
    # Over the global rate, a held text goes alone rather than wait with the sender.
    rate.take(before_waiting=lambda: _record(batch, connection.finish()))
    composer = batch.composers.get(recipient)

    def build(eight_bit: bool) -> tuple[str, str, bytes]:
        # Called once the session is open, right before MAIL FROM: the last look at
        # the supporter's state, and 8bit only if this session's relay offers it.
        # The message is composed while the read is on its way; it goes only if the
        # read says subscribed.
        question = check.ask(recipient.supporter_id)
        try:
            message = composer.build(recipient, eight_bit=eight_bit)
        except compose.HeaderInjection:
            if not check.answer(question):
                raise Suppressed from None
            raise
        except BaseException:
            with contextlib.suppress(Exception):
                check.answer(question)  # the read's connection goes back either way
            raise
        if not check.answer(question):
            raise Suppressed
        return message

    try:
        ended = connection.send_held(build, recipient)
    except Suppressed:
        detail = "unsubscribed or suppressed before sending"
        ended = [(recipient, smtp.Outcome(DeliveryState.SUPPRESSED, 0, detail))]
    except compose.HeaderInjection as error:
        ended = [
            (recipient, smtp.Outcome(smtp.REJECTED, 0, f"refused to build the message: {error}"))
        ]
    _record(batch, ended)


# -- the batch --------------------------------------------------------------------------


def run_batch(mailing_id: int) -> int:
    """Claim, send and record deliveries of a mailing; returns how many it claimed.

    The first claim takes MAILING_BATCH_SIZE deliveries; while they are sent a
    claimer (``Refill``) claims the next ones before the senders run dry, for at most
    MAILING_TASK_SECONDS, so a long mailing is sent by a series of tasks without
    a pause between batches (and Jinja renders each language once per task).
    The task hands over early when another mailing is waiting with nobody
    sending it, so that a mailing that falls due starts within seconds.
    """
    from campaign.mailings import recording

    config = current_app.config
    outbox = settings.load(config)
    holder = register_holder(mailing_id)
    recipients = claim(mailing_id, outbox.batch_size, outbox.lease_seconds, holder)
    if not recipients:
        drop_holder(holder)
        recording.finish_if_done(mailing_id)
        db.session.commit()
        return 0
    try:
        composers = composer_set(mailing_id)
        composers.add(recipients)
        db.session.commit()  # end the read transaction: SMTP I/O follows
    except Exception:
        db.session.rollback()
        unclaim(recipients)
        raise
    batch = Batch(mailing_id, recipients, composers, threading.Semaphore(outbox.window), open=True)
    rate = RateLimit(outbox.rate, config["REDIS_URL"], outbox.domain_rates)
    try:
        check = SuppressionCheck(db.engine, readers=min(2, outbox.connections))
    except Exception:
        unclaim(recipients)  # nothing sent: back to the queue now, not at the lease's end
        raise
    threads = [
        threading.Thread(
            target=_sender,
            args=(batch, outbox.relay, outbox.messages_per_connection, rate, check),
            daemon=True,
        )
        for _ in range(max(1, min(outbox.connections, len(recipients))))
    ]
    for thread in threads:
        thread.start()
    refill = Refill(mailing_id, batch, outbox, holder, time.monotonic() + outbox.task_seconds)
    refill.start(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        recorder = recording.Recorder(mailing_id, batch, outbox.window, refill, holder)
        recorder.run(threads)
    finally:
        batch.stop.set()
        for thread in threads:
            thread.join(outbox.relay.timeout * 4)
        check.close()
    return len(batch.recipients)


# How often the claimer thread looks whether the senders need more recipients.
CLAIMER_POLL_SECONDS = 0.005
# A task that has run this long hands over to a mailing nobody is sending.
YIELD_AFTER_SECONDS = 2.0
# A holder that beat this recently is working (it beats every second).
LIVE_SECONDS = 3.0
# A tick older than this means beat is down, not that the tick waits in the queue.
TICK_GONE_SECONDS = 300


def composer_set(mailing_id: int) -> compose.ComposerSet:
    """The composers of a mailing, made as its recipients need them (``add``).

    Composers are added by the recorder thread before the recipients that need
    them are handed to the senders, which only read them (``get``).
    """
    from campaign.mailings import services

    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None:
        raise LookupError(f"mailing {mailing_id} is gone")
    return compose.ComposerSet(
        mailing_id, services.content(mailing), services.links_for(mailing.case_id)
    )


class Refill:
    """Claims the next deliveries for a running batch, on a thread of its own.

    On PostgreSQL a claimer thread (``start``) only claims: a claim (tens of
    milliseconds for 500 rows) runs on its own session and connection, so it no
    longer holds up the recorder's commits, and with them the senders' window
    permits. What it claimed waits in ``claimed`` until the recorder thread hands
    it to the senders (``step``): the composers read the mailing's content
    through the recorder thread's session, and a session is one thread's. SQLite
    has one writer at a time, so a claimer thread could not claim while the
    recorder commits (it only added lock waits: 8% slower on smtp-sink); there
    the recorder's thread claims between its commits, as before.

    It also decides when the task hands over: after MAILING_TASK_SECONDS, or
    earlier (after YIELD_AFTER_SECONDS) when another sending mailing has due
    deliveries and nobody sending it, or when beat's tick has waited in the queue
    behind the batches for three of its periods (the tick starts scheduled
    mailings and outcome notices), so that every mailing that falls due starts
    within seconds even while a long one holds every worker (issue #16, item 10).
    The successor goes to the back of the queue, behind what waited.
    """

    def __init__(self, mailing_id: int, batch: Batch, outbox, holder: str, until: float):
        self.mailing_id, self.batch, self.holder = mailing_id, batch, holder
        self.size, self.lease = outbox.batch_size, outbox.lease_seconds
        self.until = until
        self.low_water = max(self.size // 2, 1)
        self.started = time.monotonic()
        self.looked = self.started  # when another mailing's need was last looked at
        # Claimed by the claimer thread, not yet handed to the senders (deque: the
        # claimer appends, the recorder thread pops).
        self.claimed: deque[list[compose.Recipient]] = deque()
        self.thread: threading.Thread | None = None

    def start(self, app) -> None:
        if dialect_name() == "postgresql":
            self.thread = threading.Thread(target=self._run, args=(app,), daemon=True)
            self.thread.start()

    def step(self) -> None:
        """In the recorder thread, between its commits: claim (unless the claimer
        thread does), then hand what was claimed to the senders."""
        if self.thread is None:
            self.claim_more()
        self.hand_over()

    def _run(self, app) -> None:
        """The claimer thread: one step every CLAIMER_POLL_SECONDS while the batch is open."""
        batch = self.batch
        with app.app_context():
            try:
                while batch.open and not batch.stop.is_set():
                    self.claim_more()
                    time.sleep(CLAIMER_POLL_SECONDS)
            except Exception:  # the batch in hand is still sent and recorded
                log.exception("the claimer of mailing %s stopped", self.mailing_id)
                batch.close()
            finally:
                db.session.remove()

    def claim_more(self) -> None:
        batch = self.batch
        if batch.stop.is_set() or self.claimed:  # the last claim is not handed over yet
            return
        now = time.monotonic()
        if now - self.started >= YIELD_AFTER_SECONDS and now - self.looked >= 1.0:
            self.looked = now
            if another_waits(self.mailing_id) or tick_waits():
                log.info("mailing %s hands over (another mailing or the tick waits)",
                         self.mailing_id)  # fmt: skip
                batch.stop.set()  # the unsent rest goes back to the queue, at once
                return
        if not batch.open or batch.left() >= self.low_water:
            return
        if now >= self.until or len(batch.deferred) >= self.size:
            batch.close()
            return
        try:
            recipients = claim(self.mailing_id, self.size, self.lease, self.holder)
        except Exception:
            # Nothing was claimed (the claim commits at its end, or not at all); the
            # batch in hand is still sent and recorded.
            db.session.rollback()
            log.exception("claiming more deliveries of mailing %s failed", self.mailing_id)
            recipients = []
        if recipients:
            self.claimed.append(recipients)
        else:
            batch.close()

    def hand_over(self) -> None:
        """In the recorder thread: composers for what was claimed, then to the senders."""
        while self.claimed:
            recipients = self.claimed.popleft()
            try:
                self.batch.composers.add(recipients)
                db.session.commit()  # end the read transaction: SMTP I/O goes on
            except Exception:
                # The claim has committed: what it leased goes back to the queue now,
                # not when the lease runs out.
                db.session.rollback()
                log.exception("composing for mailing %s failed", self.mailing_id)
                unclaim(recipients)
                self.batch.close()
                continue
            self.batch.extend(recipients)

    def stop(self) -> None:
        """Once the senders are done: the claimer ends, and what it claimed for nobody
        goes back to the queue (in the recorder thread, before the batch lets go)."""
        self.batch.close()
        if self.thread is not None:
            self.thread.join()
        while self.claimed:
            unclaim(self.claimed.popleft())


# -- holders: who is sending what, and whether they are still alive ----------------------


def register_holder(mailing_id: int) -> str:
    """A row this batch beats every second while it holds deliveries (commits)."""
    holder = uuid.uuid4().hex
    now = utcnow()
    db.session.execute(
        insert(OutboxHolder).values(
            id=holder,
            mailing_id=mailing_id,
            host=socket.gethostname()[:100],
            pid=os.getpid(),
            started_at=now,
            beat_at=now,
        )
    )
    db.session.commit()
    return holder


def beat_holder(holder: str) -> None:
    db.session.execute(
        update(OutboxHolder).where(OutboxHolder.id == holder).values(beat_at=utcnow())
    )


def drop_holder(holder: str) -> None:
    db.session.execute(delete(OutboxHolder).where(OutboxHolder.id == holder))


# A batch beats every second. One that beat since the holder timeout but not for
# this long, and holds no delivery (its leases ran out, as when a database outage
# failed it before it could drop its row), does nothing for its mailing.
IDLE_HOLDER_SECONDS = 3


def live_holders(mailing_id: int, since) -> bool:
    """Whether a batch that beat since ``since`` is working on the mailing: it holds
    deliveries, or it beat within IDLE_HOLDER_SECONDS (between two claims)."""
    recently = utcnow() - timedelta(seconds=IDLE_HOLDER_SECONDS)
    holding = exists().where(
        Delivery.holder == OutboxHolder.id, Delivery.state == DeliveryState.SENDING
    )
    return (
        db.session.scalar(
            select(OutboxHolder.id)
            .where(
                OutboxHolder.mailing_id == mailing_id,
                OutboxHolder.beat_at >= since,
                or_(holding, OutboxHolder.beat_at >= recently),
            )
            .limit(1)
        )
        is not None
    )


def tick_waits() -> bool:
    """Whether beat's tick is overdue: it waits in the queue behind running batches.

    Not when the last tick is older than TICK_GONE_SECONDS: beat is down then
    (the System page says so), and handing over would only slow the mailing.
    """
    from campaign.core.models import Heartbeat

    schedule = current_app.config["CELERY"].get("beat_schedule", {}).get("tick")
    if not schedule:
        return False
    period = float(schedule["schedule"])
    last = db.session.scalar(select(Heartbeat.at).where(Heartbeat.name == "tick"))
    db.session.commit()  # end the read (SQLite: it holds the write lock)
    if last is None:
        return False
    age = (utcnow() - last).total_seconds()
    return 3 * period < age < TICK_GONE_SECONDS


def another_waits(mailing_id: int) -> bool:
    """Whether another sending mailing has due deliveries and no live batch (reads only)."""
    now = utcnow()
    live = select(OutboxHolder.mailing_id).where(
        OutboxHolder.beat_at >= now - timedelta(seconds=LIVE_SECONDS)
    )
    due = exists().where(
        Delivery.mailing_id == Mailing.id,
        Delivery.state == DeliveryState.QUEUED,
        or_(Delivery.due_at.is_(None), Delivery.due_at <= now),
    )
    waiting = db.session.scalar(
        select(Mailing.id)
        .where(
            Mailing.state == MailingState.SENDING,
            Mailing.id != mailing_id,
            Mailing.id.not_in(live),
            due,
        )
        .limit(1)
    )
    db.session.commit()  # end the read (SQLite: it holds the write lock)
    return waiting is not None


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
                    Delivery.state == DeliveryState.QUEUED,
                    or_(Delivery.due_at.is_(None), Delivery.due_at <= now),
                )
            )
        )
    )
