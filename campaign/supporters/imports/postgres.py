"""The import writer's statements for PostgreSQL."""

from __future__ import annotations

from campaign.core.types import utcnow
from campaign.supporters.imports.dedupe import Existing, existing_columns
from campaign.supporters.imports.rows import Row
from campaign.supporters.imports.writer import CHUNK_ROWS, Writer, update_values


class PostgresWriter(Writer):
    mark = "%s"
    sorts_in_sql = True  # INSERT … SELECT … ORDER BY email_key: no sort in Python first

    def _now(self):
        return utcnow()

    def _suppressed(self, digests: list[str]) -> set[str]:
        cursor = self._cursor()
        cursor.execute(
            "SELECT digest FROM suppressed_addresses WHERE digest = ANY(%s)",
            (digests,),
            prepare=False,
        )
        return {row[0] for row in cursor.fetchall()}

    def _existing(self, keys: list[str]) -> dict[str, Existing]:
        if not keys:
            return {}
        cursor = self._cursor()
        found = {}
        # Planned afresh each time (prepare=False): a plan cached while the
        # table was empty would scan it sequentially ever after. Chunks of
        # CHUNK_ROWS keep an index scan the cheaper plan on a large table.
        query = (
            f"SELECT {existing_columns(self.policy)} FROM supporters "  # noqa: S608 - column names only
            "WHERE email_key = ANY(%s)"
        )
        for start in range(0, len(keys), CHUNK_ROWS):
            cursor.execute(query, (keys[start : start + CHUNK_ROWS],), prepare=False)
            found.update((row[0], Existing(*row)) for row in cursor.fetchall())
        return found

    def _insert_sorted(self, rows: list[Row]) -> tuple[int, set[str] | None]:
        # COPY into a per-connection staging table (its columns in the order
        # of rows.Row), then one statement inserts the new supporters, their
        # consent-log rows and list memberships.
        cursor = self._cursor()
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_rows (email text, first_name text, "
            "last_name text, language_given text, country text, city text, zone_given text, "
            "interests text, row_number int, language text, timezone text, email_key text) "
            "ON COMMIT DELETE ROWS"
        )
        with cursor.copy("COPY import_rows FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        self._make_room()  # the reading thread works while the statement below runs
        listed = (
            ", listed AS (INSERT INTO list_members (list_id, supporter_id, added_at) "
            "SELECT %(list)s, id, %(now)s FROM created ON CONFLICT DO NOTHING)"
            if self.list_id
            else ""
        )
        cursor.execute(
            "WITH created AS (INSERT INTO supporters (email, first_name, last_name, language, "  # noqa: S608 - only a constant clause is formatted in
            "country, city, timezone, interests, state, import_ref, state_changed_at, "
            "created_at, updated_at, email_key) SELECT email, first_name, last_name, language, "
            "country, city, timezone, interests::json, 'subscribed', %(file)s || row_number, "
            "%(now)s, %(now)s, %(now)s, email_key FROM import_rows ORDER BY email_key "
            "ON CONFLICT (email_key) DO NOTHING RETURNING id, email_key), "
            "logged AS (INSERT INTO consent_events (supporter_id, at, new_state, source, detail, "
            "staff_id) SELECT id, %(now)s, 'subscribed', %(source)s, %(detail)s, %(staff)s "
            f"FROM created){listed} SELECT r.email_key FROM import_rows r "
            "WHERE r.email_key NOT IN (SELECT email_key FROM created)",
            {
                "file": f"{self.file}:",
                "now": self._now(),
                "source": self.source,
                "detail": f"import job {self.job_id}",
                "staff": self.staff_id,
                "list": self.list_id,
            },
        )
        skipped = {row[0] for row in cursor.fetchall()}  # their supporter exists
        cursor.execute("TRUNCATE import_rows")
        return len(rows) - len(skipped), skipped or None

    def _update(self, changed: list[tuple[int, Row]]) -> None:
        if not changed:
            return
        now = self._now()
        self._cursor().executemany(
            "UPDATE supporters SET first_name=%s, last_name=%s, language=%s, country=%s, "
            "city=%s, timezone=%s, interests=%s::json, updated_at=%s, import_ref=%s "
            "WHERE id=%s",
            [update_values(row, now, self.file, id_) for id_, row in changed],
        )

    def _add_to_list(self, ids: list[int]) -> None:
        if not ids:
            return
        self._cursor().execute(
            "INSERT INTO list_members (list_id, supporter_id, added_at) "
            "SELECT %s, unnest(%s::int[]), %s ON CONFLICT DO NOTHING",
            (self.list_id, ids, self._now()),
        )
