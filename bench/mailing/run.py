"""Mailing benchmark: 100,000 supporters, one appeal, from "send" until every delivery is final.

    .venv/bin/python -m bench.mailing.run [--supporters 100000] [--textbook 10000]
        [--sinks smtp-sink,aiosmtpd] [--delay-ms 10] [--delay-supporters 5000]
    .venv/bin/python -m bench.mailing.run --relay 50:20000,200:3000
        [--relay-connections 16,64,256] [--workers 1,2] [--relay-textbook 800]
        [--relay-pipelining]

``--relay`` runs the relay-latency case instead (issue #18): the aiosmtpd sink
answers each DATA after LATENCY ms (LATENCY:SUPPORTERS per point; with
``--relay-pipelining`` it announces PIPELINING, as Postfix does), the outbox
with MAILING_CONNECTIONS of each --relay-connections and 1 and 2 worker
processes, on SQLite; in the same run, (a) plain smtplib sending pre-built
messages from as many processes, each with as many threads and connections,
and (b) the textbook set-up at the same latency with 2 processes.

Runs the outbox on SQLite (the embedded default) and on PostgreSQL, with 1 and
2 Celery worker processes, against Postfix's smtp-sink and against an aiosmtpd
sink (bench/mailing/sink.py) that answers each message after --delay-ms, the
slow-relay case (on --delay-supporters supporters: 10 ms a message over 2
connections caps both the outbox and smtplib near 200 messages a second). In
the same run, for each sink, it measures (a) plain smtplib sending the same
number of pre-built messages of the same size over the same number of reused
connections (the SMTP ceiling of this machine), (a+read) the same with one
read of a supporter's state from the database right before each message (the
least any sender adds to honour an unsubscribe committed a moment before: the
floor the outbox's suppression check cannot go under) and, on smtp-sink, (b) the
textbook Flask approach, one Celery task per email through Flask-Mail. It
prints the figures and the ratios to the baselines.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.services import Postgres, Redis, free_port  # noqa: E402

CONNECTIONS = 2  # MAILING_CONNECTIONS per worker process


class Sink:
    """Postfix's smtp-sink on loopback: accepts and discards everything."""

    def __init__(self):
        self.port = free_port()
        binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
        user = ["-u", "postfix"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen(
            [binary, *user, f"127.0.0.1:{self.port}", "1000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)

    name = "smtp-sink"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class DelaySink(Sink):
    """bench/mailing/sink.py in a process of its own: discards, each message after a delay."""

    def __init__(self, delay_ms: float, log: Path | None = None, pipelining: bool = False):
        self.port = free_port()
        self.name = f"aiosmtpd, {delay_ms:g} ms a message" + (", PIPELINING" if pipelining else "")
        self.log = log
        extra = [str(log)] if log else []
        extra += ["--pipelining"] if pipelining else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.mailing.sink", str(self.port), str(delay_ms), *extra],
            cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                smtplib.SMTP("127.0.0.1", self.port, timeout=1).quit()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the aiosmtpd sink did not start")


def _settings(database_url: str, redis_url: str, sink: Sink, instance: Path) -> dict:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SMTP_URL": sink.url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench-secret",
        "MAIL_FROM": "Urgent Action Network <ua@example.org>",
        "BASE_URL": "https://ua.example.org",
        "MAILING_CONNECTIONS": str(CONNECTIONS),
    }


def _app(settings: dict):
    os.environ.update(settings)
    from campaign import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": _db_url(settings["DATABASE_URL"])})


def _db_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def prepare(app, supporters: int) -> int:
    """A fresh schema, the supporters and an approved appeal for UA 205/16; the mailing id."""
    from sqlalchemy import insert

    from campaign.cases import services as cases
    from campaign.extensions import db
    from campaign.mailings import services
    from campaign.supporters.models import Supporter

    with app.app_context():
        db.drop_all()
        db.create_all()
        languages = ("en", "fr", "es", "de")
        for start in range(0, supporters, 10000):
            rows = [
                {"email": f"supporter{i}@example.net", "first_name": f"Name{i}",
                 "last_name": "Supporter", "language": languages[i % 4], "state": "subscribed"}
                for i in range(start, min(start + 10000, supporters))
            ]  # fmt: skip
            db.session.execute(insert(Supporter), rows)
        case = cases.create_case(None, {
            "title": "Crimean Tatar leader sentenced to eight years",
            "summary": "Akhtem Chiygoz, deputy chairman of the Mejlis, was sentenced ...\n\n" * 6,
            "recommended_actions": "Call on the authorities to release him immediately.\n\n" * 3,
        }, number=205, year=2016)  # fmt: skip
        for n in range(2):
            cases.save_target(None, case, None, {
                "name": f"Prosecutor {n}", "title": "Prosecutor General",
                "address": "Ul. Bolshaya Dmitrovka 15a\nMoscow 125993\nRussian Federation",
                "salutation": "Dear Prosecutor General",
            })  # fmt: skip
        mailing = services.create_mailing(
            None, kind="appeal", subject="UA 205/16: Crimean Tatar leader sentenced",
            body="Please write today.", case_id=case.id, everyone=True,
        )  # fmt: skip
        services.approve(None, mailing)
        db.session.commit()
        return mailing.id


def sample_message(app, mailing_id: int) -> bytes:
    from campaign.extensions import db
    from campaign.mailings import compose, services
    from campaign.mailings.models import Mailing

    with app.app_context():
        mailing = db.session.get(Mailing, mailing_id)
        composer = services.composer_for(mailing, "en")
        recipient = compose.Recipient(1, 1, "supporter1@example.net", "Name1", "Supporter", "en")
        # Both sinks announce 8BITMIME, so the outbox sends 8bit parts: so does (a).
        return composer.build(recipient, eight_bit=True)[2]


def start_workers(count: int, env: dict, logs: Path, app_module: str = "worker", extra=(),
                  ready=None):  # fmt: skip
    processes = []
    for n in range(count):
        log = logs / f"{app_module.replace('.', '_')}-{n}.log"
        with open(log, "wb") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", app_module, "worker", *extra,
                 "--without-gossip", "--without-mingle", "-n", f"w{n}@%h", "--loglevel=WARNING"],
                cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            ))  # fmt: skip
    # Let them start and connect before the clock starts: on a loaded machine
    # create_app alone can take longer than a fixed pause.
    deadline = time.monotonic() + 120
    while ready is not None and time.monotonic() < deadline:
        if len(ready.control.ping(timeout=1.0)) >= count:
            return processes
    time.sleep(4)
    return processes


