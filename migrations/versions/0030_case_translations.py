"""case texts in further languages (the case row keeps the main language's)

Revision ID: 0030_case_translations
Revises: 0021_mailing_auto_resume
Create Date: 2026-12-07 01:40:00

The existing title, summary, recommended actions and background stay on the
case as its main language's text: ``cases.text_language`` names it, English
for every existing case (the office wrote them in English), so no text moves.
"""

import sqlalchemy as sa
from alembic import op

import campaign.core.types

revision = "0030_case_translations"
down_revision = "0021_mailing_auto_resume"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("text_language", sa.String(length=8), nullable=False, server_default="en")
        )
    op.create_table(
        "case_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recommended_actions", sa.Text(), nullable=False),
        sa.Column("background", sa.Text(), nullable=False),
        sa.Column("closing_text", sa.Text(), nullable=False),
        sa.Column("updated_at", campaign.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_texts_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_texts")),
        sa.UniqueConstraint("case_id", "language", name=op.f("uq_case_texts_case_id_language")),
    )
    with op.batch_alter_table("case_texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_texts_case_id"), ["case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("case_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_texts_case_id"))
    op.drop_table("case_texts")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("text_language")
