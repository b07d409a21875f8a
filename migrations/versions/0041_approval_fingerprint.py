"""mailings: what the approval covered, so that a later change voids it

Revision ID: 0041_approval_fingerprint
(not "0041_mailing_approval_fingerprint": alembic_version holds 32 characters)
Revises: 0040_staff_sessions
Create Date: 2026-12-07 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0041_approval_fingerprint'
down_revision = '0040_staff_sessions'
branch_labels = None
depends_on = None


def upgrade():
    # Approvals given before this revision have no fingerprint: they no longer hold
    # (services.approval_changes), so a coordinator approves them once more.
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_fingerprint', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_column('approval_fingerprint')
