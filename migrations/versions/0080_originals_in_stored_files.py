"""case-sheet originals and reply attachments are stored files (chunked)

Revision ID: 0080_originals_in_stored_files
Revises: 0071_document_issue_date
Create Date: 2026-12-07 04:35:00

They were kept whole in a column (``case_documents.data``,
``official_replies.data``), read and served whole; now each is a stored file
(``core.storage``: 1 MB chunks), written and read one chunk at a time like the
supporter imports. Each existing file is copied into chunks, one row at a time
(one file in memory at a time, never the table), then the column is dropped.
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0080_originals_in_stored_files"
down_revision = "0071_document_issue_date"
branch_labels = None
depends_on = None

CHUNK = 1 << 20
# (table, the name a stored file gets, its content type column or a constant)
TABLES = (("case_documents", "filename", "content_type"),
          ("official_replies", "filename", None))  # fmt: skip

files = sa.table(
    "stored_files",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("content_type", sa.String),
    sa.column("size", sa.Integer),
    sa.column("sha256", sa.String),
    sa.column("created_at"),  # as read from the row it came from, untouched
)
chunks = sa.table(
    "stored_file_chunks",
    sa.column("file_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("data", sa.LargeBinary),
)


def upgrade():
    for table, _name, _type in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("file_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_file_id_stored_files"),
                "stored_files",
                ["file_id"],
                ["id"],
                ondelete="SET NULL",
            )
    bind = op.get_bind()
    for table, name_column, type_column in TABLES:
        ids = bind.execute(sa.text(f"SELECT id FROM {table} WHERE data IS NOT NULL")).scalars()  # noqa: S608 - constant names
        for row_id in list(ids):
            row = bind.execute(
                sa.text(
                    f"SELECT data, {name_column} AS name, "  # noqa: S608 - constant names
                    f"{type_column or repr('application/octet-stream')} AS type, "
                    f"{'uploaded_at' if table == 'case_documents' else 'logged_at'} AS at "
                    f"FROM {table} WHERE id = :id"
                ),
                {"id": row_id},
            ).one()
            data = bytes(row.data)
            file_id = bind.execute(
                files.insert()
                .values(name=(row.name or "")[:255], content_type=row.type or "",
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                        created_at=row.at)
                .returning(files.c.id)
            ).scalar_one()  # fmt: skip
            for seq, start in enumerate(range(0, len(data), CHUNK)):
                bind.execute(
                    chunks.insert().values(file_id=file_id, seq=seq, data=data[start : start + CHUNK])
                )
            bind.execute(
                sa.text(f"UPDATE {table} SET file_id = :file_id WHERE id = :id"),  # noqa: S608 - constant names
                {"file_id": file_id, "id": row_id},
            )
    for table, _name, _type in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("data")


def downgrade():
    for table, _name, _type in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    for table, _name, _type in TABLES:
        pairs = bind.execute(
            sa.text(f"SELECT id, file_id FROM {table} WHERE file_id IS NOT NULL")  # noqa: S608 - constant names
        ).all()
        for row_id, file_id in pairs:
            parts = bind.execute(
                sa.select(chunks.c.data).where(chunks.c.file_id == file_id).order_by(chunks.c.seq)
            ).scalars()
            bind.execute(
                sa.text(f"UPDATE {table} SET data = :data WHERE id = :id"),  # noqa: S608 - constant names
                {"data": b"".join(bytes(p) for p in parts), "id": row_id},
            )
            bind.execute(chunks.delete().where(chunks.c.file_id == file_id))
            bind.execute(files.delete().where(files.c.id == file_id))
    # A case document always had its original.
    bind.execute(
        sa.text("UPDATE case_documents SET data = :empty WHERE data IS NULL"), {"empty": b""}
    )
    for table, _name, _type in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_file_id_stored_files", type_="foreignkey")
            batch_op.drop_column("file_id")
            if table == "case_documents":
                batch_op.alter_column("data", existing_type=sa.LargeBinary(), nullable=False)
