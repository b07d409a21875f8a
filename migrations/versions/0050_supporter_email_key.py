"""One supporter per mailbox: supporters.email_key (unique), case variants merged

Addresses that differ only in letter case (local part included) or IDNA form
were separate supporters; they become one (DESIGN.md rule 5). The oldest row
of each mailbox survives, keeping its address as first given; the others'
consent log, list memberships, actions, deliveries, bounces and bounce score
move to it, and it takes the strictest state of them all (an unsubscribe or a
suppression of any variant stands). Each merge is written in the survivor's
consent log and printed.

The downgrade drops the key (the merged rows stay merged).

Revision ID: 0050_supporter_email_key
Revises: 0042_login_throttles
"""

from contextlib import suppress

import idna
import sqlalchemy as sa
from alembic import op

from campaign.core.types import UTCDateTime, utcnow

revision = "0050_supporter_email_key"
down_revision = "0042_login_throttles"
branch_labels = None
depends_on = None

# Strictest first: the survivor takes the first state any variant has.
_PRECEDENCE = ("blocked", "complained", "bounced", "unsubscribed", "subscribed", "pending")


def _key(address: str) -> str:
    # models.email_key as of this revision (a migration must not import the app).
    local, at, domain = address.strip().rpartition("@")
    if at and not domain.isascii():
        with suppress(idna.IDNAError):
            domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}{at}{domain}".casefold()


def _sqlite_foreign_keys(conn, on: bool) -> None:
    """Recreating ``supporters`` (SQLite's batch mode) drops the old table,
    which with foreign keys on deletes every row that cascades from it:
    consent logs, list memberships, bounces. SQLite ignores this pragma inside
    a transaction, so the one open is committed first (the version stamp then
    goes in a transaction of its own)."""
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw.in_transaction:
        raw.execute("COMMIT")
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    raw.execute("BEGIN IMMEDIATE")


def _recreated(conn, alter) -> None:
    _sqlite_foreign_keys(conn, on=False)
    with op.batch_alter_table("supporters") as batch_op:
        alter(batch_op)
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    _sqlite_foreign_keys(conn, on=True)


def upgrade():
    conn = op.get_bind()
    with op.batch_alter_table("supporters") as batch_op:
        # A column added: SQLite's ALTER TABLE does it without recreating the table.
        batch_op.add_column(sa.Column("email_key", sa.String(length=320), nullable=True))
    groups: dict[str, list[tuple]] = {}
    for row in conn.execute(sa.text("SELECT id, email, state FROM supporters ORDER BY id")):
        groups.setdefault(_key(row.email), []).append(tuple(row))
    merged = 0
    for key, rows in groups.items():
        survivor = rows[0]
        if len(rows) > 1:
            merged += len(rows) - 1
            _merge(conn, survivor, rows[1:])
        conn.execute(
            sa.text("UPDATE supporters SET email_key = :key WHERE id = :id"),
            {"key": key, "id": survivor[0]},
        )
    if merged:
        print(f"0050_supporter_email_key: {merged} case variant(s) merged")  # noqa: T201

    def alter(batch_op) -> None:
        batch_op.alter_column("email_key", existing_type=sa.String(length=320), nullable=False)
        batch_op.drop_constraint("uq_supporters_email", type_="unique")
        batch_op.create_unique_constraint("uq_supporters_email_key", ["email_key"])

    _recreated(conn, alter)


def _merge(conn, survivor: tuple, others: list[tuple]) -> None:
    keep, address, state = survivor
    states = [state] + [other[2] for other in others]
    strictest = min(states, key=lambda s: _PRECEDENCE.index(s) if s in _PRECEDENCE else 99)
    now = sa.bindparam("now", utcnow(), type_=UTCDateTime())

    def run(sql: str, **params) -> None:
        statement = sa.text(sql)
        if ":now" in sql:
            statement = statement.bindparams(now)
        conn.execute(statement, {"keep": keep, **params})

    for gone, gone_address, gone_state in others:
        run("UPDATE consent_events SET supporter_id = :keep WHERE supporter_id = :gone", gone=gone)
        run("UPDATE bounces SET supporter_id = :keep WHERE supporter_id = :gone", gone=gone)
        # Rows the survivor has already (the same list, mailing, or case and
        # channel) stay the survivor's; the variant's own are kept: list
        # memberships and scores are folded in, deliveries and actions keep
        # their history without a supporter (as for an erased supporter).
        run(
            "INSERT INTO list_members (list_id, supporter_id, added_at) "
            "SELECT list_id, :keep, added_at FROM list_members m WHERE supporter_id = :gone "
            "AND NOT EXISTS (SELECT 1 FROM list_members k WHERE k.supporter_id = :keep "
            "AND k.list_id = m.list_id)",
            gone=gone,
        )
        run("DELETE FROM list_members WHERE supporter_id = :gone", gone=gone)
        run(
            "UPDATE deliveries SET supporter_id = :keep WHERE supporter_id = :gone AND NOT "
            "EXISTS (SELECT 1 FROM deliveries k WHERE k.supporter_id = :keep "
            "AND k.mailing_id = deliveries.mailing_id)",
            gone=gone,
        )
        run("UPDATE deliveries SET supporter_id = NULL WHERE supporter_id = :gone", gone=gone)
        run(
            "UPDATE actions SET supporter_id = :keep WHERE supporter_id = :gone AND NOT "
            "EXISTS (SELECT 1 FROM actions k WHERE k.supporter_id = :keep "
            "AND k.case_id = actions.case_id AND k.channel = actions.channel)",
            gone=gone,
        )
        run("UPDATE actions SET supporter_id = NULL WHERE supporter_id = :gone", gone=gone)
        run(
            "UPDATE bounce_scores SET score = score + coalesce((SELECT score FROM "
            "bounce_scores g WHERE g.supporter_id = :gone), 0) WHERE supporter_id = :keep",
            gone=gone,
        )
        run(
            "UPDATE bounce_scores SET supporter_id = :keep WHERE supporter_id = :gone AND NOT "
            "EXISTS (SELECT 1 FROM bounce_scores k WHERE k.supporter_id = :keep)",
            gone=gone,
        )
        run("DELETE FROM bounce_scores WHERE supporter_id = :gone", gone=gone)
        run("DELETE FROM supporters WHERE id = :gone", gone=gone)
        detail = (
            f"merged supporter #{gone} ({gone_address}, {gone_state}) into this one: "
            "one supporter per mailbox"
        )
        run(
            "INSERT INTO consent_events (supporter_id, at, old_state, new_state, source, "
            "detail) VALUES (:keep, :now, :old, :new, 'merge of case variants', "
            ":detail)",
            old=state,
            new=strictest,
            detail=detail[:500],
        )
        print(f"0050_supporter_email_key: {detail} #{keep} ({address})")  # noqa: T201
        state = strictest
    if strictest != survivor[2]:
        run(
            "UPDATE supporters SET state = :state, state_changed_at = :now, "
            "confirm_nonce = NULL WHERE id = :keep",
            state=strictest,
        )


def downgrade():
    def alter(batch_op) -> None:
        batch_op.drop_constraint("uq_supporters_email_key", type_="unique")
        batch_op.create_unique_constraint("uq_supporters_email", ["email"])
        batch_op.drop_column("email_key")

    _recreated(op.get_bind(), alter)
