"""the claim reads a mailing's queued deliveries in id order from an index

Revision ID: 0090_deliveries_claim_index
Revises: 0080_originals_in_stored_files
Create Date: 2026-12-07 11:55:00

The claim takes a mailing's queued deliveries oldest first (``ORDER BY id LIMIT
n``). The index on (mailing_id, state, due_at) found them, but not in that order:
every claim read and sorted all the queued rows (20,000 for a claim of 500,
bench/mailing). On (mailing_id, state, id) the claim reads its n rows in order
and stops; ``due_at`` is a filter on them, as it was.

On PostgreSQL the new index is built CONCURRENTLY, outside the migration's
transaction, so that a mailing sending during the upgrade is not held up by a
lock on ``deliveries`` while it builds. A build interrupted there leaves an
INVALID index of that name behind: each step is written so that running the
migration again drops it and carries on.
"""

from alembic import op

revision = "0090_deliveries_claim_index"
down_revision = "0080_originals_in_stored_files"
branch_labels = None
depends_on = None

NEW = ("ix_deliveries_mailing_id_state_id", ["mailing_id", "state", "id"])
OLD = ("ix_deliveries_mailing_id_state_due_at", ["mailing_id", "state", "due_at"])


def _swap(create, drop) -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            # What an interrupted run may have left (an INVALID index) goes first.
            op.drop_index(
                create[0], table_name="deliveries", postgresql_concurrently=True, if_exists=True
            )
            op.create_index(create[0], "deliveries", create[1], postgresql_concurrently=True)
            op.drop_index(
                drop[0], table_name="deliveries", postgresql_concurrently=True, if_exists=True
            )
    else:
        op.create_index(create[0], "deliveries", create[1])
        op.drop_index(drop[0], table_name="deliveries")


def upgrade():
    _swap(NEW, OLD)


def downgrade():
    _swap(OLD, NEW)
