"""A worker killed (kill -9) mid-mailing: the rest goes on at once (issue #16, item 11).

Before, the sweeper woke no mailing while any of its deliveries was ``sending``,
and the killed task's message stayed unacknowledged in Redis: a new worker sat
idle for the whole lease (300 s) with thousands of deliveries never claimed.
Now only what the dead batch held waits, and not for its lease either: its
holder row stops beating and the sweeper re-queues those deliveries after
MAILING_HOLDER_TIMEOUT.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from campaign.mailings import services
from tests.faults.conftest import celery_runner
from tests.mailings.test_workers import duplicates, finished, start_mailing, wait_for

CONNECTIONS, WINDOW = 4, 10


@pytest.fixture
def celery(app, redis_server, sink, tmp_path):
    runner = celery_runner(app, redis_server, sink, tmp_path)
    runner.env.update(
        MAILING_LEASE_SECONDS="300",  # the production default: nobody may wait for it
        MAILING_HOLDER_TIMEOUT="3",
        MAILING_CONNECTIONS=str(CONNECTIONS),
        MAILING_RECORD_WINDOW=str(WINDOW),
        MAILING_BATCH_SIZE="100",
    )
    yield runner
    runner.stop()


@pytest.mark.slow
def test_after_kill_9_the_rest_goes_on_at_once(db, sink, make_supporters, approved_mailing,
                                                celery):  # fmt: skip
    make_supporters(2000)
    sink.delay = 0.005
    celery.beat()
    worker = celery.worker("doomed")
    mailing_id = start_mailing(db, approved_mailing)
    wait_for(db, lambda: len(sink.messages) >= 300, 60, celery, "300 messages never arrived")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at, received_at_kill = time.monotonic(), len(sink.messages)
    celery.worker("new")
    wait_for(db, finished(db, mailing_id), 60, celery, "the mailing did not finish")
    took = time.monotonic() - killed_at
    assert sorted(set(sink.recipients())) == sorted(f"s{i}@example.net" for i in range(2000))
    doubled = duplicates(sink)
    print(f"kill -9 after {received_at_kill}: finished {took:.1f} s later, {doubled} doubled")
    # Far below the 300 s lease: only the holder timeout and a few ticks.
    assert took < 45
    # What one process can repeat: the messages on its connections plus the window.
    assert doubled <= CONNECTIONS + WINDOW
    assert services.counts(mailing_id)["sent"] == 2000
