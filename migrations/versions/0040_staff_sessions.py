"""staff sessions: server-side records, so that logout and "sign out everywhere" end them

Revision ID: 0040_staff_sessions
Revises: 0032_notice_placeholders
Create Date: 2026-12-07 01:40:00

"""
from alembic import op
import sqlalchemy as sa

import campaign.core.types


# revision identifiers, used by Alembic.
revision = '0040_staff_sessions'
down_revision = "0032_notice_placeholders"
branch_labels = None
depends_on = None


def upgrade():
    # Sessions from before this revision carry "<user id>:<epoch>", which no row
    # matches: everyone logs in once more, which is the point.
    op.create_table('staff_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', campaign.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', campaign.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', campaign.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_sessions_token_hash'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_user_id'))
    op.drop_table('staff_sessions')
