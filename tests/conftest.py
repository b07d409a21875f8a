"""Fixtures: the app on SQLite and on PostgreSQL, real Redis, logged-in clients.

Every test that takes ``app`` (or anything built on it) runs twice, once per
database; ``--db=sqlite`` or ``--db=postgresql`` runs just one. A module or test
marked ``any_db`` does not depend on the SQL dialect and runs on SQLite only; one
marked ``prefer_postgresql`` (a costly fuzzer, or a test of PostgreSQL alone) runs
on PostgreSQL only, the stricter dialect (integer ranges, NUL, types), unless
``--db=sqlite``.

The loop is kept fast in two ways:

- one app per database and configuration for the whole session (building one
  takes ~160 ms: routes, the OpenAPI spec); a test's own ``app_config`` that
  changes more than the per-test settings in ``PER_TEST`` gets an app of its own,
  built once and reused by every test with the same settings;
- each test runs inside a transaction on one connection that is rolled back at
  its end. The test's session and every request's session (each request has its
  own app context, see ``IsolatedClient``) join that transaction through
  savepoints, so a request's commit or rollback (core/db.py's
  ``commit_or_rollback``) releases or rolls back its savepoint, and on_commit
  hooks still run at that commit. Tests marked ``commits`` (and ``slow``, ``e2e``
  and everything under tests/faults) commit for real and the tables are emptied
  after them: there a worker process, thread or browser must see the data. A
  test in a transaction that opens a second connection fails and says so.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import ipaddress
import itertools
import os
import re
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text

from tests.services import Postgres, Redis, in_ci, session_ports, unavailable

# Property-based tests explore new random examples on developers' machines and
# replay a fixed set in CI, so that a CI run's verdict does not depend on luck.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if in_ci():
    hypothesis.settings.load_profile("ci")

PASSWORD = "correct horse battery staple"
TESTS = Path(__file__).resolve().parent
# Settings that differ from test to test (temporary folders, servers on free
# ports) and that the app only reads at the point of use: they are set on the
# shared app for one test instead of building an app for each value.
PER_TEST = ("INSTANCE_PATH", "MAILBOX_PATH", "SMTP_URL", "BASE_URL", "LIVE_PORT", "CATCHER_PORT")


# -- no test reaches a port it did not open -------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_bind = socket.socket.bind
_refused: list[str] = []


def _foreign(sock, address) -> str | None:
    """``host:port`` when ``address`` is not one of this session's own ports."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None  # unix sockets: PostgreSQL's, within its own temporary folder
    host, port = address[0], address[1]
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False  # a name other than localhost: somewhere else
    if loopback and port in session_ports():
        return None
    return f"{host}:{port}"


def _refuse(target: str):
    _refused.append(target)
    raise ConnectionRefusedError(
        f"tests may only connect to ports the test session opened, not {target}"
    )


def _guarded_connect(self, address):
    if target := _foreign(self, address):
        _refuse(target)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if target := _foreign(self, address):
        _refuse(target)
    return _real_connect_ex(self, address)


def _recording_bind(self, address):
    _real_bind(self, address)
    if self.family in (socket.AF_INET, socket.AF_INET6):
        session_ports().add(self.getsockname()[1])  # a server of this process's own


def pytest_configure(config):
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.socket.bind = _recording_bind


def pytest_unconfigure(config):
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex
    socket.socket.bind = _real_bind


@pytest.fixture(autouse=True)
def _own_ports_only():
    """Fails a test that connected (or tried to) to a port this session did not
    open: a developer's Redis, SMTP catcher or anything else on the machine."""
    _refused.clear()
    yield
    if _refused:
        targets = ", ".join(sorted(set(_refused)))
        _refused.clear()
        pytest.fail(f"the test tried to connect to {targets}, not opened by the tests")


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which database(s) the app fixture runs on",
    )
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="browser tests save screenshots of the pages they visit, at desktop and phone "
        "width, under test-artifacts/screenshots/ (for people to look at; nothing asserts "
        "on them, so a run without them checks the same)",
    )


