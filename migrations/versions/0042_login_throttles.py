"""login throttles: backoff per account, address and device instead of a lockout

Revision ID: 0042_login_throttles
Revises: 0041_approval_fingerprint
Create Date: 2026-12-07 01:50:00

"""
from alembic import op
import sqlalchemy as sa

import campaign.core.types


# revision identifiers, used by Alembic.
revision = '0042_login_throttles'
down_revision = '0041_approval_fingerprint'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', campaign.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retry_at', campaign.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_ips', sa.String(length=500), nullable=False),
    sa.Column('alert_due', sa.Boolean(), nullable=False),
    sa.Column('alerted_at', campaign.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )
    # The lockout is gone (campaign/auth/throttle.py says why).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', campaign.core.types.UTCDateTime(timezone=True), nullable=True))
    op.drop_table('login_throttles')
