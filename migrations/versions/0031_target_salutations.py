"""a target's salutation in further languages

Revision ID: 0031_target_salutations
Revises: 0030_case_translations
Create Date: 2026-12-07 01:41:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0031_target_salutations"
down_revision = "0030_case_translations"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("salutations", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade():
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_column("salutations")
