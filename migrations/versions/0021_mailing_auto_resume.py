"""mailings: when a self-paused mailing probes its relay next, and how many probes failed

A pause for temporary failures resumes by itself once the relay answers again
(issue #16, item 12); NULL ``resume_at`` means the pause waits for staff.

Revision ID: 0021_mailing_auto_resume
Revises: 0020_outbox_holders
"""

import sqlalchemy as sa
from alembic import op

import campaign.core.types

revision = "0021_mailing_auto_resume"
down_revision = "0020_outbox_holders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mailings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resume_at", campaign.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("resume_probes", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("mailings", schema=None) as batch_op:
        batch_op.drop_column("resume_probes")
        batch_op.drop_column("resume_at")