def pytest_generate_tests(metafunc):
    if "db_backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgresql"] if choice == "both" else [choice]
        definition = metafunc.definition
        if choice == "both" and (
            # A browser journey exercises the pages, not the database: once is enough.
            definition.get_closest_marker("e2e") or definition.get_closest_marker("any_db")
        ):
            backends = ["sqlite"]
        elif choice == "both" and definition.get_closest_marker("prefer_postgresql"):
            backends = ["postgresql"]
        metafunc.parametrize("db_backend", backends, scope="session")


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by database
def pytest_collection_modifyitems(config, items):
    for item in items:
        real_commits = (
            _waits(item)
            or item.get_closest_marker("e2e")
            # The app served on a thread of its own (tests/e2e's live server).
            or "live_server" in getattr(item, "fixturenames", ())
        )
        if real_commits and not item.get_closest_marker("commits"):
            item.add_marker(pytest.mark.commits)
    items[:] = _waiting_spread_out(items)


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session):
    """Collection builds objects that live to the end (the test modules, hypothesis'
    strategies, thousands of schemathesis examples): no cyclic garbage collection
    while it runs (refcounting still frees what it drops), then one, and what is
    left is frozen out of the collector's reach (gc.freeze), so that it is no
    longer walked at every full collection. Those walks had made the schema
    fuzzer's calls ~65% slower (tests/security/test_api_schema.py: 14.4 s -> 8.7 s)."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


# Test modules whose tests are generated untraced: the schema fuzzer generates
# its explicit examples at collection (~2.5 s of CPU in every test process, ~4 s
# traced); its tests run untraced too (``no_cover``). The module itself is
# imported traced: its import builds the first app of the process, which imports
# most of campaign (untraced, their module-level lines went unrecorded).
UNTRACED_COLLECTION = {TESTS / "security" / "test_api_schema.py"}


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    tracer = sys.gettrace()
    untraced = (
        tracer is not None
        and not isinstance(collector, pytest.Module)
        and getattr(collector, "path", None) in UNTRACED_COLLECTION
    )
    if untraced:
        sys.settrace(None)
    try:
        yield
    finally:
        if untraced:
            sys.settrace(tracer)


def _waits(item) -> bool:
    """A test that mostly waits: on worker processes (``slow``), or on a fault to pass."""
    return bool(item.get_closest_marker("slow")) or TESTS / "faults" in Path(str(item.path)).parents


def _waiting_spread_out(items: list) -> list:
    """The tests in the same groups, with those that mostly wait spread evenly
    through each group instead of coming one after another.

    pytest-xdist gives each test process a contiguous share of this list. In file
    order the waiting tests (tests/faults, tests/mailings' workers, outcomes)
    came together, so for a third of the run every process waited at once
    while the two cores idled, and the fuzzers, all CPU, came together elsewhere.
    A group is a run of tests on the same database: pytest sets up a session's
    app once per run, so runs are kept whole and in their order.
    """

    def database(item):
        callspec = getattr(item, "callspec", None)
        return callspec.params.get("db_backend") if callspec else None

    spread: list = []
    for _database, run in itertools.groupby(items, key=database):
        group = list(run)
        waiting = [item for item in group if _waits(item)]
        others = [item for item in group if not _waits(item)]
        # Each test at its fraction of the way through its own kind; the merge by
        # that fraction keeps both kinds in their order (files stay together).
        place = {id(item): (n + 0.5) / len(waiting) for n, item in enumerate(waiting)}
        place.update({id(item): n / len(others) for n, item in enumerate(others)})
        spread.extend(sorted(group, key=lambda item: place[id(item)]))
    return spread


@pytest.fixture(scope="session")
def postgres(request):
    if url := os.environ.get("TEST_DATABASE_URL"):
        if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
            pytest.fail("TEST_DATABASE_URL is one database for one test process: TEST_WORKERS=1")
        yield url
        return
    yield request.getfixturevalue("postgres_server").create_database("campaign_test")


@pytest.fixture(scope="session")
def postgres_server():
    """The session's cluster (one per test process): the ``postgres`` fixture's
    database and those of tests that need databases of their own."""
    try:
        server = Postgres().start()
    except Exception as error:  # noqa: BLE001 - reported as skip or CI failure
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
    """One schema per backend per session."""
    if db_backend == "postgresql":
        return request.getfixturevalue("postgres")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def closed_port():
    """A loopback port of this session's where nothing listens: bound, never
    listening, so a connection is refused and no other program can take it.
    The default SMTP, Redis and broker addresses point here, so that a test
    that forgets its own server reaches nothing, not a developer's services."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


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
        # Argon2's cheapest parameters: hundreds of logins, each hashing twice.
        # tests/auth/test_login.py checks the production profile.
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "SERVER_NAME": "localhost",
        **extra,
    }


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


