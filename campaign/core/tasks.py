"""The beat tick: one periodic task that runs every domain's periodic jobs.

Schedules live in the database (DESIGN.md §3); beat only wakes this task every
few seconds, and each job looks in the database for what has fallen due.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

from celery import shared_task
from flask import current_app

from campaign.core.db import on_commit
from campaign.core.models import Heartbeat
from campaign.core.types import utcnow
from campaign.extensions import db

log = logging.getLogger(__name__)
PERIODIC_JOBS: list = []


def periodic(job):
    """Register ``job()`` to run on every tick; it must be idempotent."""
    PERIODIC_JOBS.append(job)
    return job


def beat(name: str, detail: str = "") -> None:
    row = db.session.get(Heartbeat, name)
    if row is None:
        db.session.add(Heartbeat(name=name, at=utcnow(), detail=detail[:200]))
    else:
        row.at, row.detail = utcnow(), detail[:200]


@shared_task(name="core.tick")
def tick() -> None:
    beat("tick", f"worker on {socket.gethostname()}")
    db.session.commit()
    for job in PERIODIC_JOBS:
        try:
            job()
            db.session.commit()
        except Exception:  # one failing job must not starve the others
            db.session.rollback()
            log.exception("periodic job %s failed", getattr(job, "__name__", job))


def enqueue_after_commit(task, *args, broker_down: Callable | None = None) -> None:
    """Publish ``task(*args)`` once the current transaction commits.

    When the broker (Redis) cannot be reached, publishing gives up after about
    a second (the broker transport options in config.py) and, instead of a
    crash page for a request whose data is already committed, the failure is
    logged and ``broker_down(*args)`` runs in a thread of this process, inside
    an app context of its own and committed like a task (the request's session
    cannot be used from an after-commit hook). Pass the task itself to run it
    here instead, or a function that records on the row why nothing ran.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def publish() -> None:
        try:
            task.apply_async(args, retry=False)
        except Exception:  # noqa: BLE001 - any broker trouble; the row is committed
            log.warning("could not enqueue %s%r: the broker is unreachable", task.name, args)
            if broker_down is not None:
                threading.Thread(
                    target=_run_in_app, args=(app, broker_down, args), name=f"fallback {task.name}"
                ).start()

    on_commit(publish)


def _run_in_app(app, function: Callable, args: tuple) -> None:
    with app.app_context():
        try:
            function(*args)
            db.session.commit()
        except Exception:  # a thread has no one to raise to
            db.session.rollback()
            log.exception("fallback for %r failed", function)
