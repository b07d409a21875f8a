"""Supporter import benchmark: 1,000,000 rows on SQLite and PostgreSQL.

Generates the CSV (2% invalid rows, 5% duplicates, six languages and scripts)
in a temporary folder, then per database measures, in the same run:
- the baseline: the database's own bulk loader into a bare table (the sqlite3
  shell's ``.import``; PostgreSQL's ``COPY``);
- our import with all validation and de-duplication, in a fresh schema, in a
  process of its own (peak memory is that process's);
- the same file again (must change nothing).
Prints rows per second, the ratio to the baseline and peak memory, and writes
them to docs/PERFORMANCE.md under "Supporter import".

    .venv/bin/python bench/import/run.py [--rows 1000000] [--only sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
HERE = Path(__file__).resolve().parent

sys.path.insert(0, str(HERE))
from generate import write  # noqa: E402  ("import" is a keyword: not importable as a package)

COLUMNS = "email, first_name, last_name, language, country, city, interests"
COUNT = "SELECT count(*) FROM supporters WHERE state = 'subscribed'"


def sqlite_baseline(path: Path, folder: Path) -> float:
    database = folder / "bare.sqlite3"
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        raise SystemExit("the sqlite3 shell is needed (Debian package sqlite3)")
    started = time.perf_counter()
    subprocess.run(
        [
            sqlite3,
            str(database),
            f"CREATE TABLE bare ({', '.join(c + ' TEXT' for c in COLUMNS.split(', '))});",
            ".mode csv",
            f".import --skip 1 {path} bare",
        ],
        check=True,
    )
    return time.perf_counter() - started


def postgres_baseline(path: Path, url: str) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = ", ".join(c + " text" for c in COLUMNS.split(", "))
        conn.execute(f"DROP TABLE IF EXISTS bare; CREATE TABLE bare ({columns})")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY bare ({COLUMNS}) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            open(path, "rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bare")
    return seconds


# The database's own share of our import: the file's rows, unvalidated, from a
# staging table into the real schema in the two set-based statements a
# perfect importer would run (supporters with their indexes, then one
# consent-log row each), with no Python in between. Ours cannot beat this.
FLOOR_SUPPORTERS = (
    "INSERT INTO supporters (email, first_name, last_name, language, country, city, timezone, "
    "interests, state, import_ref, state_changed_at, created_at, updated_at, email_key) "
    "SELECT email, first_name, last_name, substr(language, 1, 8), substr(country, 1, 2), city, "
    "'UTC', {interests}, 'subscribed', 'floor', {now}, {now}, {now}, lower(email) FROM staging "
    "WHERE true ON CONFLICT (email_key) DO NOTHING"  # WHERE: SQLite's upsert syntax needs it
)
FLOOR_CONSENT = (
    "INSERT INTO consent_events (supporter_id, at, new_state, source, detail) "
    "SELECT id, {now}, 'subscribed', 'benchmark', 'floor' FROM supporters"
)


def schema(url: str) -> None:
    subprocess.run([sys.executable, str(HERE / "worker.py"), url, "--schema-only"], check=True)


def sqlite_floor(path: Path, folder: Path) -> float:
    import sqlite3

    database = folder / "floor.sqlite3"
    schema(f"sqlite:///{database}")
    columns = ", ".join(c + " TEXT" for c in COLUMNS.split(", "))
    subprocess.run(
        [shutil.which("sqlite3"), str(database), f"CREATE TABLE staging ({columns});",
         ".mode csv", f".import --skip 1 {path} staging"],
        check=True,
    )  # fmt: skip
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    now = "'2026-01-01 00:00:00'"
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute(FLOOR_SUPPORTERS.format(interests="'[]'", now=now))
    conn.execute(FLOOR_CONSENT.format(now=now))
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    database.unlink()
    return seconds


def postgres_floor(path: Path, server) -> float:
    import psycopg

    url = server.create_database("floor")
    schema(url)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = ", ".join(c + " text" for c in COLUMNS.split(", "))
        conn.execute(f"CREATE UNLOGGED TABLE staging ({columns})")
        with (
            conn.cursor() as cursor,
            cursor.copy(
                f"COPY staging ({COLUMNS}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
            open(path, "rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.execute("ANALYZE staging")
        started = time.perf_counter()
        with conn.transaction():
            conn.execute(FLOOR_SUPPORTERS.format(interests="'[]'::json", now="now()"))
            conn.execute(FLOOR_CONSENT.format(now="now()"))
        seconds = time.perf_counter() - started
    with psycopg.connect(dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE floor")
    return seconds


def ours(url: str, path: Path, fresh: bool) -> dict:
    args = [sys.executable, str(HERE / "worker.py"), url, str(path)]
    result = subprocess.run(
        [*args, "--fresh"] if fresh else args, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def plans(url: str) -> list[str]:
    """EXPLAIN of the segment counts staff see, after the import (PostgreSQL)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    queries = {
        "language": f"{COUNT} AND language = 'fr'",
        "country": f"{COUNT} AND country = 'UA'",
        "interest": f"{COUNT} AND CAST(interests AS JSONB) ?| ARRAY['torture']",
    }
    lines = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE supporters")
        for name, sql in queries.items():
            rows = conn.execute("EXPLAIN ANALYZE " + sql).fetchall()
            text = [r[0] for r in rows]
            timing = next((t for t in text if t.startswith("Execution Time")), "")
            scan = next((t.strip() for t in text if "Scan" in t), text[0])
            lines.append(f"{name}: {scan.split('  (')[0]} — {timing}")
    return lines