# -- one app per configuration, for the whole session ---------------------------------


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = [_frozen(v) for v in value]
        return tuple(sorted(items, key=repr) if isinstance(value, set | frozenset) else items)
    return repr(value)


@dataclass
class Built:
    """A cached app, its settings as built, and the global state of the
    extensions that keep it on themselves rather than on the app."""

    app: object
    config: dict
    extension_state: dict = field(default_factory=dict)
    celery_changes: dict = field(default_factory=dict)


_APPS: dict[tuple, Built] = {}


def _shared_extensions():
    from campaign.extensions import api, limiter

    # Flask-Limiter and flask-smorest keep the last app's settings and storage
    # on the extension object itself: saved per app, put back when it is used.
    return {"limiter": limiter, "api": api}


def _build(config: dict, cached: bool = True):
    from campaign import create_app

    key = _frozen({k: v for k, v in config.items() if k not in PER_TEST})
    built = _APPS.get(key) if cached else None
    if built is None:
        app = create_app(config)
        app.test_client_class = IsolatedClient
        built = Built(
            app,
            dict(app.config),
            {name: dict(ext.__dict__) for name, ext in _shared_extensions().items()},
            dict(app.extensions["celery"].conf.changes),
        )
        if cached:
            _APPS[key] = built
    return built


def _reset_celery(celery, changes: dict) -> None:
    """Celery's settings as built (tests point it at their Redis, make it eager),
    and no pooled broker connections kept from other settings."""
    from kombu import pools as kombu_pools

    if dict(celery.conf.changes) != changes:
        celery.conf.changes.clear()
        celery.conf.changes.update(changes)
    # The pools live in kombu's registry, keyed by broker address: dropping the
    # app's references makes it look them up again under the current address.
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    # A test may close a pool (a broker restart); apps share it, so it goes:
    # the next lookup opens a new one, as a new app would have.
    for group in (kombu_pools.connections, kombu_pools.producers):
        for key, pool in list(group.items()):
            connections = getattr(pool, "connections", pool)  # a producer pool's own
            if getattr(connections, "_closed", False):
                dict.pop(group, key)


