"""The database briefly unavailable while real workers send a mailing.

PostgreSQL: a cluster of this test's own is stopped for a few seconds in the
middle of a mailing and started again. SQLite: another process holds the write
lock for a few seconds (a long transaction, a backup, a migration).
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from campaign.mailings import services
from campaign.mailings.models import Mailing
from tests.conftest import make_config
from tests.faults.conftest import mail_settings
from tests.mailings.test_workers import duplicates, finished, start_mailing, wait_for
from tests.services import Postgres, unavailable

WINDOW = 10  # MAILING_RECORD_WINDOW of the workers (tests/mailings/test_workers.py)


def everyone(n: int) -> list[str]:
    return sorted(f"s{i}@example.net" for i in range(n))


class StoppablePostgres(Postgres):
    """A throwaway cluster that can be stopped and started again on the same port."""

    def start(self) -> StoppablePostgres:
        super().start()
        self.options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
        )
        return self

    def down(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def up(self) -> None:
        self._run(
            self.pg_ctl, "-D", str(self.data), "-o", self.options,
            "-l", str(self.dir / "log"), "-w", "-t", "60", "start",
        )  # fmt: skip


@pytest.fixture
def own_postgres():
    try:
        server = StoppablePostgres().start()
    except Exception as error:  # noqa: BLE001 - reported as skip or CI failure
        unavailable(f"PostgreSQL could not start: {error}")
    yield server
    server.stop()


@pytest.mark.slow
class TestPostgresDown:
    @pytest.fixture
    def app_config(self, own_postgres, tmp_path, sink, redis_server):
        from campaign import create_app
        from campaign.extensions import db

        url = own_postgres.create_database("faults")
        schema = create_app(make_config(url, tmp_path))
        with schema.app_context():
            db.create_all()
            db.engine.dispose()
        return mail_settings(make_config(url, tmp_path), sink, redis_server)

    def test_postgres_down_mid_mailing(self, app, db, sink, celery, own_postgres,
                                       make_supporters, approved_mailing):  # fmt: skip
        make_supporters(800)
        sink.delay = 0.002
        celery.beat()
        celery.worker()
        mailing_id = start_mailing(db, approved_mailing)
        wait_for(db, lambda: len(sink.messages) >= 300, 60, celery, "300 messages never arrived")
        db.session.close()
        db.engine.dispose()
        own_postgres.down()
        stopped_at = len(sink.messages)
        # The health check tells the monitor (an error page, as for any page that
        # needs the database, rather than a test's exception).
        app.config["PROPAGATE_EXCEPTIONS"] = False
        assert app.test_client().get("/healthz").status_code == 500
        time.sleep(3)
        # Whatever was on the wire went out; nothing new starts without a database.
        assert len(sink.messages) <= stopped_at + WINDOW
        own_postgres.up()
        wait_for(db, finished(db, mailing_id), 120, celery, "the mailing did not finish")
        assert sorted(set(sink.recipients())) == everyone(800)
        doubled = duplicates(sink)
        print(f"PostgreSQL down 3 s after {stopped_at} messages: {doubled} duplicates")
        # On the wire (2 connections) plus answered and unrecorded (the window).
        assert doubled <= 2 + WINDOW
        assert services.counts(mailing_id)["sent"] == 800
        assert db.session.get(Mailing, mailing_id).pause_reason == ""


@pytest.mark.slow
def test_sqlite_locked_mid_mailing(db, sink, celery, make_supporters, approved_mailing,
                                   db_backend, app):  # fmt: skip
    if db_backend != "sqlite":
        pytest.skip("a database locked by another writer is the SQLite case")
    make_supporters(800)
    sink.delay = 0.002
    celery.beat()
    celery.worker()
    mailing_id = start_mailing(db, approved_mailing)
    wait_for(db, lambda: len(sink.messages) >= 300, 60, celery, "300 messages never arrived")
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock for 5 s
    locked_at = len(sink.messages)
    time.sleep(5)
    # The workers wait for the lock (busy_timeout): at most one window goes out unrecorded.
    assert len(sink.messages) <= locked_at + 2 * WINDOW
    other.execute("ROLLBACK")
    other.close()
    wait_for(db, finished(db, mailing_id), 120, celery, "the mailing did not finish")
    assert sorted(sink.recipients()) == everyone(800)
    assert duplicates(sink) == 0
    assert services.counts(mailing_id)["sent"] == 800
