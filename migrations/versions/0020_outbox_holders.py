"""outbox holders: a beating row per running batch, and the holder of each claimed delivery

The sweeper re-queues the deliveries of a batch that stopped beating (a killed
worker) at once instead of at the end of their lease (issue #16, item 11).

Revision ID: 0020_outbox_holders
Revises: 0003_capabilities
"""

import sqlalchemy as sa
from alembic import op

import campaign.core.types

revision = "0020_outbox_holders"
down_revision = "0003_capabilities"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_holders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("mailing_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=100), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", campaign.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", campaign.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailing_id"],
            ["mailings.id"],
            name=op.f("fk_outbox_holders_mailing_id_mailings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_holders")),
    )
    with op.batch_alter_table("outbox_holders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_holders_mailing_id"), ["mailing_id"], unique=False
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("holder")
    with op.batch_alter_table("outbox_holders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_holders_mailing_id"))
    op.drop_table("outbox_holders")
