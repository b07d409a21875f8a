"""Staff issuing at the same moment never get the same UA number.

On PostgreSQL the counter row lock serialises them; on SQLite BEGIN IMMEDIATE does.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event

from campaign.cases import services

# Each thread issues on a connection of its own: they must see committed drafts.
pytestmark = pytest.mark.commits


def test_parallel_issuing_gets_distinct_numbers(app, db):
    drafts = [
        services.create_case(None, {"title": f"UA {i}", "summary": "S", "recommended_actions": "A"})
        for i in range(8)
    ]
    db.session.flush()
    ids = [case.id for case in drafts]
    # End this thread's transaction: on SQLite an open one holds the write lock.
    db.session.commit()
    barrier = threading.Barrier(len(ids))
    results, errors = {}, []

    # Hold each transaction open a little after numbering, so that they overlap.
    @event.listens_for(db.engine, "commit")
    def slow_commit(_conn):
        time.sleep(0.05)

    def issue(case_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                case = services.get_case(case_id)
                services.issue_case(None, case)
                db.session.commit()
                results[case_id] = case.number
            except Exception as error:  # noqa: BLE001 - collected and asserted on
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(case_id,)) for case_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    event.remove(db.engine, "commit", slow_commit)
    assert errors == []
    assert sorted(results.values()) == list(range(1, len(ids) + 1))