def _activate(built: Built, config: dict):
    """Make a cached app the one in use: its settings as built plus this test's,
    its extension state, its Celery app and its log format."""
    from flask_limiter import Limiter
    from limits.storage import MemoryStorage

    from campaign.core import logs

    app = built.app
    app.config.clear()
    app.config.update(built.config)
    app.config.update({k: config[k] for k in PER_TEST if k in config})
    app.instance_path = app.config["INSTANCE_PATH"]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    for name, ext in _shared_extensions().items():
        ext.__dict__.update(built.extension_state[name])
    limiter: Limiter = _shared_extensions()["limiter"]
    storage = getattr(limiter, "_storage", None)
    if isinstance(storage, MemoryStorage):
        storage.reset()  # counts of earlier tests (a new app started from zero)
    # The last Celery app built is the default and this thread's current one,
    # which shared tasks resolve to: make it this app's.
    celery = app.extensions["celery"]
    _reset_celery(celery, built.celery_changes)
    celery.set_default()
    celery.set_current()
    if not app.config.get("LOG_KEEP_HANDLERS"):
        logs.configure(app.config.get("LOG_FORMAT", "json"), app.config.get("LOG_LEVEL", "INFO"))
    return app


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory, closed_port):
    from campaign.extensions import db

    config = _test_config(database_url, tmp_path_factory.mktemp("instance"), closed_port)
    app = _activate(_build(config), config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return database_url


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines():
    yield
    from campaign.extensions import db

    for built in _APPS.values():
        with built.app.app_context():
            db.engine.dispose()
    _APPS.clear()


@pytest.fixture
def app_config(_schema, tmp_path, closed_port):
    """Overrides for the app under test; tests may add to it before ``app``."""
    return _test_config(_schema, tmp_path, closed_port)


def _test_config(database_url: str, instance, closed_port: int) -> dict:
    nowhere = f"127.0.0.1:{closed_port}"
    return make_config(
        database_url,
        instance,
        SMTP_URL=f"smtp://{nowhere}",
        REDIS_URL=f"redis://{nowhere}/0",
        CELERY=_celery_settings(f"redis://{nowhere}/0"),
    )


def _celery_settings(broker_url: str) -> dict:
    from campaign.config import from_environment

    return {**from_environment()["CELERY"], "broker_url": broker_url}


# -- each test in a transaction that is rolled back -----------------------------------


class _Bound:
    """The connection of the current test's transaction, and who may use it."""

    engine = None
    connection = None
    thread: int | None = None
    strangers: list[str] = []
    older_threads: set[threading.Thread] = set()


def _install_session_binding() -> None:
    """Sessions created on the test's thread use the test's connection, joined
    through a savepoint (so their commit and rollback stay inside the test)."""
    from flask_sqlalchemy.session import Session

    from campaign.extensions import db

    if getattr(Session, "_bound_for_tests", False):
        return
    original = Session.get_bind

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        found = original(self, mapper=mapper, clause=clause, bind=bind, **kwargs)
        if (
            bind is None
            and _Bound.connection is not None
            and found is _Bound.engine
            and threading.get_ident() == _Bound.thread
        ):
            return _Bound.connection
        return found

    Session.get_bind = get_bind
    Session._bound_for_tests = True
    db.session.session_factory.kw["join_transaction_mode"] = "create_savepoint"


def _stranger(_dbapi_connection, _record, _proxy):
    """A second connection while a test runs in a transaction (another thread,
    the importer's writer, a raw connection) would not see the test's rows and,
    on SQLite, would wait for its write lock: refused at once and reported."""
    if _Bound.connection is not None:
        where = threading.current_thread().name
        if threading.current_thread() not in _Bound.older_threads:
            # Not a thread an earlier test left running: this test's doing.
            _Bound.strangers.append(where)
        raise RuntimeError(
            f"a second database connection was opened (thread {where}) in a test that runs "
            "in a rolled-back transaction: mark the test @pytest.mark.commits"
        )


@contextlib.contextmanager
def _in_transaction(db):
    _install_session_binding()
    engine = db.engine
    if not event.contains(engine.pool, "checkout", _stranger):
        event.listen(engine.pool, "checkout", _stranger)
    connection = engine.connect()
    outer = connection.begin()
    _Bound.engine, _Bound.connection, _Bound.thread = engine, connection, threading.get_ident()
    _Bound.strangers = []
    _Bound.older_threads = set(threading.enumerate()) - {threading.current_thread()}
    try:
        yield
    finally:
        strangers = _Bound.strangers
        db.session.remove()
        _Bound.engine = _Bound.connection = _Bound.thread = None
        if outer.is_active:
            outer.rollback()
        if connection.dialect.name == "postgresql":
            # Sequences ignore rollbacks: back to 1, as after RESTART IDENTITY.
            connection.execute(
                text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")
            )
            connection.commit()
        connection.close()
    if strangers:
        pytest.fail(
            f"the test opened a second database connection (threads: {', '.join(strangers)}) "
            "while running in a rolled-back transaction: mark it @pytest.mark.commits",
            pytrace=False,
        )


@pytest.fixture
def app(app_config, request):
    from campaign.extensions import db

    # A test that changes the app itself (adds a route) gets one of its own.
    own = request.node.get_closest_marker("own_app") is not None
    app = _activate(_build(app_config, cached=not own), app_config)
    with app.app_context():
        try:
            if request.node.get_closest_marker("commits"):
                try:
                    yield app
                finally:
                    db.session.remove()
                    _empty_tables(db)
            else:
                with _in_transaction(db):
                    yield app
        finally:
            if own:
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
def started_threads(monkeypatch) -> list[threading.Thread]:
    """Every thread started from now on, recorded as it starts: a short-lived one
    (a broker-down fallback) may be done before the test looks for it."""
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def recording_start(thread):
        started.append(thread)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    return started


@pytest.fixture
def queued(monkeypatch):
    """The emails to supporters that a request publishes after commit (claim and
    confirmation), as (task name, args), instead of a broker: without it, the test
    app's broker is unreachable and each would go from a fallback thread that
    outlives the test."""
    from campaign.letters import tasks as letter_tasks
    from campaign.supporters import tasks as supporter_tasks

    sent = []
    for task in (letter_tasks.send_action_claim, supporter_tasks.send_confirmation):
        monkeypatch.setattr(
            task, "apply_async", lambda args, _name=task.name, **_: sent.append((_name, args))
        )
    return sent


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
