"""The application factory and layered configuration."""

from __future__ import annotations

import pytest

from pallapp import create_app
from pallapp.config import ConfigurationError


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("PALLAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("PALLAPP_ENV_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="PALLAPP_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_with_secret_key_has_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.delenv("PALLAPP_ENV_NAME", raising=False)
    monkeypatch.setenv("PALLAPP_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("PALLAPP_BASE_URL", "https://pallapp.example.se")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SECRET_KEY"] == "k" * 64
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.testing is False


def test_environment_overrides_defaults_and_test_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("PALLAPP_ENV_NAME", "development")
    monkeypatch.setenv("PALLAPP_DATABASE_URL", f"sqlite:///{tmp_path}/from-env.db")
    monkeypatch.setenv("PALLAPP_STAFF_IDLE_MINUTES", "15")
    app = create_app({"STAFF_IDLE_MINUTES": 5})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("from-env.db")
    assert app.config["STAFF_IDLE_MINUTES"] == 5
    app = create_app()
    assert app.config["STAFF_IDLE_MINUTES"] == 15  # parsed from the environment as a number


def test_development_keeps_a_generated_secret_and_plain_http_cookies(monkeypatch, tmp_path):
    monkeypatch.delenv("PALLAPP_SECRET_KEY", raising=False)
    monkeypatch.setenv("PALLAPP_ENV_NAME", "development")
    monkeypatch.setenv("PALLAPP_DATABASE_URL", f"sqlite:///{tmp_path}/dev.db")
    first = create_app()
    second = create_app()
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SESSION_COOKIE_SECURE"] is False


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.setenv("PALLAPP_ENV_NAME", "testing")
    monkeypatch.delenv("PALLAPP_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/pallapp.db"


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("PALLAPP_ENV_NAME", "staging")
    with pytest.raises(ConfigurationError, match="staging"):
        create_app()


def test_creating_the_app_touches_no_database(monkeypatch, tmp_path):
    path = tmp_path / "never.db"
    create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{path}"})
    assert not path.exists()


def _headers(env_name: str, tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    app = create_app(
        {"ENV_NAME": env_name, "DATABASE_URL": f"sqlite:///{tmp_path}/h.db", "SECRET_KEY": "k" * 64}
    )
    return dict(app.test_client().get("/login").headers)


def test_pages_forbid_inline_script_framing_and_sniffing(tmp_path):
    headers = _headers("testing", tmp_path)
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in headers["Content-Security-Policy"].split("; ")
    }
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no other origin
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_view_that_sets_a_security_header_keeps_its_own(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})

    @app.route("/own-policy")
    def own_policy():  # type: ignore[no-untyped-def]
        return "ok", {"content-security-policy": "default-src 'none'", "X-Frame-Options": "DENY"}

    headers = app.test_client().get("/own-policy").headers
    assert headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert headers.getlist("X-Frame-Options") == ["DENY"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_hsts_in_development(tmp_path):
    # Development serves plain http on 127.0.0.1; HSTS there would stick to the browser.
    assert "Strict-Transport-Security" not in _headers("development", tmp_path)


@pytest.mark.parametrize(("proxies", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_client_address_is_taken_from_trusted_proxies_only(tmp_path, proxies, expected):
    from sqlalchemy import select

    from pallapp.extensions import db
    from pallapp.models import AuditEvent

    app = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
            "TRUSTED_PROXIES": proxies,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
    # A failed login is audited with the client's address.
    app.test_client().post(
        "/login",
        data={"email": "nobody@example.org", "password": "x"},
        headers={"X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    with app.app_context():
        event = db.session.scalar(select(AuditEvent))
        assert event.client_address == expected
        db.engine.dispose()


@pytest.mark.parametrize("where", ["form", "query", "key"])
def test_a_nul_byte_is_refused_with_400(tmp_path, where):
    # PostgreSQL refuses NUL in text; no keyboard types one (found by fuzzing: was a 500).
    app = create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/n.db", "WTF_CSRF_ENABLED": False}
    )
    client = app.test_client()
    if where == "form":
        response = client.post("/login", data={"email": "a\x00@example.org", "password": "x"})
    elif where == "query":
        response = client.get("/login", query_string={"next": "/\x00"})
    else:
        response = client.post("/login", data={"e\x00mail": "x"})
    assert response.status_code == 400
    assert "Inget sparades" in response.get_data(as_text=True)


def test_production_refuses_a_provider_over_plain_http(monkeypatch, tmp_path):
    monkeypatch.delenv("PALLAPP_ENV_NAME", raising=False)
    monkeypatch.setenv("PALLAPP_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("PALLAPP_BASE_URL", "https://pallapp.example.se")
    monkeypatch.setenv("PALLAPP_OIDC_STAFF_ISSUER", "http://idp.region.example")
    monkeypatch.setenv("PALLAPP_OIDC_STAFF_CLIENT_ID", "pallapp")
    with pytest.raises(ConfigurationError, match="https"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_a_provider_needs_issuer_and_client_id_together(tmp_path):
    with pytest.raises(ConfigurationError, match="together"):
        create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                    "OIDC_CITIZEN_ISSUER": "http://127.0.0.1:1"})


def test_production_asks_staff_and_administrators_for_a_second_factor(monkeypatch, tmp_path):
    monkeypatch.delenv("PALLAPP_ENV_NAME", raising=False)
    monkeypatch.setenv("PALLAPP_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("PALLAPP_BASE_URL", "https://pallapp.example.se")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SECOND_FACTOR_ROLES"] == {"nurse", "physician", "manager", "admin"}
    development = create_app({"ENV_NAME": "development", "DATABASE_URL": f"sqlite:///{tmp_path}/y.db"})
    assert development.config["SECOND_FACTOR_ROLES"] == frozenset()  # the demo: passwords


def _backend_pid(app):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from pallapp.extensions import db

    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.rollback()
    return pid


def _terminate(app, pid):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


@pytest.mark.parametrize("app_config", [{"DATABASE_PING_AFTER_IDLE_SECONDS": 0}])
def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(app, app_config):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    first = _backend_pid(app)
    _terminate(app, first)
    # The idle connection is tested on checkout, found gone, and replaced: no error.
    assert _backend_pid(app) != first


@pytest.mark.parametrize("app_config", [{"DATABASE_PING_AFTER_IDLE_SECONDS": 3600}])
def test_a_recently_used_connection_is_not_tested_again(app, app_config, monkeypatch):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has no server to lose")
    from pallapp.extensions import db

    with app.app_context():
        engine = db.engine
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", pings.append)
    first = _backend_pid(app)
    assert _backend_pid(app) == first
    assert pings == []
    # Lost all the same: the request fails, and the pool is replaced for the next one.
    _terminate(app, first)
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError):
        _backend_pid(app)
    assert _backend_pid(app) != first


def _boundary_app(database_url):  # type: ignore[no-untyped-def]
    """The test app with two routes: each reads, then writes an audit event through the
    session and another through `Connection.execute`; /__write_then_fail fails afterwards."""
    from sqlalchemy import func, insert, select

    from pallapp.extensions import db
    from pallapp.models import AuditAction, AuditEvent, CareUnit
    from tests.conftest import make_app

    application = make_app(database_url, PROPAGATE_EXCEPTIONS=False)  # a 500 page, not a raise

    def write(fail: bool) -> str:
        db.session.scalar(select(func.count()).select_from(AuditEvent))
        db.session.add(AuditEvent(action=AuditAction.VIEW.value, object_type="through the session"))
        db.session.flush()
        db.session.execute(
            insert(AuditEvent), [{"action": "view", "object_type": "through the connection"}]
        )
        if fail:
            raise RuntimeError("after the writes")
        return "written"

    def read() -> str:
        return str(db.session.scalar(select(func.count()).select_from(AuditEvent)))

    def change_without_flushing() -> str:
        unit = db.session.scalars(select(CareUnit)).one()
        unit.phone = "08-000 00 00"  # left for the commit to flush
        return "changed"

    application.add_url_rule("/__read", "read", read)
    application.add_url_rule("/__change", "change", change_without_flushing)
    application.add_url_rule("/__write", "write", lambda: write(False))
    application.add_url_rule("/__write_then_fail", "write_then_fail", lambda: write(True))
    return application


@pytest.fixture
def boundary_app(app):  # type: ignore[no-untyped-def]
    from pallapp.extensions import db

    application = _boundary_app(app.config["SQLALCHEMY_DATABASE_URI"])
    yield application
    with application.app_context():
        db.engine.dispose()  # its connections closed, not left to the garbage collector


def _stored_object_types(application):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from pallapp.extensions import db
    from pallapp.models import AuditEvent

    with application.app_context():
        types = db.session.scalars(select(AuditEvent.object_type).order_by(AuditEvent.id)).all()
        db.session.rollback()
    return types


def test_a_request_that_fails_after_writing_keeps_none_of_its_writes(boundary_app):
    application = boundary_app
    client = application.test_client()
    assert client.get("/__write_then_fail").status_code == 500
    assert _stored_object_types(application) == []
    assert client.get("/__write").status_code == 200
    assert _stored_object_types(application) == ["through the session", "through the connection"]


def test_a_change_left_unflushed_by_the_view_is_committed(boundary_app):
    from sqlalchemy import select

    from pallapp.extensions import db
    from pallapp.models import CareUnit
    from tests.factories import make_unit

    application = boundary_app
    with application.app_context():
        make_unit()
        db.session.commit()
    assert application.test_client().get("/__change").status_code == 200
    with application.app_context():
        assert db.session.scalars(select(CareUnit.phone)).one() == "08-000 00 00"


def _driver_commands(monkeypatch):  # type: ignore[no-untyped-def]
    """The transaction commands psycopg sends (BEGIN, COMMIT, ROLLBACK), as they are sent."""
    from psycopg._connection_base import BaseConnection

    sent: list[bytes] = []
    original = BaseConnection._exec_command

    def spy(self, command, *args, **kwargs):  # type: ignore[no-untyped-def]
        if command in (b"BEGIN", b"COMMIT", b"ROLLBACK"):  # not a server-side cursor's FETCH
            sent.append(command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(BaseConnection, "_exec_command", spy)
    return sent


def _read_in_a_savepoint(session):  # type: ignore[no-untyped-def]
    from sqlalchemy import literal, select

    with session.begin_nested():  # sent with the first statement inside it
        session.scalar(select(literal(1)))


def test_postgresql_begins_the_transaction_at_the_first_write(app, boundary_app, monkeypatch):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite's driver begins before writes by itself")
    from sqlalchemy import create_engine, func, select, text

    from pallapp.extensions import db
    from pallapp.models import AuditEvent

    application = boundary_app
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    # Both connected (the dialects' first queries done) before the commands are recorded.
    _stored_object_types(application)
    other.connect().close()
    sent = _driver_commands(monkeypatch)
    try:
        with application.test_request_context():
            db.session.scalar(select(func.count()).select_from(AuditEvent))
            assert sent == []  # a read alone: no BEGIN
            db.session.add(AuditEvent(action="view", object_type="first"))
            db.session.flush()
            assert sent == [b"BEGIN"]
            db.session.scalar(select(func.count()).select_from(AuditEvent))
            # In the transaction: not visible to another connection until committed.
            with other.connect() as elsewhere:
                assert elsewhere.scalar(text("SELECT count(*) FROM audit_event")) == 0
            db.session.commit()
            assert sent == [b"BEGIN", b"COMMIT"]
            # The next use of a connection reads outside a transaction again.
            db.session.scalar(select(func.count()).select_from(AuditEvent))
            db.session.commit()
            assert sent == [b"BEGIN", b"COMMIT"]
            # A savepoint, a locking read and a statement given as text begin one too.
            for statement in (
                lambda: _read_in_a_savepoint(db.session),
                lambda: db.session.scalar(select(AuditEvent.id).with_for_update()),
                lambda: db.session.execute(text("SELECT 1")),
                lambda: db.session.scalars(
                    select(AuditEvent.id), execution_options={"yield_per": 10}
                ).all(),
            ):
                sent.clear()
                statement()
                assert sent == [b"BEGIN"]
                db.session.rollback()
                assert sent == [b"BEGIN", b"ROLLBACK"]
    finally:
        other.dispose()
    sent.clear()
    # A request that only reads: no transaction, nothing to commit.
    assert application.test_client().get("/__read").status_code == 200
    assert sent == []
    assert application.test_client().get("/__write").status_code == 200
    assert sent == [b"BEGIN", b"COMMIT"]
    sent.clear()
    assert application.test_client().get("/__write_then_fail").status_code == 500
    assert sent == [b"BEGIN", b"ROLLBACK"]


def test_a_write_inside_a_with_clause_is_not_taken_for_a_read(app):
    from sqlalchemy import delete, insert, literal, select, text, union_all

    from pallapp.extensions import db
    from pallapp.factory import _only_reads
    from pallapp.models import AuditEvent

    def compiled(statement):  # type: ignore[no-untyped-def]
        class Context:
            execution_options: dict[str, object] = {}

        context = Context()
        context.compiled = statement.compile(dialect=db.engine.dialect)  # type: ignore[attr-defined]
        return context

    with app.app_context():
        removed = delete(AuditEvent).returning(AuditEvent.id).cte("removed")
        assert _only_reads(compiled(select(AuditEvent.id)))
        assert _only_reads(compiled(union_all(select(literal(1)), select(literal(2)))))
        assert not _only_reads(compiled(select(removed.c.id)))
        assert not _only_reads(compiled(select(AuditEvent.id).with_for_update()))
        assert not _only_reads(compiled(insert(AuditEvent).values(action="view")))
        assert not _only_reads(compiled(text("SELECT 1")))
        assert not _only_reads(None)
