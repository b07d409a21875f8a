"""Fixtures: the app on SQLite and on PostgreSQL, real Redis, logged-in clients.

Every test that takes ``app`` (or anything built on it) runs twice, once per
database; ``--db=sqlite`` or ``--db=postgresql`` runs just one.
"""

from __future__ import annotations

import contextvars
import os
import re

import hypothesis
import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.services import Postgres, Redis, in_ci, unavailable

# Property-based tests explore new random examples on developers' machines and
# replay a fixed set in CI, so that a CI run's verdict does not depend on luck.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if in_ci():
    hypothesis.settings.load_profile("ci")

PASSWORD = "correct horse battery staple"


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which database(s) the app fixture runs on",
    )


def pytest_generate_tests(metafunc):
    if "db_backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgresql"] if choice == "both" else [choice]
        if metafunc.definition.get_closest_marker("e2e") and choice == "both":
            # A browser journey exercises the pages, not the database: once is enough.
            backends = ["sqlite"]
        metafunc.parametrize("db_backend", backends, scope="session")


@pytest.fixture(scope="session")
def postgres():
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    try:
        server = Postgres().start()
    except Exception as error:  # noqa: BLE001 - reported as skip or CI failure
        unavailable(f"PostgreSQL could not start: {error}")
    try:
        yield server.create_database("campaign_test")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """The cluster itself, for tests that need databases of their own."""
    try:
        server = Postgres().start()
    except Exception as error:  # noqa: BLE001
        unavailable(f"PostgreSQL could not start: {error}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    try:
        server = Redis().start()
    except Exception as error:  # noqa: BLE001
        unavailable(f"Redis could not start: {error}")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def database_url(db_backend, request, tmp_path_factory):
    """One schema per backend per session; tests empty the tables after them."""
    if db_backend == "postgresql":
        return request.getfixturevalue("postgres")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def make_config(database_url: str, instance, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "MAILBOX_PATH": str(instance / "mailbox"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": False,
        # Two factors are tested in tests/auth/test_twofactor.py and the browser
        # journeys; elsewhere a password login is enough.
        "TOTP_REQUIRED_ROLES": (),
        "SERVER_NAME": "localhost",
        **extra,
    }


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    from campaign import create_app
    from campaign.extensions import db

    app = create_app(make_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return database_url


@pytest.fixture
def app_config(_schema, tmp_path):
    """Overrides for the app under test; tests may add to it before ``app``."""
    return make_config(_schema, tmp_path)


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The test holds an app context for calling services; without this, requests
    would share its ``g`` and its database session and hide bugs. The test's
    own transaction is committed first, so the request sees its rows.
    """

    def open(self, *args, **kwargs):
        from campaign.extensions import db

        db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(app_config):
    from campaign import create_app
    from campaign.extensions import db

    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables(db)
        db.engine.dispose()


def _empty_tables(db) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db(app):
    from campaign.extensions import db

    return db


@pytest.fixture
def make_user(app):
    from campaign.auth.services import create_user
    from campaign.extensions import db

    def make(role: str = "admin", email: str | None = None):
        user = create_user(None, email or f"{role}@example.org", role, PASSWORD)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(app, make_user):
    """``login(role)`` → a test client logged in as a new user of that role."""

    def as_role(role: str = "admin", email: str | None = None):
        user = make_user(role, email)
        client = app.test_client()
        response = client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": csrf(client, "/login")},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        client.user = user
        return client

    return as_role


@pytest.fixture
def client(app):
    return app.test_client()


def csrf(client, path: str) -> str:
    """The CSRF token of the form on ``path`` ('' when CSRF is off)."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    return match.group(1) if match else ""


@pytest.fixture
def api_client(app, make_user):
    """``api_client(role)`` → (client, headers) with a bearer token of that role."""
    from campaign.auth.services import create_token
    from campaign.extensions import db

    def make(role: str = "admin"):
        user = make_user(role, f"api-{role}@example.org")
        _token, plain = create_token(None, user, "tests")
        db.session.commit()
        return app.test_client(), {"Authorization": f"Bearer {plain}"}

    return make
