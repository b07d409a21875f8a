"""Stored files: uploads and reports in the database, chunked; import jobs
refer to their upload and rejection report there, not to the web machine's
instance folder

Revision ID: 0051_stored_files
Revises: 0050_supporter_email_key
"""

import sqlalchemy as sa
from alembic import op

import campaign.core.types

revision = "0051_stored_files"
down_revision = "0050_supporter_email_key"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", campaign.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
    )
    op.create_table(
        "stored_file_chunks",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_files.id"],
            name=op.f("fk_stored_file_chunks_file_id_stored_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "seq", name=op.f("pk_stored_file_chunks")),
    )
    # Nothing refers to import_jobs, so recreating it (SQLite) cascades nowhere.
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.add_column(sa.Column("file_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_foreign_key(
            batch_op.f("fk_import_jobs_file_id_stored_files"),
            "stored_files",
            ["file_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_import_jobs_report_id_stored_files"),
            "stored_files",
            ["report_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.alter_column("headers", existing_type=sa.JSON(), server_default=None)


def downgrade():
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.drop_constraint("fk_import_jobs_report_id_stored_files", type_="foreignkey")
        batch_op.drop_constraint("fk_import_jobs_file_id_stored_files", type_="foreignkey")
        batch_op.drop_column("headers")
        batch_op.drop_column("report_id")
        batch_op.drop_column("file_id")
    op.drop_table("stored_file_chunks")
    op.drop_table("stored_files")
