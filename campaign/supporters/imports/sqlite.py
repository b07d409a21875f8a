"""The import writer's statements for SQLite."""

from __future__ import annotations

import re
from datetime import UTC
from itertools import chain
from operator import itemgetter

from campaign.core.types import utcnow
from campaign.supporters.imports.dedupe import Existing, existing_columns
from campaign.supporters.imports.rows import Row
from campaign.supporters.imports.writer import CHUNK_ROWS, Writer, update_values

IMPORT_CACHE_KB = 32 * 1024
_SELECT = "SELECT {} FROM supporters WHERE email_key IN ({})"


class SqliteWriter(Writer):
    def _opened(self) -> None:
        # Inserting into the email key index touches pages all over it: a larger
        # page cache for this one connection saves most of the reads, and
        # checkpointing the write-ahead log less often writes each of those
        # pages back once for several batches instead of once for each.
        self._cache(IMPORT_CACHE_KB, 10_000)

    def _closing(self) -> None:
        self._cache(2000, 1000)  # SQLite's defaults, before the connection goes back

    def _cache(self, kilobytes: int, checkpoint_pages: int) -> None:
        raw = self.conn.connection.dbapi_connection
        raw.execute(f"PRAGMA cache_size=-{int(kilobytes)}")
        raw.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")

    def _now(self) -> str:
        return utcnow().astimezone(UTC).replace(tzinfo=None).isoformat(" ")

    def _suppressed(self, digests: list[str]) -> set[str]:
        marks = ",".join(["?"] * CHUNK_ROWS)
        sql = f"SELECT digest FROM suppressed_addresses WHERE digest IN ({marks})"  # noqa: S608 - only placeholders are formatted in
        found: set[str] = set()
        cursor = self._cursor()
        for chunk in _padded(digests):
            cursor.execute(sql, chunk)
            found.update(row[0] for row in cursor.fetchall())
        return found

    def _existing(self, keys: list[str]) -> dict[str, Existing]:
        if not keys:
            return {}
        sql = _SELECT.format(existing_columns(self.policy), ",".join(["?"] * CHUNK_ROWS))
        cursor = self._cursor()
        found = {}
        for chunk in _padded(keys):
            cursor.execute(sql, chunk)
            found.update((row[0], Existing(*row)) for row in cursor.fetchall())
        return found

    def _insert_sorted(self, rows: list[Row]) -> tuple[int, set[str] | None]:
        # The writer holds SQLite's write lock for the whole transaction (BEGIN
        # IMMEDIATE, campaign.core.db), and rowids are max(rowid) + 1: the rows
        # created here are exactly those above the largest id before the insert.
        # CHUNK_ROWS rows go in one statement (rows.Row's twelve fields each, in
        # one flat list): SQLite then works through a whole chunk with the GIL
        # released, while the reading thread validates the next batch; one row
        # per statement (executemany) took the GIL back after every row.
        now, cursor = self._now(), self._cursor()
        before = cursor.execute("SELECT coalesce(max(id), 0) FROM supporters").fetchone()[0]
        created = 0
        self._make_room()  # the reading thread works while SQLite inserts
        for chunk in _padded(rows):
            cursor.execute(_INSERT, [f"{self.file}:", now, *_flat(chunk)])
            created += cursor.rowcount
        now = _literal(now)
        if created:
            cursor.execute(
                "INSERT INTO consent_events (supporter_id, at, new_state, source, detail, "  # noqa: S608
                f"staff_id) SELECT id, {now}, 'subscribed', ?, ?, ? FROM supporters WHERE id > ?",
                (self.source, f"import job {self.job_id}", self.staff_id, before),
            )
        if created and self.list_id:
            cursor.execute(
                "INSERT INTO list_members (list_id, supporter_id, added_at) "  # noqa: S608
                f"SELECT ?, id, {now} FROM supporters WHERE id > ? ON CONFLICT DO NOTHING",
                (self.list_id, before),
            )
        if created == len(rows):
            return created, None
        # The keys of the rows that were not created: all of the batch's but
        # those of the rows above ``before`` (a range of the table read in order,
        # cheaper than sending the batch's keys to compare in SQL).
        skipped = {row.key for row in rows}
        cursor.execute("SELECT email_key FROM supporters WHERE id > ?", (before,))
        skipped.difference_update(map(_first, cursor))
        return created, skipped

    def _update(self, changed: list[tuple[int, Row]]) -> None:
        if not changed:
            return
        now = self._now()
        self._cursor().executemany(
            "UPDATE supporters SET first_name=?, last_name=?, language=?, country=?, city=?, "
            "timezone=?, interests=?, updated_at=?, import_ref=? WHERE id=?",
            [update_values(row, now, self.file, id_) for id_, row in changed],
        )

    def _add_to_list(self, ids: list[int]) -> None:
        if not ids:
            return
        now = self._now()
        self._cursor().executemany(
            "INSERT INTO list_members (list_id, supporter_id, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(self.list_id, id_, now) for id_ in ids],
        )


# ?1 the file's digest and ":", ?2 the time; then each row's twelve fields as
# column1..column12 (rows.Row: 9 is the row's number, 10 and 11 the language and
# time zone a new supporter gets, 12 the key; 4 and 7 are not stored here).
_INSERT = (  # noqa: S608 - only placeholders are formatted in
    "INSERT INTO supporters (email, first_name, last_name, language, country, city, "
    "timezone, interests, state, import_ref, state_changed_at, created_at, updated_at, "
    "email_key) SELECT column1, column2, column3, column10, column5, column6, column11, "
    "column8, 'subscribed', ?1 || column9, ?2, ?2, ?2, column12 FROM (VALUES {}) "
    "WHERE true ON CONFLICT (email_key) DO NOTHING"  # WHERE: SQLite's upsert syntax needs it
).format(",".join(["(" + ",".join(["?"] * len(Row._fields)) + ")"] * CHUNK_ROWS))
_flat = chain.from_iterable
_first = itemgetter(0)


def _literal(value: str) -> str:
    """A timestamp we made ourselves, as an SQL literal (digits and separators only)."""
    if not re.fullmatch(r"[0-9 :.T+-]+", value):
        raise ValueError(f"not a timestamp: {value!r}")
    return f"'{value}'"


def _padded(items: list):
    """Fixed-size chunks, the last one padded with repeats of its last item.

    One statement text per kind keeps the drivers' prepared-statement caches
    small (a cached 2,000-row INSERT costs megabytes); a repeated email is
    harmless in an IN list and skipped by ON CONFLICT DO NOTHING in an INSERT.
    """
    for start in range(0, len(items), CHUNK_ROWS):
        chunk = items[start : start + CHUNK_ROWS]
        if len(chunk) < CHUNK_ROWS:
            chunk = chunk + [chunk[-1]] * (CHUNK_ROWS - len(chunk))
        yield chunk
