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


def measure(name: str, url: str, path: Path, rows: int, baseline: float) -> dict:
    first = ours(url, path, fresh=True)
    again = ours(url, path, fresh=False)
    result = {
        "database": name,
        "baseline_s": baseline,
        "baseline_rate": rows / baseline,
        "seconds": first["seconds"],
        "rate": rows / first["seconds"],
        "ratio": baseline / first["seconds"],
        "peak_mb": first["peak_mb"],
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
    try:
        path = write(folder / "supporters.csv", args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, in {folder}")
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{folder / 'campaign.sqlite3'}"
            results.append(measure("SQLite", url, path, args.rows, sqlite_baseline(path, folder)))
        if args.only in (None, "postgresql"):
            from tests.services import Postgres

            server = Postgres().start()
            try:
                url = server.create_database("bench")
                baseline = postgres_baseline(path, url)
                results.append(measure("PostgreSQL", url, path, args.rows, baseline))
                plan_lines = plans(url)
                for line in plan_lines:
                    print(f"{'':10} plan {line}")
            finally:
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not args.no_write:
        write_report(results, plan_lines, args.rows)


NOTES = [
    "**The 0.25 target is not met.** Where the time goes (profiled separately at 300,000",
    "rows): reading, parsing and validating runs at about 3.4 µs a row in the reading",
    "thread (csv module, email-validator verdicts cached per domain, code lookups cached",
    "per cell value), about 300,000 rows/s, so it is not the limit. The writing thread is:",
    "on SQLite about 8 µs a row to insert into `supporters` (unique email index plus four",
    "others, against none on the bare table) and 2 µs for the consent-log row; on",
    "PostgreSQL about 13 µs (COPY into a staging table, then `INSERT … SELECT … ON",
    "CONFLICT`) and 6.5 µs for the consent-log row (its foreign-key check). The bulk",
    "loaders write one unindexed row into one table with no checks, so a full import",
    "writes two indexed rows for each of their one. Memory stays flat: batches of 5,000",
    "rows through a queue of three, and statements of a fixed size so that the drivers'",
    "statement caches stay small (a cached 2,000-row INSERT cost tens of MB before).",
]


def write_report(results: list[dict], plan_lines: list[str], rows: int) -> None:
    doc = ROOT / "docs" / "PERFORMANCE.md"
    taken = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "## Supporter import",
        "",
        f"`bench/import/run.py`, {rows:,} generated rows (2% invalid, 5% duplicates, six "
        "languages and scripts), on this 2-core machine shared with other work; baseline "
        "measured in the same run. Ours is the full import (streaming, email-validator "
        "checks, codes, de-duplication in the file and against the database, consent log "
        f"rows), timed in its own process. Taken {taken}.",
        "",
        "| database | bulk loader (baseline) | our import | ratio | peak memory | re-run |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        loader = "sqlite3 `.import`" if r["database"] == "SQLite" else "`COPY`"
        lines.append(
            f"| {r['database']} | {loader}: {r['baseline_rate']:,.0f} rows/s | "
            f"{r['rate']:,.0f} rows/s | {r['ratio']:.3f} | {r['peak_mb']:.0f} MB "
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
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    doc.write_text(text)
    print(f"wrote {doc.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
