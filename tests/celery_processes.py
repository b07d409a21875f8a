"""Celery worker and beat processes for the tests, forked from a warm process.

``python -m celery -A worker`` spends about 1 s of CPU importing Celery, Flask,
SQLAlchemy and campaign before it builds the app, and the suite starts some 75
of them. Here each is forked from multiprocessing's fork server, which has
imported all that once per test process (``tests/celery_warm.py``), so a start costs only what
``worker.py`` does: build the app from its environment (~0.2 s).

What a test sees is unchanged: a separate process with the environment, working
folder and log file it was given, its own pid to kill -9, SIGTERM for a warm
shutdown, and an exit code (``-N`` when killed by signal N, as with Popen).
It runs Celery's own command line (``celery.__main__``) in the fork, as
``python -m celery`` does, just without starting a new interpreter.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing import forkserver
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _context() -> multiprocessing.context.ForkServerContext:
    """multiprocessing's fork server, started once per test process with
    ``tests.celery_warm`` imported (from ROOT: the server imports by name, with
    the working folder as the first entry of its path)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.celery_warm"])
    with contextlib.chdir(ROOT):
        forkserver.ensure_running()
    return context


def _main(args: list[str], env: dict[str, str], log: str, append: bool) -> None:
    """The fork's body: become ``python -m celery <args>`` with this environment and log."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(log, flags, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(env)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    sys.argv = ["celery", *args]
    from celery.__main__ import main

    main()


class CeleryProcess:
    """A forked ``celery`` process with the part of Popen's interface the tests use."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, append: bool = False):
        # Daemonic: one a test left running is terminated when its test process
        # ends, instead of being waited for (a hung run) or left behind.
        self._process = _context().Process(
            target=_main, args=(list(args), dict(env), str(log), append), daemon=True
        )
        self._process.start()
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("celery", timeout or 0)
        return self._process.exitcode

    def terminate(self) -> None:
        if self._process.exitcode is None:
            self._process.terminate()

    def kill(self) -> None:
        if self._process.exitcode is None:
            self._process.kill()

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL if it is still there after ``timeout``."""
        self.terminate()
        try:
            self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()


def start(args: list[str], env: dict[str, str], log: Path, append: bool = False) -> CeleryProcess:
    """``python -m celery -A worker <args>`` with ``env``, its output in ``log``."""
    return CeleryProcess(["-A", "worker", *args], env, log, append)


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[CeleryProcess]:
    """``start``, then ``stop`` on the way out."""
    process = start(args, env, log)
    try:
        yield process
    finally:
        process.stop()
