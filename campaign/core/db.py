"""Database plumbing: SQLite settings, dialect helpers, the one commit point."""

from __future__ import annotations

from flask import g
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from campaign.extensions import db


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, _record):
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    # Let SQLAlchemy's "begin" event below open transactions, not pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        # IMMEDIATE takes the write lock up front. A deferred transaction that
        # reads and then writes fails at once with SQLITE_BUSY_SNAPSHOT when
        # another writer got in between; waiting for the lock is what we want.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# Paged lists clamp the page they are asked for: a huge one overflows SQLite's integers.
MAX_PAGE = 100_000
# The largest id a row can have (ids are 32-bit INTEGER columns): a bigger one names nothing.
MAX_ID = 2**31 - 1


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def insert_ignore(model, values: dict | list[dict], index_elements: list[str]):
    """An INSERT that silently skips rows whose key already exists."""
    module = postgresql if dialect_name() == "postgresql" else sqlite
    return module.insert(model).values(values).on_conflict_do_nothing(index_elements=index_elements)


def insert_select_ignore(model, columns: list[str], rows: Select, index_elements: list[str]):
    """INSERT ... SELECT that skips rows whose key already exists.

    The unique index decides, row by row, as the rows go in: unlike an anti-join
    (``WHERE NOT EXISTS``) against the table being filled, it needs no estimate
    of that table's size, so a planner without statistics (PostgreSQL right
    after a bulk load) cannot pick a nested loop that rescans it for every row.
    ``rows`` must carry a WHERE clause (SQLite's grammar reads ``ON`` after a
    bare SELECT as a join).
    """
    module = postgresql if dialect_name() == "postgresql" else sqlite
    statement = module.insert(model).from_select(columns, rows)
    return statement.on_conflict_do_nothing(index_elements=index_elements)


def commit_or_rollback(response):
    """The request's single commit point (registered as an after_request hook).

    Services only flush; a successful response commits what they did, a
    refusal or error rolls everything back, so no request half-writes. A view
    that refuses but must still record something (a failed login counts
    towards the lockout) sets ``g.keep_changes``.
    """
    if response.status_code < 400 or g.get("keep_changes"):
        db.session.commit()
    else:
        db.session.rollback()
    return response


def on_commit(callback) -> None:
    """Run ``callback()`` after the current transaction commits, never before.

    Use it to enqueue Celery tasks: a task that starts before the commit would
    not see the rows it is about; after a rollback it is dropped.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # attach the callback to a transaction that can end
    session.info.setdefault("on_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session):
    for callback in session.info.pop("on_commit", []):
        callback()


@event.listens_for(Session, "after_transaction_end")
def _drop_on_rollback(session, transaction):
    # Runs after after_commit too, when the list is already gone.
    if transaction.parent is None:
        session.info.pop("on_commit", None)
