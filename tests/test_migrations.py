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
