"""an update keeps its own index reference

Revision ID: 0070_update_index_reference
Revises: 0060_lifecycle_notes
Create Date: 2026-12-07 01:35:00

A "Further information" sheet has an index reference of its own (EUR 50/7271/2017
for the third update of UA 205/16); the case-sheet import proposed it but had
nowhere to keep it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0070_update_index_reference"
down_revision = "0060_lifecycle_notes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("index_reference", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("case_updates", schema=None) as batch_op:
        batch_op.drop_column("index_reference")