def _tree(process) -> list:
    """The psutil processes of ``process`` and its live descendants."""
    import psutil

    try:
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def peak_memory_mb(processes) -> float:
    """The largest peak RSS (VmHWM) of one worker process, its children's peaks added.

    Only the worker processes passed in (not beat, not the sinks); read from each
    process's own counter, so every run reports its own workers' peak.
    """
    peak = 0
    for process in processes:
        total = 0
        for member in _tree(process):
            try:
                for line in Path(f"/proc/{member.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        peak = max(peak, total)
    return peak / 1024


def cpu_seconds(processes) -> tuple[float, float]:
    """(user, system) CPU seconds of the worker processes and their children, so far."""
    import psutil

    user = system = 0.0
    for process in processes:
        for member in _tree(process):
            try:
                times = member.cpu_times()
            except psutil.Error:
                continue
            user += times.user + times.children_user
            system += times.system + times.children_system
    return user, system


def stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def run_outbox(app, settings: dict, mailing_id: int, workers: int, logs: Path,
               spy=None) -> dict:  # fmt: skip
    """One outbox run until every delivery is final: its rate, and its worker processes'
    peak memory and CPU (from the moment they all answer a ping to the end)."""
    from sqlalchemy import select

    from campaign.extensions import db
    from campaign.mailings import services
    from campaign.mailings.models import Mailing, MailingState

    # Beat's tick, as in production: it wakes a retry that falls due after the tasks
    # ended. Started first and running before the clock starts, as in production:
    # started with the mailing, its start-up (~1 s of CPU) took from the outbox's.
    schedule = logs / f"beat-{time.monotonic_ns()}"
    with open(logs / "beat.log", "ab") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel=WARNING",
             "--schedule", str(schedule)],
            cwd=ROOT, env={**os.environ, **settings}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    processes = start_workers(workers, {**settings, "MAILING_PARALLEL_TASKS": str(workers)},
                              logs, extra=("--pool=solo",),
                              ready=app.extensions["celery"])  # fmt: skip
    worker_processes = list(processes)
    processes.append(beat)
    deadline = time.monotonic() + 60  # beat opens its schedule file once it is running
    while not list(logs.glob(f"{schedule.name}*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    spying = spy(worker_processes[0].pid) if spy else None
    try:
        with app.app_context():
            mailing = db.session.get(Mailing, mailing_id)
            cpu_before = cpu_seconds(worker_processes)
            started = time.perf_counter()
            services.send(None, mailing)
            db.session.commit()
            total = mailing.total
            # The outbox marks the mailing sent when its last delivery is final: a
            # primary-key read every 0.1 s. Counting the deliveries by state takes the
            # database 8-12 ms for 20,000 (CPU the baselines do not pay), so it runs
            # only every 2 s, in case the mailing ends another way.
            counted = time.perf_counter()
            while True:
                time.sleep(0.1)
                state = db.session.scalar(select(Mailing.state).where(Mailing.id == mailing_id))
                db.session.rollback()
                if state == MailingState.SENT:
                    break
                if time.perf_counter() - counted >= 2:
                    counted = time.perf_counter()
                    progress = services.progress(db.session.get(Mailing, mailing_id))
                    db.session.rollback()
                    if progress["done"] >= total:
                        break
            seconds = time.perf_counter() - started
            progress = services.progress(db.session.get(Mailing, mailing_id))
            db.session.rollback()
            (user_after, system_after) = cpu_seconds(worker_processes)
            user, system = user_after - cpu_before[0], system_after - cpu_before[1]
            cpu = user + system
            counts = progress["counts"]
        return {"seconds": seconds, "rate": total / seconds,
                "memory": peak_memory_mb(worker_processes), "counts": counts, "total": total,
                "cpu_seconds": cpu, "cpu_us": cpu / total * 1e6,
                "cpu_user_us": user / total * 1e6}  # fmt: skip
    finally:
        if spying is not None:
            spying.send_signal(2)  # py-spy writes its file on SIGINT
            try:
                spying.wait(30)
            except subprocess.TimeoutExpired:
                spying.kill()
        stop(processes)


def _reader(database_url: str):
    """A function reading one supporter's state over a connection of its own (autocommit)."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        marker = "?"
    else:
        import psycopg

        connection = psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True)
        marker = "%s"
    query = f"SELECT id FROM supporters WHERE state = 'subscribed' AND id IN ({marker})"

    def read(supporter_id: int) -> bool:
        return bool(connection.execute(query, (supporter_id,)).fetchall())

    return read


def _smtplib_process(port: int, message: bytes, count: int, connections: int,
                     database_url: str = "") -> None:  # fmt: skip
    def one(n: int) -> None:
        # The outbox's SMTP_TIMEOUT (30 s), and a new session on trouble: with hundreds
        # of sessions on a loaded machine a few time out, and one without a timeout
        # would hang the baseline for good.
        options = () if message.isascii() else ("BODY=8BITMIME",)
        smtp, i = None, 0
        # (a+read): the supporter's state read right before each message, the least any
        # sender must add to honour an unsubscribe committed a moment before.
        read = _reader(database_url) if database_url else None
        while i < n:
            try:
                if read is not None:
                    read(i % 1000 + 1)
                smtp = smtp or smtplib.SMTP("127.0.0.1", port, timeout=30)
                smtp.sendmail("bounces@example.org", [f"supporter{i}@example.net"], message,
                              options)  # fmt: skip
                i += 1
            except (OSError, smtplib.SMTPException):
                if smtp is not None:
                    smtp.close()
                smtp = None
        if smtp is not None:
            smtp.quit()

    share = count // connections
    threads = [threading.Thread(target=one, args=(share,)) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_smtplib(
    sink: Sink,
    message: bytes,
    count: int,
    processes: int,
    connections: int = CONNECTIONS,
    database_url: str = "",
) -> dict:
    """Baseline (a): pre-built messages, the same processes × connections as the outbox;
    with ``database_url``, (a+read): also one read of a supporter's state before each."""
    import resource

    share = count // (processes * connections) * connections
    count = share * processes  # whole messages per thread: the rate counts what was sent
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    workers = [
        multiprocessing.Process(
            target=_smtplib_process, args=(sink.port, message, share, connections, database_url)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    # The sending processes' own CPU (joined children of this process).
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"seconds": seconds, "rate": count / seconds, "cpu_us": cpu / count * 1e6}


def run_textbook(sink: Sink, redis_url: str, app, mailing_id: int, count: int, logs: Path):
    """Baseline (b): one Celery task per email through Flask-Mail, 2 worker processes."""
    import redis

    from campaign.extensions import db
    from campaign.mailings import services
    from campaign.mailings.models import Mailing

    with app.app_context():
        shown = services.preview(db.session.get(Mailing, mailing_id), "en")
    env = {"BENCH_SMTP_PORT": str(sink.port), "BENCH_REDIS_URL": redis_url}
    os.environ.update(env)
    from bench.mailing import textbook

    client = redis.Redis.from_url(redis_url)
    client.set("textbook:sent", 0)
    processes = start_workers(1, env, logs, "bench.mailing.textbook:celery", ("--concurrency=2",))
    try:
        started = time.perf_counter()
        for i in range(count):
            textbook.send_email.delay(f"supporter{i}@example.net", f"Name{i} Supporter",
                                      shown["subject"], shown["text"], shown["html"])  # fmt: skip
        while int(client.get("textbook:sent") or 0) < count:
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    finally:
        stop(processes)
    return {"seconds": seconds, "rate": count / seconds}


def run_relay(args, tmp: Path, redis_server) -> None:
    """The relay-latency case: the outbox against a relay answering each DATA after N ms."""
    rows = []
    for point in args.relay.split(","):
        latency, _, count = point.partition(":")
        latency_ms, supporters = float(latency), int(count or 20_000)
        sink = DelaySink(latency_ms, tmp / f"received-{latency_ms:g}.txt", args.relay_pipelining)
        try:
            url = f"sqlite:///{tmp / f'relay{len(rows)}.sqlite3'}"
            settings = _settings(url, redis_server.url, sink, tmp)
            app = _app(settings)
            mailing_id = prepare(app, supporters)
            message = sample_message(app, mailing_id)
            for workers in (int(w) for w in args.workers.split(",")):
                for connections in (int(c) for c in args.relay_connections.split(",")):
                    mailing_id = prepare(app, supporters)
                    baseline = run_smtplib(sink, message, supporters, workers, connections)
                    a = baseline["rate"]
                    print(f"(a) smtplib {latency_ms:g} ms, {workers} × {connections}: {a:.0f}/s, "
                          f"{baseline['cpu_us']:.0f} µs CPU a message", flush=True)  # fmt: skip
                    # A session that times out opening (hundreds at once, on a loaded
                    # machine) is retried after 1 s rather than the default minute.
                    config = {**settings, "MAILING_CONNECTIONS": str(connections),
                              "MAILING_RETRY_SECONDS": "1"}  # fmt: skip
                    sink.log.write_text("")  # what the outbox sends, alone
                    result = run_outbox(app, config, mailing_id, workers, tmp)
                    time.sleep(0.5)
                    received = sink.log.read_text().split()
                    result["doubled"] = len(received) - len(set(received))
                    result.update(a=a, a_cpu=baseline["cpu_us"], latency=latency_ms,
                                  connections=connections, supporters=supporters,
                                  load=os.getloadavg()[0])  # fmt: skip
                    rows.append((workers, result))
                    print(f"outbox {latency_ms:g} ms, {workers} × {connections}: "
                          f"{result['rate']:.0f}/s in {result['seconds']:.1f} s, "
                          f"{result['cpu_us']:.0f} µs worker CPU a message, "
                          f"{result['memory']:.0f} MB, {result['counts']}", flush=True)  # fmt: skip
            textbook_count = args.relay_textbook if latency_ms <= 50 else args.relay_textbook // 3
            textbook = run_textbook(sink, redis_server.url, app, mailing_id, textbook_count, tmp)
            print(f"(b) textbook at {latency_ms:g} ms, 2 processes: {textbook['rate']:.1f}/s "
                  f"({textbook_count} emails)", flush=True)  # fmt: skip
            for _workers, result in rows:
                if result["latency"] == latency_ms:
                    result["b"] = textbook["rate"]
        finally:
            sink.stop()
    print(
        "\n| relay latency | supporters | workers | connections | messages/s | time "
        "| worker CPU a message | peak worker RSS | vs (a) smtplib | vs (b) textbook "
        "| final, doubled | load (1 min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for workers, r in rows:
        counts = r["counts"]
        final = sum(counts.get(state, 0) for state in ("sent", "failed", "suppressed", "bounced"))
        print(f"| {r['latency']:g} ms | {r['supporters']:,} | {workers} | {r['connections']} | "
              f"{r['rate']:,.0f} | {r['seconds']:.1f} s | {r['cpu_us']:.0f} µs "
              f"(a: {r['a_cpu']:.0f} µs) | {r['memory']:.0f} MB | "
              f"{r['rate'] / r['a']:.2f} (a = {r['a']:,.0f}/s) | "
              f"{r['rate'] / r['b']:.0f}× (b = {r['b']:.1f}/s) | "
              f"{final:,} of {r['total']:,}, {r.get('doubled', 0)} | "
              f"{r['load']:.1f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relay", default="", help="LATENCY_MS:SUPPORTERS,... (issue #18)")
    parser.add_argument("--relay-connections", default="16,64,256")
    parser.add_argument("--relay-textbook", type=int, default=800)
    parser.add_argument("--relay-pipelining", action="store_true",
                        help="the relay sink announces PIPELINING, as Postfix does")  # fmt: skip
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--textbook", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--sinks", default="smtp-sink,aiosmtpd")
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--delay-supporters", type=int, default=5_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ua-bench-"))
    print(f"working in {tmp}", flush=True)
    redis_server = Redis().start()
    if args.relay:
        try:
            run_relay(args, tmp, redis_server)
        finally:
            redis_server.cleanup()
            if not os.environ.get("BENCH_KEEP"):
                shutil.rmtree(tmp, ignore_errors=True)
        return
    postgres, sink = None, None
    rows = []
    textbook = None
    try:
        for sink_name in args.sinks.split(","):
            sink = Sink() if sink_name == "smtp-sink" else DelaySink(args.delay_ms)
            supporters = args.supporters if sink_name == "smtp-sink" else args.delay_supporters
            message, app, mailing_id = b"", None, None
            for backend in args.backends.split(","):
                if backend == "postgresql":
                    postgres = postgres or Postgres().start()
                    url = postgres.create_database(f"bench_{len(rows)}")
                else:
                    url = f"sqlite:///{tmp / f'bench{len(rows)}.sqlite3'}"
                settings = _settings(url, redis_server.url, sink, tmp)
                app = _app(settings)
                for workers in (int(w) for w in args.workers.split(",")):
                    mailing_id = prepare(app, supporters)
                    message = sample_message(app, mailing_id)
                    # (a) right before and right after the outbox, against the higher of
                    # the two: the machine is shared and its load drifts, and a transient
                    # slowdown must not flatter the ratio (right after a fresh PostgreSQL
                    # cluster, (a) "before" read 2,400/s against 6,000/s after, every time).
                    first = run_smtplib(sink, message, supporters, workers)
                    result = run_outbox(app, settings, mailing_id, workers, tmp)
                    second = run_smtplib(sink, message, supporters, workers)
                    with_read = run_smtplib(sink, message, supporters, workers, database_url=url)
                    before, after = first["rate"], second["rate"]
                    result["a_cpu"] = (first["cpu_us"] + second["cpu_us"]) / 2
                    print(f"(a) smtplib, {sink.name}, {workers} × {CONNECTIONS} connections: "
                          f"{before:.0f}/s before, {after:.0f}/s after; (a+read) "
                          f"{with_read['rate']:.0f}/s", flush=True)  # fmt: skip
                    result.update(sink=sink.name, a=max(before, after), size=len(message),
                                  a_read=with_read["rate"])  # fmt: skip
                    rows.append((backend, workers, result))
                    print(f"outbox {backend}, {sink.name}, {workers} worker(s): "
                          f"{result['rate']:.0f}/s in {result['seconds']:.1f} s, peak worker "
                          f"memory {result['memory']:.0f} MB, {result['counts']}",
                          flush=True)  # fmt: skip
            if sink_name == "smtp-sink" and args.textbook:
                textbook = run_textbook(sink, redis_server.url, app, mailing_id, args.textbook, tmp)
                print(f"(b) textbook Flask-Mail, one task per email, 2 processes: "
                      f"{textbook['rate']:.0f}/s", flush=True)  # fmt: skip
            sink.stop()
            sink = None
        report(rows, textbook, args)
    finally:
        if sink:
            sink.stop()
        redis_server.cleanup()
        if postgres:
            postgres.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def report(rows, textbook, args) -> None:
    print(f"\n{args.supporters} supporters on smtp-sink, {args.delay_supporters} on the delaying "
          f"sink; textbook on {args.textbook}\n")  # fmt: skip
    print("| sink | database | workers | messages/s | time | worker CPU a message "
          "| peak worker RSS | vs (a) | (a+read) vs (a) | vs (b) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for backend, workers, result in rows:
        a = result["a"]
        b = f"{result['rate'] / textbook['rate']:.1f}× (b = {textbook['rate']:.0f}/s)" if (
            textbook and result["sink"] == "smtp-sink") else "–"  # fmt: skip
        print(f"| {result['sink']} | {backend} | {workers} | {result['rate']:.0f} | "
              f"{result['seconds']:.1f} s | "
              f"{result['cpu_us']:.0f} µs (a: {result['a_cpu']:.0f} µs) | "
              f"{result['memory']:.0f} MB | "
              f"{result['rate'] / a:.2f} (a = {a:.0f}/s) | "
              f"{result['a_read'] / a:.2f} (a+read = {result['a_read']:.0f}/s) | "
              f"{b} |")  # fmt: skip
    sizes = sorted({result["size"] for _b, _w, result in rows})
    print(f"\nmessage size {', '.join(f'{size / 1024:.1f} KB' for size in sizes)}")


if __name__ == "__main__":
    main()
