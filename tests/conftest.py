"""Shared fixtures: the application on SQLite and on PostgreSQL, clients and logins.

Every test that asks for `app` runs twice: once on SQLite and once on PostgreSQL. PostgreSQL
runs when PALLAPP_TEST_POSTGRES_URL names a server we may create databases on; each test
session creates a fresh database there and drops it at the end. Without the variable the
PostgreSQL half is skipped with a visible reason.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from werkzeug.routing import Rule

from pallapp import create_app
from pallapp.extensions import db

POSTGRES_URL = os.environ.get("PALLAPP_TEST_POSTGRES_URL", "")
POSTGRES_SKIP_REASON = (
    "PostgreSQL run skipped: set PALLAPP_TEST_POSTGRES_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run every database test on "
    "PostgreSQL too"
)
DATABASES = ["sqlite", "postgresql"]


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"databases: sqlite and postgresql ({make_url(POSTGRES_URL).render_as_string()})"
    return f"databases: sqlite only. NOTICE: {POSTGRES_SKIP_REASON}"


class TemporaryPostgres:
    """A fresh PostgreSQL database, created on the configured server and dropped afterwards."""

    def __init__(self, base_url: str, label: str) -> None:
        self.base = make_url(base_url)
        self.name = f"pallapp_{label}_{uuid.uuid4().hex[:10]}"
        self.url = self.base.set(database=self.name).render_as_string(hide_password=False)

    def _admin(self):  # type: ignore[no-untyped-def]
        return create_engine(self.base, isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        engine = self._admin()
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            # A test database need not survive a crash of the server: without waiting for the
            # write-ahead log to reach the disk at every commit, a commit takes a fraction of a
            # millisecond instead of a disk flush. Visibility and locking are unchanged.
            connection.execute(text(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off'))
        engine.dispose()
        return self.url

    def drop(self) -> None:
        engine = self._admin()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        engine.dispose()


@event.listens_for(Engine, "connect")
def _sqlite_without_disk_flushes(dbapi_connection: object, _record: object) -> None:
    """SQLite test databases commit without flushing to disk (PRAGMA synchronous = OFF).

    With SQLite's default, every commit waits for the disk: about 20 ms on this kind of
    machine, and a test commits several times (its rows, each request, the tables emptied
    after it). A test database need not survive a power cut; what a transaction sees and
    locks is the same either way.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def _shared_url_builders() -> None:
    """Let every app of this test process reuse Werkzeug's compiled URL builders.

    Each test builds a new app, and Werkzeug compiles two small Python functions for each of
    the app's URL rules while registering them: about 180 ms per app, most of the cost of
    `create_app`. A builder depends only on the rule's text, its parsed parts, its defaults
    and its converters, and receives the rule itself as its first argument, so the builder
    compiled for one app serves the same rule in the next. Test code only: the app itself
    builds its rules once per process. Without the private method (another Werkzeug), tests
    run as before, only slower.
    """
    original = getattr(Rule, "_compile_builder", None)
    if original is None:
        return
    compiled: dict[tuple[object, ...], object] = {}

    def compile_builder(self: Rule, append_unknown: bool = True):  # type: ignore[no-untyped-def]
        key = (
            self.rule,
            self.subdomain,
            self.host,
            tuple(self._trace),
            tuple(
                sorted((str(name), repr(value)) for name, value in (self.defaults or {}).items())
            ),
            tuple(sorted((name, type(c).__qualname__) for name, c in self._converters.items())),
            append_unknown,
        )
        builder = compiled.get(key)
        if builder is None:
            builder = compiled[key] = original(self, append_unknown)
        return builder

    Rule._compile_builder = compile_builder  # type: ignore[method-assign]


_shared_url_builders()


def temporary_database_url(kind: str, tmp_path: Path, label: str) -> Iterator[str]:
    """Yield the URL of a new, empty database of `kind`; remove it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{label}.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    database = TemporaryPostgres(POSTGRES_URL, label)
    url = database.create()
    try:
        yield url
    finally:
        database.drop()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One database per kind for the whole session, with the schema created once."""
    tmp = tmp_path_factory.mktemp(request.param)
    for url in temporary_database_url(request.param, tmp, "tests"):
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        yield url


# Every sequence back to its start, as a fresh database has them (tests may expect id 1).
_RESTART_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
    "FROM pg_sequences WHERE last_value IS NOT NULL"
)


def _empty_all_tables(app: Flask) -> None:
    """Delete every row, children first, and restart PostgreSQL's sequences.

    DELETE rather than TRUNCATE: the tables hold a few rows at most, and TRUNCATE gives each
    table and index a new file at every call, about a second for the twenty tables on a busy
    server, after every one of some thousand PostgreSQL tests; DELETE takes a few milliseconds.
    """
    with app.app_context():
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            if connection.dialect.name == "postgresql":
                connection.execute(_RESTART_SEQUENCES)
        db.engine.dispose()


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory for every app of this test process.

    Each test gets a new app, and with it a new Jinja environment that would parse and compile
    again every template the test renders: about a seventh of the time of a page test. Jinja
    keys the cache by template name and checks the source's checksum before using an entry,
    so a template is still read and rendered by every test; only its compilation is shared.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = _CompiledTemplates()


def make_app(database_url: str, **overrides: object) -> Flask:
    config: dict[str, object] = {
        "ENV_NAME": "testing",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
    }
    config.update(overrides)
    application = create_app(config)
    application.jinja_env.bytecode_cache = _compiled_templates
    return application


@pytest.fixture
def app_config() -> dict[str, object]:
    """Override in a test module to change the configuration of `app`."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, object]) -> Iterator[Flask]:
    application = make_app(database_url, **app_config)
    yield application
    _empty_all_tables(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Auth:
    """Log a test client in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str | None = None):  # type: ignore[no-untyped-def]
        from tests.factories import PASSWORD

        return self.client.post("/login", data={"email": email, "password": password or PASSWORD})

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture(scope="session")
def identity_providers(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The two test OpenID Connect providers (tests/identity.py); skips when not installed."""
    from tests.identity import running_providers

    yield from running_providers(tmp_path_factory.mktemp("oidc"))
