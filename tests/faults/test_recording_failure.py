"""The database refuses to record a window of results in the middle of a batch.

The database itself refuses (a trigger raises, as a full disk or a lost server
would): the batch stops, at most one window of messages went out unrecorded,
and its sender threads end instead of waiting forever for window permits while
holding a database connection and an SMTP connection each.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from campaign.mailings import outbox, services
from campaign.mailings.models import Delivery

TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER refuse_record BEFORE UPDATE OF state ON deliveries "
        "WHEN NEW.state = 'sent' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_record() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_record BEFORE UPDATE ON deliveries FOR EACH ROW "
        "WHEN (NEW.state = 'sent') EXECUTE FUNCTION refuse_record()",
    ],
}
DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse_record"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS refuse_record ON deliveries",
        "DROP FUNCTION IF EXISTS refuse_record()",
    ],
}


@pytest.fixture
def refusing_database(db, db_backend):
    def install():
        with db.engine.begin() as conn:
            for statement in TRIGGERS[db_backend]:
                conn.execute(text(statement))

    yield install
    db.session.rollback()
    with db.engine.begin() as conn:
        for statement in DROP[db_backend]:
            conn.execute(text(statement))


def test_a_refused_record_stops_the_batch_and_its_threads(
    app, db, sink, make_supporters, approved_mailing, refusing_database
):
    # Two connections, two permits: both senders wait for permits when the record fails.
    app.config.update(MAILING_RECORD_WINDOW=2, MAILING_CONNECTIONS=2)
    make_supporters(60)
    mailing = approved_mailing()
    services.start(None, mailing)
    db.session.commit()
    refusing_database()
    before = set(threading.enumerate())
    with pytest.raises(DBAPIError, match="disk full"):
        outbox.run_batch(mailing.id)
    db.session.rollback()
    # At most one window unrecorded, plus what was on the wire (docs/RELIABILITY.md).
    window = app.config["MAILING_RECORD_WINDOW"] + app.config["MAILING_CONNECTIONS"]
    assert 0 < len(sink.messages) <= window

    def leftover():
        return [t for t in threading.enumerate() if t not in before and t.is_alive()]

    deadline = time.monotonic() + 10
    while leftover() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leftover(), "sender threads still wait for window permits"
    # Nothing was recorded as sent: the leases expire and the sweeper re-queues them.
    states = db.session.scalars(
        text("SELECT DISTINCT state FROM deliveries WHERE mailing_id = :m"), {"m": mailing.id}
    ).all()
    assert set(states) <= {"sending", "queued"}
    assert db.session.query(Delivery).filter_by(state="sent").count() == 0
