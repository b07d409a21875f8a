"""The Alembic revisions build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from campaign import create_app
from campaign.extensions import db
from tests.conftest import make_config


@pytest.fixture
def empty_database(db_backend, request, tmp_path):
    if db_backend == "postgresql":
        return request.getfixturevalue("postgres_server").create_database("migrations_test")
    return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"


def differences(app) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def tables(app) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_matches_models_then_downgrade_and_upgrade_again(empty_database, tmp_path):
    app = create_app(make_config(empty_database, tmp_path))
    with app.app_context():
        upgrade()
        assert tables(app) == set(db.metadata.tables)
        assert differences(app) == []
        downgrade(revision="base")
        assert tables(app) == set()
        upgrade()
        assert differences(app) == []
        db.engine.dispose()


@pytest.mark.slow  # migrations: real commits
def test_originals_kept_whole_move_into_chunks_and_back(empty_database, tmp_path):
    """0080: case-sheet originals and reply attachments, kept whole in a column,
    become stored files of 1 MB chunks; the downgrade puts them back."""
    import sqlalchemy as sa

    from campaign.cases.models import Case
    from campaign.core import storage
    from campaign.core.types import utcnow

    original = bytes(range(256)) * (5 * 4096 + 7)  # 5 MB and a bit: six chunks
    app = create_app(make_config(empty_database, tmp_path))
    with app.app_context():
        upgrade(revision="0071_document_issue_date")
        conn = db.session.connection()
        values = {"title": "T"}
        for column in Case.__table__.columns:
            if column.name not in values and column.default is not None and column.name != "id":
                default = column.default.arg
                values[column.name] = default(None) if callable(default) else default
        case_id = conn.execute(
            Case.__table__.insert().values(values).returning(Case.__table__.c.id)
        ).scalar_one()
        now = utcnow()
        documents = sa.table("case_documents", *[sa.column(c) for c in (
            "filename", "content_type", "format", "size", "sha256", "data", "text",
            "read_warnings", "uploaded_at")])  # fmt: skip
        conn.execute(documents.insert().values(
            filename="ua.pdf", content_type="application/pdf", format="pdf",
            size=len(original), sha256="x", data=original, text="", read_warnings="[]",
            uploaded_at=now if conn.dialect.name == "postgresql" else now.isoformat(" "),
        ))  # fmt: skip
        replies = sa.table("official_replies", *[sa.column(c) for c in (
            "case_id", "received_on", "sender", "text", "filename", "content_type", "size",
            "data", "logged_at")])  # fmt: skip
        conn.execute(replies.insert(), [
            {"case_id": case_id, "received_on": now.date(), "sender": "Office", "text": "",
             "filename": "r.pdf", "content_type": "application/pdf", "size": 3, "data": b"abc",
             "logged_at": now if conn.dialect.name == "postgresql" else now.isoformat(" ")},
            {"case_id": case_id, "received_on": now.date(), "sender": "Office", "text": "Text",
             "filename": "", "content_type": "", "size": 0, "data": None,
             "logged_at": now if conn.dialect.name == "postgresql" else now.isoformat(" ")},
        ])  # fmt: skip
        db.session.commit()

        upgrade()
        doc_file = db.session.scalar(sa.text("SELECT file_id FROM case_documents"))
        reply_files = db.session.scalars(
            sa.text("SELECT file_id FROM official_replies ORDER BY id")
        ).all()
        assert b"".join(storage.open_chunks(doc_file)) == original
        assert len(list(storage.open_chunks(doc_file))) == 6
        assert b"".join(storage.open_chunks(reply_files[0])) == b"abc"
        assert reply_files[1] is None
        db.session.commit()

        downgrade(revision="0071_document_issue_date")
        assert db.session.scalar(sa.text("SELECT data FROM case_documents")) == original
        assert db.session.scalars(
            sa.text("SELECT data FROM official_replies ORDER BY id")
        ).all() == [b"abc", None]
        assert db.session.scalar(sa.text("SELECT count(*) FROM stored_files")) == 0
        db.session.commit()
        db.engine.dispose()


def test_the_claim_index_migration_runs_again_after_an_interrupted_build(
    db_backend, empty_database, tmp_path
):
    """0090 builds its index CONCURRENTLY, outside a transaction: a build cut short
    leaves an (INVALID) index of that name, and the old index may be gone already.
    Running the migration again must finish it, not fail on what is there."""
    if db_backend != "postgresql":
        pytest.skip("CREATE INDEX CONCURRENTLY is PostgreSQL's")
    import sqlalchemy as sa

    app = create_app(make_config(empty_database, tmp_path))
    with app.app_context():
        upgrade(revision="0080_originals_in_stored_files")
        with db.engine.begin() as conn:  # what the cut-short run left
            conn.execute(
                sa.text("CREATE INDEX ix_deliveries_mailing_id_state_id ON deliveries (id)")
            )
            conn.execute(sa.text("DROP INDEX ix_deliveries_mailing_id_state_due_at"))
        upgrade()
        indexes = {
            i["name"]: i["column_names"] for i in inspect(db.engine).get_indexes("deliveries")
        }
        assert indexes["ix_deliveries_mailing_id_state_id"] == ["mailing_id", "state", "id"]
        assert "ix_deliveries_mailing_id_state_due_at" not in indexes
        assert differences(app) == []
        db.engine.dispose()
