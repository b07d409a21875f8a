"""lifecycle notes: why a UA was issued, updated or closed with items missing, or reopened

Revision ID: 0060_lifecycle_notes
Revises: 0051_stored_files
Create Date: 2026-12-07 01:30:00

"""

import sqlalchemy as sa
from alembic import op

import campaign.core.types

revision = "0060_lifecycle_notes"
down_revision = "0051_stored_files"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lifecycle_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("at", campaign.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "step IN ('issue', 'update', 'close', 'reopen')", name=op.f("ck_lifecycle_notes_step")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_lifecycle_notes_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["users.id"], name=op.f("fk_lifecycle_notes_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_notes")),
    )
    with op.batch_alter_table("lifecycle_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lifecycle_notes_case_id"), ["case_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("lifecycle_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lifecycle_notes_case_id"))
    op.drop_table("lifecycle_notes")
