"""The writing side of an import: each batch in its own short transaction,
on a thread and connection of its own, with set-based statements on the raw
driver connection (no ORM object per row). The statements differ by dialect:
sqlite.py and postgres.py each hold one writer."""

from __future__ import annotations

import hashlib
import hmac
import operator
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

from flask import current_app

from campaign.extensions import db
from campaign.supporters.imports.dedupe import Counts, Existing, compare, dedupe
from campaign.supporters.imports.rows import Row
from campaign.supporters.models import ImportJob

CHUNK_ROWS = 500  # rows per statement; 500 × 12 parameters fit SQLite's limit

_by_key = operator.attrgetter("key")
_NOTHING = object()  # no item taken early

# What the reading side hands over: a batch, the rows and rejections read so
# far, and the position in the file.
# (rows, rows read, rejected, bytes read, report chunks: inserts of stored_file_chunks)
Item = tuple[list[Row], int, int, int, list]


class Writer(ABC):
    """Look up, insert new, update changed, record progress, batch by batch.

    The dialect writers supply the statements (``_existing``, ``_insert``,
    ``_update``, ``_add_to_list``, ``_suppressed``, ``_now``)."""

    def __init__(self, job: ImportJob, file_digest: str):
        self.job_id = job.id
        self.list_id = job.list_id
        self.staff_id = job.created_by_id
        self.file = file_digest
        self.dry = job.dry_run
        self.policy = job.policy
        self.source = job.consent_source[:200]
        self.engine = db.engine
        # The key of tokens.address_digest, read here: the thread has no app context.
        self._key = (
            current_app.config["SUPPRESSION_KEY"] or current_app.config["SECRET_KEY"]
        ).encode()
        # A dry run writes nothing, so it must remember what it has seen to
        # count duplicates across batches (8-byte keys: ~70 MB per million).
        self.seen: set[int] | None = set() if self.dry else None
        self.lookup_first = False
        self.counts = Counts()
        self.erased_rows: list[list] = []
        self.queue: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name=f"import-{job.id}", daemon=True)
        self.ahead: object = _NOTHING  # an Item or the end (None) taken early (_make_room)
        self.conn = None

    mark = "?"  # the driver's parameter placeholder
    sorts_in_sql = False  # whether _insert_sorted's statement orders the rows by key itself

    # --- the thread ---------------------------------------------------------

    def start(self) -> None:
        self.thread.start()

    def put(
        self, batch: list[Row], rows: int, rejected: int, position: int, chunks: list = ()
    ) -> None:
        """Hand on a batch, and the rejection report's chunks written so far
        (``storage.ChunkWriter`` inserts), to be written in one transaction."""
        if self.error is not None:
            raise self.error
        if batch or chunks:
            self.queue.put((batch, rows, rejected, position, list(chunks)))

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def consume(self, items: Iterable[Item]) -> None:
        """Write (batch, rows, rejected, position) items, each batch in its own
        transaction together with the job's progress."""
        with self.engine.connect() as conn:
            self.conn = conn
            self._opened()
            try:
                for batch, rows, rejected, position, chunks in items:
                    with conn.begin():
                        if batch:
                            self.write(batch, self.counts)
                        for insert in chunks:  # the report, as it is produced
                            conn.execute(insert)
                        self._progress(rows, rejected, position)
            finally:
                self._closing()

    def _loop(self) -> None:
        try:
            self.consume(self._queued())
        except BaseException as error:  # noqa: BLE001 - handed to the producer thread
            self.error = error
            if self.ahead is not None:  # the end is still to come: let the producer finish
                while self.queue.get() is not None:
                    pass

    def _queued(self) -> Iterator[Item]:
        """The queue's items up to the end (None), taking first the one ``_make_room`` took."""
        while True:
            if self.ahead is _NOTHING:
                item = self.queue.get()
            else:
                item, self.ahead = self.ahead, _NOTHING
            if item is None:
                return
            yield item

    def _make_room(self) -> None:
        """Take the next item off the queue now, right before a batch's long statement.

        The reading thread, blocked on a full queue, then validates the batch after it
        while this thread waits on the database with the GIL released. Otherwise it
        would wake as this thread takes an item, at the start of a batch, and this
        thread's short statements would each wait for the GIL (bench/import on
        PostgreSQL: 0.031 -> 0.038 of COPY; docs/PERFORMANCE.md, 2026-12-07)."""
        if self.ahead is _NOTHING and threading.current_thread() is self.thread:
            self.ahead = self.queue.get()

    def _opened(self) -> None:  # noqa: B027 - a dialect may tune its connection
        """Tune the writer's connection."""

    def _closing(self) -> None:  # noqa: B027
        """Undo _opened before the connection goes back to the pool."""

    def _cursor(self):
        # The writer's own connection and transaction, without SQLAlchemy's
        # per-row result processing: the batch statements are plain SQL.
        return self.conn.connection.dbapi_connection.cursor()

    def _progress(self, rows: int, rejected: int, position: int) -> None:
        c, m = self.counts, self.mark
        sql = (
            f"UPDATE import_jobs SET bytes_done={m}, rows={m}, created={m}, updated={m}, "  # noqa: S608
            f"unchanged={m}, duplicates={m}, rejected={m} WHERE id={m}"
        )
        self._cursor().execute(
            sql,
            (position, rows, c.created, c.updated, c.unchanged, c.duplicates,
             rejected + len(self.erased_rows), self.job_id),
        )  # fmt: skip

    # --- one batch ----------------------------------------------------------

    def write(self, batch: list[Row], counts: Counts) -> None:
        rows = dedupe(batch, self.policy, self.seen, counts)
        rows = self._drop_erased(rows)
        if self.dry:
            existing = self._existing(list(rows))
            changed: list = []
            for key, row in rows.items():
                if key in existing:
                    compare(row, existing[key], self.file, self.policy, changed, counts)
                else:
                    counts.created += 1
            counts.updated += len(changed)
            return
        # Insert first while most addresses are new (no lookup for them); look
        # up first while most exist (a re-run), as a doomed insert costs more.
        if self.lookup_first:
            existing = self._existing(list(rows))
            new = [row for key, row in rows.items() if key not in existing]
            created, skipped = self._insert(new)
            if skipped:  # created meanwhile (a sign-up): they exist now, so merge them
                existing.update(self._existing(list(skipped)))
        else:
            created, skipped = self._insert(list(rows.values()))
            existing = self._existing(list(skipped)) if skipped else {}
        self.lookup_first = len(existing) > created
        counts.created += created
        changed: list[tuple[int, Row]] = []
        for key, old in existing.items():
            compare(rows[key], old, self.file, self.policy, changed, counts)
        counts.unchanged += len(rows) - created - len(existing)  # gone meanwhile
        self._update(changed)
        counts.updated += len(changed)
        if self.list_id and existing:
            self._add_to_list([old.id for old in existing.values()])

    def _drop_erased(self, rows: dict[str, Row]) -> dict[str, Row]:
        """The rows whose address was not erased, asked of the database in the
        batch's own transaction: an address erased while a long import runs
        must not come back in a later batch."""
        cursor = self._cursor()
        cursor.execute("SELECT 1 FROM suppressed_addresses LIMIT 1")
        if not rows or cursor.fetchone() is None:  # the common case: nobody erased
            return rows
        # tokens.address_digests: of the key (row.key is models.email_key), and of
        # the address lower-cased where that differs (erasures kept before 2026-12-07).
        secret, sha256 = self._key, hashlib.sha256
        digests = {hmac.digest(secret, row.key.encode(), sha256).hex(): key
                   for key, row in rows.items()}  # fmt: skip
        for key, row in rows.items():
            if (lowered := row.email.lower()) != row.key:
                digests[hmac.digest(secret, lowered.encode(), sha256).hex()] = key
        erased = self._suppressed(list(digests))
        if not erased:
            return rows
        reason = "erased at the person's request: not imported again"
        gone = {digests[digest] for digest in erased}
        dropped = sorted((rows.pop(key) for key in gone), key=lambda r: r.number)
        self.erased_rows.extend([row.number, "email", reason, ""] for row in dropped)
        return rows

    def _insert(self, rows: list[Row]) -> tuple[int, set[str] | None]:
        """Insert the rows whose address is new, each with its consent-log row
        (and list membership), in a few set-based statements.

        Returns how many were created and the keys of the rows that were
        skipped because their supporter exists, or None when every row was created (the common
        case: nothing to look up then).
        """
        if not rows:
            return 0, None
        # Sorted by key: the unique index is then filled in order (by the
        # statement itself where it sorts them, ``sorts_in_sql``).
        return self._insert_sorted(rows if self.sorts_in_sql else sorted(rows, key=_by_key))

    # --- the dialect's statements --------------------------------------------

    @abstractmethod
    def _now(self): ...

    @abstractmethod
    def _suppressed(self, digests: list[str]) -> set[str]: ...

    @abstractmethod
    def _existing(self, keys: list[str]) -> dict[str, Existing]: ...

    @abstractmethod
    def _insert_sorted(self, rows: list[Row]) -> tuple[int, set[str] | None]: ...

    @abstractmethod
    def _update(self, changed: list[tuple[int, Row]]) -> None: ...

    @abstractmethod
    def _add_to_list(self, ids: list[int]) -> None: ...


def update_values(row: Row, now, file: str, id_: int) -> tuple:
    """The parameters of an UPDATE of a supporter's profile (both dialects)."""
    return (
        row.first_name, row.last_name, row.language, row.country, row.city, row.timezone,
        row.interests, now, f"{file}:{row.number}", id_,
    )  # fmt: skip
