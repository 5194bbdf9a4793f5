"""The application factory."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from typing import Any, cast

from flask import Flask, Response, abort, g, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import CompoundSelect, Connection, Engine, Select, bindparam, event
from sqlalchemy.engine import ExecutionContext
from sqlalchemy.exc import InterfaceError, InvalidatePoolError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.dml import UpdateBase

from pallapp import audit
from pallapp.access import NotVisible
from pallapp.config import load_config
from pallapp.extensions import babel, csrf, db, limiter, login_manager, migrate
from pallapp.i18n import install_i18n, select_locale
from pallapp.models import AuditAction, User
from pallapp.static_files import install_static_files, is_cookieless, static_cache_control


def build_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask("pallapp", instance_relative_config=True)
    load_config(app, config)

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _sqlite_savepoints_inside_a_transaction(db.engine)
    else:
        with app.app_context():
            if db.engine.dialect.driver == "psycopg":
                _begin_at_the_first_write(db.engine)
            _ping_after_idle(db.engine, float(app.config["DATABASE_PING_AFTER_IDLE_SECONDS"]))
    # Batch mode lets later migrations alter tables on SQLite too.
    migrate.init_app(
        app, db, directory=_migrations_directory(), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    install_static_files(app)
    limiter.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        # The client's address (for throttling and the audit log) and scheme come from the
        # proxies we run; a header from anyone else would be spoofable, hence the count.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    babel.init_app(app, locale_selector=select_locale)
    install_i18n(app)
    from pallapp.forms import radio_options
    from pallapp.urls import fixed_url, url_builder

    app.add_template_global(radio_options)
    app.add_template_global(url_builder)
    app.add_template_global(fixed_url)
    _init_login(app)
    from pallapp.auth.oidc import init_oidc

    init_oidc(app)

    from pallapp.about import bp as about_bp
    from pallapp.admin import bp as admin_bp
    from pallapp.alerts import bp as alerts_bp
    from pallapp.alerts import register_views as register_alert_views
    from pallapp.assessments import bp as assessments_bp
    from pallapp.auth import bp as auth_bp
    from pallapp.auth.session import install_session_rules
    from pallapp.careplan import bp as careplan_bp
    from pallapp.health import bp as health_bp
    from pallapp.interop import bp as interop_bp
    from pallapp.interop.api import bp as fhir_api_bp
    from pallapp.logreview import bp as logreview_bp
    from pallapp.offline import bp as offline_bp
    from pallapp.patients import bp as patients_bp
    from pallapp.reporting import bp as reporting_bp
    from pallapp.reporting import register_views as register_reporting_views
    from pallapp.review import bp as review_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(assessments_bp)
    app.register_blueprint(logreview_bp)
    app.register_blueprint(careplan_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(health_bp)
    register_alert_views()
    app.register_blueprint(alerts_bp)
    register_reporting_views()
    app.register_blueprint(reporting_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(interop_bp)
    app.register_blueprint(fhir_api_bp)
    app.register_blueprint(about_bp)
    install_session_rules(app)

    _install_request_boundary(app)
    _install_error_pages(app)
    _install_headers(app)

    from pallapp.cli import register_commands

    register_commands(app)
    return app


def _sqlite_savepoints_inside_a_transaction(engine: Engine) -> None:
    """Open a real transaction before a savepoint on SQLite (creating the engine does not
    connect).

    Before Python 3.12 the sqlite3 driver emits BEGIN only ahead of INSERT/UPDATE/DELETE. A
    savepoint (`begin_nested`, used for the client-token and care-plan-version checks) opened
    before any such statement therefore started the transaction itself, and releasing it
    COMMITTED: an assessment stayed stored, without its flags, when the request failed
    afterwards and rolled back. Only savepoints are changed: the driver keeps running reads
    outside a transaction, so concurrent requests do not hold read locks against each other.
    """

    @event.listens_for(engine, "savepoint")
    def begin_first(connection: Connection, name: str) -> None:
        # Installed on SQLite engines only: the driver's connection is sqlite3's.
        driver_connection = cast(sqlite3.Connection, connection.connection.driver_connection)
        if not driver_connection.in_transaction:
            driver_connection.execute("BEGIN")


def _begin_at_the_first_write(engine: Engine) -> None:
    """On PostgreSQL (psycopg), open the database transaction at the first statement that may
    write, not at the first statement (creating the engine does not connect).

    psycopg sends BEGIN in a round trip of its own before a transaction's first statement, and
    COMMIT in another at its end: two of a request's round trips even when it only read (the
    logged-in floor, a chart answered 304). A connection is handed out in the driver's
    autocommit mode, and the first statement that is not a plain SELECT (an INSERT, UPDATE or
    DELETE, a savepoint, a SELECT ... FOR UPDATE, any text() statement) switches it back
    before it is sent, so psycopg begins the transaction with it: every write of the request
    is still in one transaction, committed or rolled back at its end (`commit_or_roll_back`),
    and a request that only read has nothing to commit (psycopg sends no COMMIT or ROLLBACK
    for a connection outside a transaction).

    The reads before the first write are the same either way at READ COMMITTED: each statement
    sees what was committed when it began, inside a transaction or not, and a plain SELECT
    takes no lock that a transaction would have kept. (This is how SQLite's driver has always
    run the app: it sends BEGIN only before a write.) At another isolation level, set on the
    engine or as the server's default, statements of one transaction share a snapshot, so
    every statement runs inside it as before.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkout")
    def reads_outside_a_transaction(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if (
            dialect.default_isolation_level == "READ COMMITTED"
            and dbapi_connection.isolation_level is None  # none set on the engine
            and not dbapi_connection.autocommit
            and dbapi_connection.info.transaction_status == _PG_IDLE
        ):
            dbapi_connection.autocommit = True
            record.info[_READS_OUTSIDE] = True

    @event.listens_for(engine, "before_cursor_execute")
    def begin_before_a_write(
        connection: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        info = connection.connection.info  # the pooled connection's, kept until it is closed
        if not info.get(_READS_OUTSIDE) or _only_reads(context):
            return
        info[_READS_OUTSIDE] = False
        if "isolation_level" not in connection.get_execution_options():
            cursor.connection.autocommit = False

    @event.listens_for(engine, "checkin")
    def back_to_transactions(dbapi_connection: Any, record: Any) -> None:
        # Given back as it was taken: a write on it outside a request (or the next checkout's
        # decision) must not find it in autocommit mode.
        if (
            record.info.pop(_READS_OUTSIDE, None)
            and dbapi_connection is not None
            and dbapi_connection.autocommit
            and dbapi_connection.info.transaction_status == _PG_IDLE
        ):
            dbapi_connection.autocommit = False


#: The pooled connection is still in autocommit mode, for reads only (`_begin_at_the_first_write`).
_READS_OUTSIDE = "pallapp_reads_outside_a_transaction"
#: psycopg's `TransactionStatus.IDLE`: connected, outside any transaction.
_PG_IDLE = 0


def _only_reads(context: ExecutionContext | None) -> bool:
    """Whether a statement is a plain SELECT, which writes nothing, locks nothing and needs no
    transaction to be read."""
    compiled = getattr(context, "compiled", None)
    if compiled is None:  # a string sent as it is (exec_driver_sql)
        return False
    statement = compiled.statement
    if not isinstance(statement, Select | CompoundSelect):
        return False
    if getattr(statement, "_for_update_arg", None) is not None:
        return False
    if context is not None and context.execution_options.get("stream_results"):
        return False  # a server-side cursor (yield_per) lives in a transaction
    # A WITH clause may write (WITH moved AS (DELETE ... RETURNING ...) SELECT ...).
    ctes = getattr(compiled, "ctes", None) or ()
    return not any(isinstance(cte.element, UpdateBase) for cte in ctes)


#: Where a pooled connection keeps when it was last given back (`time.monotonic()`).
_RETURNED_AT = "pallapp_returned_at"


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle at least `idle_seconds` only
    (creating the engine does not connect).

    A failed test is handled as the pre-ping handles it: when the error means the connection is
    gone, every pooled connection is replaced and the request gets a new one.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def note_time(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError() from error
            raise


def _migrations_directory() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")


def _init_login(app: Flask) -> None:
    from pallapp.i18n import lazy_gettext as _l

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # Sessions are bound to their browser in pallapp/auth/session.py (not to the address, which
    # changes on phones); Flask-Login's own check would bind both, and only for sessions that
    # are not permanent, which ours are.
    login_manager.session_protection = None

    # Built once: constructing the statement cost more than SQLAlchemy's cached compile.
    user_by_session_token = (
        db.select(User)
        .where(User.session_token == bindparam("session_token"), User.active.is_(True))
        # The memberships (each with its unit) come in the same query: every request asks
        # whether a password alone is still allowed in the user's units (auth/session.py),
        # and most pages list or filter by those units.
        .options(joinedload(User.memberships))
    )

    @login_manager.user_loader
    def load_user(session_token: str) -> User | None:
        return (
            db.session.execute(user_by_session_token, {"session_token": session_token})
            .unique()
            .scalar_one_or_none()
        )


def _install_request_boundary(app: Flask) -> None:
    """One transaction per request: committed after a successful response (when anything was
    written; a request that only read has nothing to commit), rolled back otherwise."""

    @app.before_request
    def refuse_nul_bytes() -> None:
        # No keyboard types a NUL byte, and PostgreSQL refuses it in text: such a request is
        # answered 400 before it reaches a form (found by fuzzing: it was a server error).
        for key, values in request.values.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                abort(400)
        return None

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        if response.status_code < 400:
            if _anything_to_commit():
                db.session.commit()
            # Otherwise the session is closed at the end of the request (Flask-SQLAlchemy), as
            # a commit would have closed it, without the commit's bookkeeping.
        else:
            _roll_back_quietly()
        return response


def _anything_to_commit() -> bool:
    """Whether committing the request's session would change anything in the database: objects
    not yet flushed, or a transaction open in the driver (every statement that writes, through
    the session or `Connection.execute`, opens one: `_begin_at_the_first_write` on PostgreSQL,
    the sqlite3 driver by itself). A request that only read has neither."""
    session = db.session()
    if not session.in_transaction():
        return False
    if session.new or session.dirty or session.deleted:
        return True
    driver_connection = session.connection().connection.driver_connection
    if driver_connection is None:  # closed (invalidated): the commit reports it
        return True
    if isinstance(driver_connection, sqlite3.Connection):
        return driver_connection.in_transaction
    # psycopg: anything but "idle" (in a transaction, or in a failed one) is left to commit.
    return driver_connection.info.transaction_status != _PG_IDLE


def _install_error_pages(app: Flask) -> None:
    @app.errorhandler(NotVisible)
    def patient_not_visible(error: NotVisible) -> ResponseReturnValue:
        # The refusal itself must be logged although the request fails.
        db.session.rollback()
        audit.record(
            AuditAction.DENIED,
            patient=error.patient,
            object_type="patient",
            object_id=error.public_id[:64],
            outcome="denied",
            detail=f"{request.method} {request.path} ({error.need.value})",
        )
        db.session.commit()
        return render_template("errors/404.html"), 404

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return render_template("errors/csrf.html"), 400

    for code in (400, 403, 404, 405):

        def handler(error: Exception, code: int = code) -> ResponseReturnValue:
            return render_template(f"errors/{code}.html"), code

        app.register_error_handler(code, handler)

    @app.errorhandler(429)
    def too_many_requests(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        if request.endpoint == "auth.login":
            audit.record(AuditAction.LOGIN_FAILED, object_type="user_account", outcome="throttled")
            db.session.commit()
        elif request.endpoint == "auth.password" and current_user.is_authenticated:
            audit.record(
                AuditAction.UPDATE,
                obj=current_user._get_current_object(),
                outcome="throttled",
                detail="password change",
            )
            db.session.commit()
        if request.blueprint == "fhir_api":
            from pallapp.interop.api import too_many_requests as api_too_many

            return api_too_many()
        return render_template("errors/429.html", endpoint=request.endpoint), 429

    @app.errorhandler(500)
    def server_error(error: Exception) -> ResponseReturnValue:
        # Drawn without the database, which may be what failed: no user is loaded (the page
        # has no menu), and the language comes from the session (pallapp/i18n.py).
        g.without_database = True
        _roll_back_quietly()
        unavailable = isinstance(getattr(error, "original_exception", None), DATABASE_UNAVAILABLE)
        # Rendered by Jinja itself: Flask's render_template runs the context processors, and
        # Flask-Login's loads the user from the database for every template.
        page = app.jinja_env.get_template("errors/500.html").render(
            unavailable=unavailable, current_language=str(get_locale() or "sv")
        )
        response = make_response(page, 503 if unavailable else 500)
        if unavailable:
            response.headers["Retry-After"] = "30"
        return response


#: Errors that mean the database cannot be reached or does not answer in time (503, not 500).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


def _roll_back_quietly() -> None:
    """Roll back; a connection that is already gone has nothing to roll back."""
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()


# Everything the pages load comes from this site; no inline script or style anywhere (templates
# keep scripts in static files), so an injected <script> cannot run. A view that needs another
# policy (e.g. an SVG chart with its own <style>) sets the header itself and this one stays off.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Two years, the common preload value; only sent outside development (plain http there).
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def content_security_policy(app: Flask) -> str:
    """The policy, with the configured identity providers added to `form-action`: logging out
    is a form whose answer redirects to the provider's end-session page (RP-initiated logout),
    and browsers apply `form-action` to that redirect too."""
    from urllib.parse import urlsplit

    from pallapp.auth.oidc import PROVIDERS, provider_settings

    origins = []
    for name in PROVIDERS:
        settings = provider_settings(app.config, name)
        if settings is not None:
            parts = urlsplit(settings.issuer)
            origins.append(f"{parts.scheme}://{parts.netloc}")
    if not origins:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(sorted(set(origins)))
    )


def _install_headers(app: Flask) -> None:
    send_hsts = app.config["ENV_NAME"] != "development"
    fixed = [
        ("Content-Security-Policy", content_security_policy(app)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    if send_hsts:
        fixed.append(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    lowered = [(name.lower(), name, value) for name, value in fixed]

    @app.after_request
    def security_headers(response: Response) -> Response:
        # Each header unless the view set its own (what `setdefault` does; asked one by one, a
        # missing header raised and caught an exception inside Werkzeug each time).
        present = {name.lower() for name, _value in response.headers.items()}
        for key, name, value in lowered:
            if key not in present:
                response.headers.add(name, value)
        if is_cookieless():
            # The same for everyone: cacheable, and asking who is logged in would touch the
            # session (a cookie, `Vary: Cookie`).
            static_cache_control(app, response)
            return response
        if g.get("revalidated_image"):
            # A chart image: kept by this browser only and asked about again on every use (a
            # 304 needs a copy), never shown without the server's say; logout clears it.
            response.headers["Cache-Control"] = "private, no-cache"
        elif g.get("without_database") or current_user.is_authenticated:
            # Patient data must not stay in shared caches or the back-button cache of a tablet.
            # (Error pages do not ask who is logged in: the database may be what failed.)
            response.headers["Cache-Control"] = "no-store"
        return response
