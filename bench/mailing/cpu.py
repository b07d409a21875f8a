"""CPU per message of the outbox's worker process: the figure to optimise on a shared machine.

    .venv/bin/python -m bench.mailing.cpu [--latency 50] [--supporters 5000]
        [--connections 16,64,256] [--workers 1] [--py-spy PATH/py-spy]

Wall-clock rates move with the machine's load; the CPU seconds a worker spends
per message hardly do. For each connection count it runs the outbox (SQLite,
``--pool=solo``) against the aiosmtpd sink answering each DATA after
``--latency`` ms (0: at once) and prints the worker processes' CPU (user +
system, their children included) from the moment every worker answers a ping
until every delivery is final, divided by the messages. With ``--py-spy`` it
records a flame graph (``--format raw``, threads included) of the first worker
beside each run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.mailing.run import DelaySink, _app, _settings, prepare, run_outbox
from tests.services import Redis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=50.0)
    parser.add_argument("--supporters", type=int, default=5000)
    parser.add_argument("--connections", default="16,64,256")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--py-spy", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ua-cpu-"))
    redis_server = Redis().start()
    sink = DelaySink(args.latency)
    try:
        settings = _settings(f"sqlite:///{tmp / 'cpu.sqlite3'}", redis_server.url, sink, tmp)
        app = _app(settings)
        for connections in (int(c) for c in args.connections.split(",")):
            mailing_id = prepare(app, args.supporters)
            config = {**settings, "MAILING_CONNECTIONS": str(connections),
                      "MAILING_RETRY_SECONDS": "1"}  # fmt: skip
            spy = None
            if args.py_spy:
                out = tmp / f"spy-{connections}.txt"

                def spy(pid, out=out):
                    return subprocess.Popen(
                        [args.py_spy, "record", "--pid", str(pid), "--format", "raw", "--threads",
                         "--gil", "--rate", "1000", "--output", str(out), "--nonblocking"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )  # fmt: skip

            result = run_outbox(app, config, mailing_id, args.workers, tmp, spy=spy)
            print(
                f"{args.latency:g} ms, {args.workers} × {connections}: "
                f"{result['rate']:.0f}/s, worker CPU {result['cpu_us']:.0f} µs a message "
                f"({result['cpu_user_us']:.0f} user; {result['cpu_seconds']:.2f} s), "
                f"peak RSS {result['memory']:.0f} MB, "
                f"load {os.getloadavg()[0]:.1f}, {result['counts']}",
                flush=True,
            )
            if args.py_spy:
                print(f"  flame graph: {tmp / f'spy-{connections}.txt'}", flush=True)
    finally:
        sink.stop()
        redis_server.cleanup()
        if not args.py_spy and not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
