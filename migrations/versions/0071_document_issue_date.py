"""a case-sheet document keeps the date it says it was issued

Revision ID: 0071_document_issue_date
Revises: 0070_update_index_reference
Create Date: 2026-12-07 01:36:00

The import checks deadlines and dates statuses against the sheet's own issue date,
not the day it was uploaded; the reviewed date is kept with the document.
"""

import sqlalchemy as sa
from alembic import op

revision = "0071_document_issue_date"
down_revision = "0070_update_index_reference"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("case_documents", schema=None) as batch_op:
        batch_op.drop_column("issued_on")
