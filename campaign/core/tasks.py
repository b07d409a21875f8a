"""The beat tick: one periodic task that runs every domain's periodic jobs.

Schedules live in the database (DESIGN.md §3); beat only wakes this task every
few seconds, and each job looks in the database for what has fallen due.
"""

from __future__ import annotations

import logging
import socket

from celery import shared_task

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
