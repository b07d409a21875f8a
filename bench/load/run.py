"""Load benchmark: the public case page and the "I took action" link under 200 clients.

    .venv/bin/python bench/load/run.py [--users 200] [--seconds 60] [--workers 4]
                                       [--database sqlite|postgresql]

Sets up a temporary instance (SQLite by default, or a throwaway PostgreSQL
cluster) with the demo data, a private Redis (rate-limit counters, as in
production), and serves it with gunicorn on loopback as in production
(sync workers). Locust then runs headless: every client fetches, in turn, a
static file from the same server (the baseline), the public page of UA 145/19,
and its signed "I sent my appeal" link (GET, then the one-tap POST that counts
the action). Prints requests, errors and p50/p95/p99 per endpoint, and each
endpoint's p99 as a ratio to the static file's p99 in the same run.

The public forms' per-IP limit is raised for this run only (bench/load/wsgi.py):
every client comes from 127.0.0.1, and the run must measure the app, not the limiter.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from tests.services import Postgres, Redis, free_port  # noqa: E402

ENDPOINTS = ("static file", "case page", "action link (GET)", "I took action (POST)")


def environment(instance: Path, database_url: str, redis_url: str, port: int) -> dict:
    return {
        **os.environ,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-load-secret-key",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SMTP_URL": f"smtp://127.0.0.1:{free_port()}",  # nothing is sent in this run
        "FLASK_APP": "campaign",
    }


def prepare(env: dict, tokens: int) -> dict:
    """Schema, demo data, and what the clients need: paths and signed action links."""
    for command in (["db", "upgrade"], ["demo", "--supporters", "1000"]):
        subprocess.run([BIN / "flask", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
    script = f"""
import json
from sqlalchemy import select
from campaign import create_app
from campaign.cases.models import Case
from campaign.letters.services import action_token
from campaign.supporters.models import Supporter
from campaign.extensions import db
app = create_app()
with app.app_context():
    case = db.session.scalar(select(Case).where(Case.number == 145, Case.year == 2019))
    people = db.session.scalars(select(Supporter).order_by(Supporter.id).limit({tokens})).all()
    print(json.dumps({{
        "case_page": f"/ua/{{case.id}}",
        "static": "/static/public.css",
        "tokens": [action_token(case, s, "email") for s in people],
    }}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def read_stats(path: Path) -> dict:
    with path.open(newline="") as fh:
        return {row["Name"]: row for row in csv.DictReader(fh)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ua-load-"))
    redis = Redis().start()
    postgres = None
    gunicorn = None
    try:
        if args.database == "postgresql":
            postgres = Postgres().start()
            database_url = postgres.create_database("load")
        else:
            database_url = f"sqlite:///{tmp / 'load.sqlite3'}"
        port = free_port()
        env = environment(tmp / "instance", database_url, redis.url, port)
        setup = prepare(env, tokens=args.users * 2)
        with (tmp / "gunicorn.log").open("wb") as log:
            gunicorn = subprocess.Popen(
                [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                 "--backlog", "2048", "bench.load.wsgi:app"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        host = f"http://127.0.0.1:{port}"
        wait_up(host + "/healthz")
        print(f"gunicorn: {args.workers} sync workers on {host}; database {args.database}; "
              f"{args.users} clients for {args.seconds} s")  # fmt: skip
        subprocess.run(
            [BIN / "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.users), "--run-time",
             f"{args.seconds}s", "--host", host, "--csv", str(tmp / "load"), "--only-summary",
             "--stop-timeout", "10", "--loglevel", "WARNING"],
            cwd=ROOT, env={**env, "LOAD_SETUP": json.dumps(setup)}, check=False,
            stdout=subprocess.DEVNULL, stderr=(tmp / "locust.log").open("wb"),
        )  # fmt: skip
        report(read_stats(tmp / "load_stats.csv"), tmp)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(30)
        redis.cleanup()
        if postgres is not None:
            postgres.stop()
        if os.environ.get("KEEP_LOAD_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(stats: dict, tmp: Path) -> None:
    base = float(stats["static file"]["99%"])
    print("\n| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | p99 / static p99 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    errors = 0
    for name in (*ENDPOINTS, "Aggregated"):
        row = stats[name]
        errors += int(row["Failure Count"]) if name != "Aggregated" else 0
        ratio = float(row["99%"]) / base if base else float("nan")
        print(f"| {name} | {row['Request Count']} | {row['Failure Count']} | {row['50%']} | "
              f"{row['95%']} | {row['99%']} | {ratio:.2f} |")  # fmt: skip
    print(f"\nthroughput: {float(stats['Aggregated']['Requests/s']):.0f} requests/s")
    failures = tmp / "load_failures.csv"
    if errors and failures.exists():
        print("\nerrors:\n" + failures.read_text())
    log = (tmp / "gunicorn.log").read_text(errors="replace")
    server_side(log)
    for marker in ("database is locked", "Traceback", "WORKER TIMEOUT"):
        if marker in log:
            print(f"gunicorn log has {log.count(marker)} × {marker!r}")
    if errors:
        sys.exit(1)


def server_side(log: str) -> None:
    """Time spent inside the app per request, from the app's JSON request log (if on)."""
    durations: dict[str, list[float]] = {}
    for line in log.splitlines():
        if not line.startswith("{") or '"duration_ms"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        path, method = entry.get("path", ""), entry.get("method", "")
        if path.startswith("/static/"):
            name = "static file"
        elif path.startswith("/ua/"):
            name = "case page"
        elif path.startswith("/act/"):
            name = "I took action (POST)" if method == "POST" else "action link (GET)"
        else:
            continue
        durations.setdefault(name, []).append(float(entry["duration_ms"]))
    if not durations.get("static file"):
        return
    print("\ninside the app (from its request log):\n")
    print("| endpoint | p50 ms | p99 ms | p50 / static p50 |\n|---|---:|---:|---:|")
    base = percentile(durations["static file"], 50)
    for name in ENDPOINTS:
        values = durations.get(name, [])
        if values:
            p50, p99 = percentile(values, 50), percentile(values, 99)
            print(f"| {name} | {p50:.1f} | {p99:.1f} | {p50 / base:.0f} |")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


if __name__ == "__main__":
    main()
