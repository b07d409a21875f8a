"""The beat tick and the broker-down fallback: a failure in one piece of work is
rolled back and logged, and changes nothing else."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from campaign.core import tasks
from campaign.core.models import Heartbeat
from campaign.core.types import utcnow


def _half_written(name: str):
    """Work that writes a heartbeat row, then fails before it is done."""

    def work() -> None:
        from campaign.extensions import db  # the session of whoever runs the work

        db.session.add(Heartbeat(name=name, at=utcnow(), detail=""))
        db.session.flush()
        raise RuntimeError("disk gone")

    return work


def test_a_failing_periodic_job_is_rolled_back_and_the_others_still_run(
    app, db, monkeypatch, caplog
):
    ran = []
    monkeypatch.setattr(tasks, "PERIODIC_JOBS", [_half_written("half"), lambda: ran.append(1)])
    with caplog.at_level(logging.ERROR, logger="campaign.core.tasks"):
        tasks.tick()
        tasks.tick()  # the second tick updates the heartbeat row the first one added
    assert ran == [1, 1]
    assert db.session.get(Heartbeat, "half") is None
    assert db.session.get(Heartbeat, "tick").detail.startswith("worker on ")
    failures = [r for r in caplog.records if r.getMessage().startswith("periodic job")]
    assert len(failures) == 2 and "disk gone" in failures[0].exc_text


@pytest.mark.commits  # the fallback runs on a thread, on a connection of its own
def test_a_failing_broker_down_fallback_writes_nothing_and_says_why(
    app, db, caplog, started_threads
):
    # The tests' broker is a closed port: publishing gives up, and the fallback runs here.
    with caplog.at_level(logging.WARNING, logger="campaign.core.tasks"):
        tasks.enqueue_after_commit(tasks.tick, broker_down=_half_written("fallback"))
        db.session.commit()  # publishes, fails, starts the fallback's thread
        fallbacks = [t for t in started_threads if t.name == "fallback core.tick"]
        assert len(fallbacks) == 1, "the fallback should run on a thread of its own"
        fallbacks[0].join(30)
    messages = [r.getMessage() for r in caplog.records]
    assert any("could not enqueue core.tick" in m for m in messages)
    failed = [r for r in caplog.records if r.getMessage().startswith("fallback for")]
    assert len(failed) == 1 and "disk gone" in failed[0].exc_text
    db.session.expire_all()
    assert db.session.scalar(select(Heartbeat).where(Heartbeat.name == "fallback")) is None
