"""Celery wired for real: a worker process and beat against a real Redis."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.core.models import Heartbeat
from tests import celery_processes


def celery(args: list[str], env: dict, log: Path) -> celery_processes.CeleryProcess:
    return celery_processes.start([*args, "--loglevel=INFO"], env, log)


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


@pytest.mark.slow
def test_beat_ticks_and_a_worker_runs_the_tick(app, db, redis_server, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.empty().url,
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "test",
        "BEAT_TICK_SECONDS": "1",
    }
    worker = celery(
        ["worker", "--pool=solo", "--without-gossip", "--without-mingle"], env, tmp_path / "w.log"
    )
    beat = celery(["beat", "--schedule", str(tmp_path / "schedule")], env, tmp_path / "b.log")
    try:
        deadline = time.monotonic() + 60
        detail = None
        while time.monotonic() < deadline and detail is None:
            time.sleep(0.5)
            detail = db.session.scalar(select(Heartbeat.detail).where(Heartbeat.name == "tick"))
            # End the read at once: on SQLite an open transaction holds the lock
            # the worker needs to write. (Reading the row's attribute after the
            # commit began another read that stayed open while the tick's later
            # jobs waited out their 30 s busy timeout: the task's log line came
            # too late about once in twelve runs on a loaded machine.)
            db.session.commit()
        logs = (tmp_path / "w.log").read_text()[-3000:] + (tmp_path / "b.log").read_text()[-2000:]
        assert detail is not None, f"the worker never ran the tick:\n{logs}"
        assert "worker on" in detail
        # The worker logs JSON lines (LOG_FORMAT defaults to json), tasks with name and id.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and '"campaign.task"' not in _read(tmp_path / "w.log"):
            time.sleep(0.5)
        tasks = [
            json.loads(line)
            for line in _read(tmp_path / "w.log").splitlines()
            if line.startswith("{") and '"campaign.task"' in line
        ]
        assert tasks, f"no task log line:\n{logs}"
        assert tasks[0]["task"] == "core.tick" and tasks[0]["task_id"]
        assert tasks[0]["level"] == "INFO" and "duration_ms" in tasks[0]
    finally:
        for process in (beat, worker):
            process.stop()