def measure(name: str, url: str, path: Path, rows: int, baseline: float, floor: float) -> dict:
    first = ours(url, path, fresh=True)
    again = ours(url, path, fresh=False)
    result = {
        "database": name,
        "baseline_s": baseline,
        "baseline_rate": rows / baseline,
        "seconds": first["seconds"],
        "rate": rows / first["seconds"],
        "ratio": baseline / first["seconds"],
        "floor_rate": rows / floor,
        "floor_ratio": baseline / floor,
        "peak_mb": first["peak_mb"],
        "writer_mb": first["writer_mb"],
        "reader_mb": first["reader_mb"],
        "app_mb": first["app_mb"],
        "counts": first["counts"],
        "rerun_s": again["seconds"],
        "rerun_counts": again["counts"],
    }
    print(
        f"{name:10} baseline {result['baseline_rate']:>9,.0f} rows/s | ours "
        f"{result['rate']:>7,.0f} rows/s = {result['ratio']:.3f} of baseline | peak "
        f"{result['peak_mb']:.0f} MB (app alone {result['app_mb']:.0f} MB) | re-run "
        f"{result['rerun_s']:.1f} s, created {again['counts']['created']}, "
        f"updated {again['counts']['updated']}"
    )
    print(
        f"{'':10} the database alone (set-based, no validation): {result['floor_rate']:,.0f} "
        f"rows/s = {result['floor_ratio']:.3f} of baseline"
    )
    print(f"{'':10} counts {first['counts']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--no-write", action="store_true", help="do not update PERFORMANCE.md")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ua-import-bench-"))
    results, plan_lines = [], []
    load_before = os.getloadavg()[0]
    try:
        path = write(folder / "supporters.csv", args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, in {folder}")
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{folder / 'campaign.sqlite3'}"
            baseline = sqlite_baseline(path, folder)
            floor = sqlite_floor(path, folder)
            results.append(measure("SQLite", url, path, args.rows, baseline, floor))
        if args.only in (None, "postgresql"):
            from tests.services import Postgres

            server = Postgres().start()
            try:
                url = server.create_database("bench")
                baseline = postgres_baseline(path, url)
                floor = postgres_floor(path, server)
                results.append(measure("PostgreSQL", url, path, args.rows, baseline, floor))
                plan_lines = plans(url)
                for line in plan_lines:
                    print(f"{'':10} plan {line}")
            finally:
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = (load_before, os.getloadavg()[0])
    print(f"load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after, {os.cpu_count()} cores")
    if not args.no_write:
        write_report(results, plan_lines, args.rows, load)


NOTES = [
    '**The 0.25 target is not met; on PostgreSQL this schema cannot meet it**: the column "the',
    'database alone" is the database doing only its own share of our import, in the two',
    "set-based statements a perfect importer would send (the file's rows, unvalidated,",
    "from a staging table into `supporters` and one consent-log row each), with no Python",
    "at all (it even skips normalising, so case variants of an address count as new);",
    "on PostgreSQL it is itself well under 0.25 of `COPY` (0.056 and 0.076 in two runs).",
    "On SQLite it varied between runs with the speed of `.import` (0.18 on 2026-11-23,",
    "0.34 on 2026-11-30), so there the gap is our own per-row work in Python (reading,",
    "email-validator, de-duplication, the writer: 0.077 and 0.103). The bulk loaders write one",
    "unindexed row into one table with no checks; an import must write, for each of",
    "their rows, a `supporters` row with five index entries (the unique email key the",
    "de-duplication relies on, and the state/language, state/country and state/date",
    "indexes that keep segment counts fast at 1,000,000 supporters) and a consent-log",
    "row with its index and foreign-key check (on PostgreSQL a trigger per row). Those",
    'writes are what the rule "every state change is in the consent log" and fast',
    "segments cost; dropping indexes during an import is not safe while staff use them.",
    "",
    "What the import does now, per batch of 10,000 rows: validation in the reading",
    "thread (csv module, email-validator verdicts cached per domain behind a fast path",
    "for plain ASCII local parts that a hypothesis test holds to email-validator's",
    "verdict, codes and names looked up in caches keyed by the raw cell); in the",
    "writing thread, de-duplication in a dict, then set-based statements for the",
    "supporters, by email key (SQLite: the batch sorted, 500 rows per `INSERT …",
    "SELECT … FROM (VALUES …)`; PostgreSQL: `COPY` into a temporary table, then one",
    "`INSERT … SELECT … ORDER BY email_key ON CONFLICT DO NOTHING` whose `RETURNING`",
    "feeds the consent-log and list inserts in the same statement), and one more that",
    "names only the rows that were skipped as existing. Consent-log rows are written",
    "by the database from the inserted rows (SQLite: the rows above the largest id",
    "before the insert, exact because the writer holds SQLite's write lock; their keys,",
    "read back in id order, tell which rows of the batch were skipped), so no id",
    "travels back to Python for a new supporter. Measured alone (1,000,000 rows, CPU",
    "time, 2026-12-07), reading and validating costs about 2.5 µs a row (0.7 µs of it",
    "the csv module) and the writer about 9 µs a row on SQLite, nearly all of it",
    "inside SQLite's inserts and commits: the database is the limit. Since 2026-12-07",
    "the two threads overlap on SQLite: the driver gives up the GIL for a whole",
    "statement of 500 rows, while the reading thread validates the next batch (with",
    "one `executemany` step per row, the writer took the GIL back after every row and",
    "the threads hardly overlapped). Reading in a second process was tried and",
    "removed (2026-12): on an",
    "idle machine SQLite took 13.2 s instead of 15.9 s, but the second interpreter",
    "costs about 90 MB, which puts the import over the 250 MB budget (and its",
    "setting was never on). Passing a batch to SQLite as one JSON parameter (one",
    "statement, GIL released throughout) was tried: no faster, and 110 MB more.",
    "Memory stays flat: a bounded queue of three batches, and statements of a fixed",
    "size. An upload through the web (not measured here: the benchmark imports a",
    "file on disk) is also copied into the database when it arrives and back into a",
    "temporary file where the worker runs it, 1 MB at a time (`core/storage.py`), so",
    "memory stays flat there too.",
]


def write_report(
    results: list[dict], plan_lines: list[str], rows: int, load: tuple[float, float]
) -> None:
    doc = ROOT / "docs" / "PERFORMANCE.md"
    taken = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "## Supporter import",
        "",
        f"`bench/import/run.py`, {rows:,} generated rows (2% invalid, 5% duplicates, six "
        "languages and scripts), on this 2-core machine shared with other work; baseline "
        "measured in the same run. Ours is the full import (streaming, email-validator "
        "checks, codes, de-duplication in the file and against the database, consent log "
        f"rows), timed in its own process. Taken {taken}; the load average (1 min) was "
        f"{load[0]:.1f} before and {load[1]:.1f} after, on {os.cpu_count()} cores.",
        "",
        "| database | bulk loader (baseline) | our import | ratio | the database alone "
        "| peak memory | re-run |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        loader = "sqlite3 `.import`" if r["database"] == "SQLite" else "`COPY`"
        lines.append(
            f"| {r['database']} | {loader}: {r['baseline_rate']:,.0f} rows/s | "
            f"{r['rate']:,.0f} rows/s | {r['ratio']:.3f} | {r['floor_rate']:,.0f} rows/s = "
            f"{r['floor_ratio']:.3f} | {r['peak_mb']:.0f} MB "
            f"(app alone {r['app_mb']:.0f} MB) | {r['rerun_s']:.1f} s, "
            f"{r['rerun_counts']['created']} created, {r['rerun_counts']['updated']} updated |"
        )
    if results:
        c = results[0]["counts"]
        lines += [
            "",
            f"Counts: {c['created']:,} created, {c['duplicates']:,} duplicates merged, "
            f"{c['rejected']:,} rejected (with row, column and reason), of {c['rows']:,} rows.",
        ]
    if plan_lines:
        lines += ["", "Segment counts after the import (PostgreSQL, `EXPLAIN ANALYZE`):", ""]
        lines += [f"- {line}" for line in plan_lines]
    lines += ["", *NOTES]
    section = "\n".join(lines) + "\n"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    start = text.find("## Supporter import")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end + 1 :] if end != -1 else "")
    doc.write_text(text)
    print(f"wrote {doc.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
