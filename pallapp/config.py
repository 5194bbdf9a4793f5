"""Configuration in layers: defaults here, then `PALLAPP_*` environment, then overrides."""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

ENVIRONMENTS = ("production", "development", "testing")


class ConfigurationError(RuntimeError):
    """The application cannot start safely with this configuration."""


DEFAULTS: dict[str, Any] = {
    "ENV_NAME": "production",
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # None: a SQLite file in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # A pooled PostgreSQL connection idle this many seconds is tested (SELECT 1) before a
    # request uses it, and replaced with the whole pool when the server has dropped it (a
    # restart, a firewall closing idle connections). One used more recently is not: the test was
    # a round trip and a twentieth of a small request's time. A connection lost within that time
    # fails one request (503, "try again") and the pool is replaced then. 0: test every time.
    "DATABASE_PING_AFTER_IDLE_SECONDS": 10,
    # Seconds to wait for the database before a request fails (with a page saying so): a
    # frozen server must not hold a request, and a worker, for minutes. PostgreSQL: libpq's
    # connect_timeout (at least 2 s, per address tried: postgresql.org/docs/current/
    # libpq-connect.html); SQLite: how long to wait for another writer's lock.
    "DATABASE_CONNECT_TIMEOUT": 5,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "pallapp_session",
    # The session cookie is sent again when it changed, not with every answer: the last-seen
    # time in it moves often enough to keep an active session's cookie from expiring
    # (pallapp/auth/session.py, LAST_SEEN_STEP).
    "SESSION_REFRESH_EACH_REQUEST": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SECURE": True,
    # Shared tablets (DESIGN.md: nurses chart on a tablet on home visits): staff are logged out
    # after this many idle minutes, so the next user of the tablet does not act as them.
    "STAFF_IDLE_MINUTES": 30,
    # Where physicians land after login: "today" (their units' patients, as nurses) or
    # "overview" (the unit overview, ordered by clinical need). PALLAPP_PHYSICIAN_START_PAGE.
    "PHYSICIAN_START_PAGE": "today",
    # Patients and relatives use their own devices; a longer idle limit spares re-logins.
    "SELF_IDLE_MINUTES": 12 * 60,
    "INVITATION_VALID_HOURS": 72,
    "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime bounds the token already
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "LANGUAGES": ("sv", "en"),
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Login throttling (Flask-Limiter, pallapp/auth/throttle.py). Only rejected credentials
    # count. Per account and per address: for browsers that have not logged in to the account
    # before. OWASP's authentication guidance asks to slow guessing without letting anyone lock
    # users out; ten tries in 15 minutes is a project choice, and the owner on a device used
    # before is counted per device instead (OWASP's device cookies), so an attacker cannot
    # lock them out. Per address: higher, as a home or a clinic may share one address.
    # "memory://" keeps counts per process; with several workers or hosts set a Redis URL
    # (redis://host:6379/0) so that they share the counts (refused otherwise in production).
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "50 per 15 minutes",
    "LOGIN_LIMIT_PER_DEVICE": "10 per 15 minutes",
    # How long a browser stays a known device for an account after its last login there.
    "DEVICE_COOKIE_DAYS": 180,
    # Wrong current passwords on the password page, per account.
    "PASSWORD_CHANGE_LIMIT": "5 per 15 minutes",
    # How many processes serve the app. gunicorn.conf.py sets it from gunicorn's own worker
    # count; set it by hand under another server (None: not known).
    "WORKERS": None,
    # Only for measurements (benchmarks/load.py): accept per-process login counts with several
    # workers in production, i.e. login limits multiplied by the number of workers.
    "ACCEPT_PER_WORKER_LOGIN_LIMITS": False,
    # The address users reach the app at (scheme and host, e.g. https://pallapp.region.se):
    # invitation links are built from it, never from the request's Host header, which the
    # client chooses. Required in production; development and tests use the request's host.
    "BASE_URL": None,
    # Where canonical FHIR URLs point (e.g. https://pallapp.region.se/fhir, where the read-only
    # FHIR API serves the Questionnaires and CodeSystems). None: <BASE_URL>/fhir.
    "FHIR_BASE_URL": None,
    # Requests per API credential (the FHIR API): an EHR polls, it does not browse; a project
    # choice that bounds what a leaked credential can read per minute.
    "FHIR_API_RATE_LIMIT": "120 per minute",
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none, trust nothing).
    "TRUSTED_PROXIES": 0,
    # Outgoing e-mail (reminders, alerts, escalations), sent by `flask notify` from the outbox.
    # SMTP_SECURITY: starttls (port 587), tls (port 465) or none (a relay on this host only).
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 587,
    "SMTP_SECURITY": "starttls",
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_TIMEOUT": 10,
    "MAIL_FROM": "pallapp@localhost",
    # --- strong authentication (pallapp/auth/oidc.py, pallapp/auth/second_factor.py) ---------
    # Roles whose password logins need a second factor (TOTP) before they reach any page,
    # unless every unit of the staff member allows password alone (CareUnit.
    # password_alone_allowed, set by an administrator). None: staff and administrators in
    # production (HSLF-FS 2016:40 asks for strong authentication for access over open
    # networks), nobody in development and tests, so that the demo logs in with passwords.
    "SECOND_FACTOR_ROLES": None,
    # Wrong second-factor codes, per account (a six-digit code is guessable without a limit).
    "SECOND_FACTOR_LIMIT": "5 per 15 minutes",
    # OpenID Connect providers: "STAFF" (the region's identity provider, e.g. SITHS eID) and
    # "CITIZEN" (an e-identification broker for BankID/Freja eID). A provider is offered when
    # its issuer and client id are set. CLAIM is the stable claim bound to the account once,
    # through an invitation (HSA-id for staff, personnummer for citizens). ACR: the levels of
    # assurance accepted (comma separated; empty accepts any the provider sends).
    "OIDC_STAFF_ISSUER": None,
    "OIDC_STAFF_CLIENT_ID": None,
    "OIDC_STAFF_CLIENT_SECRET": None,
    "OIDC_STAFF_CLAIM": "hsa_id",
    "OIDC_STAFF_ACR": "",
    "OIDC_STAFF_SCOPE": "openid profile",
    "OIDC_CITIZEN_ISSUER": None,
    "OIDC_CITIZEN_CLIENT_ID": None,
    "OIDC_CITIZEN_CLIENT_SECRET": None,
    "OIDC_CITIZEN_CLAIM": "personnummer",
    "OIDC_CITIZEN_ACR": "",
    "OIDC_CITIZEN_SCOPE": "openid profile",
}

ALL_STAFF_AND_ADMIN_ROLES = ("nurse", "physician", "manager", "admin")


def second_factor_roles(value: str | Iterable[object] | None, env_name: str) -> frozenset[str]:
    """The roles whose password logins need a second factor, from a comma-separated string or
    a list; None takes the environment's default."""
    if value is None:
        return frozenset(ALL_STAFF_AND_ADMIN_ROLES if env_name == "production" else ())
    items = value.split(",") if isinstance(value, str) else list(value)
    roles = frozenset(str(item).strip() for item in items if str(item).strip())
    known = {"patient", "relative", *ALL_STAFF_AND_ADMIN_ROLES}
    if not roles <= known:
        raise ConfigurationError(
            f"PALLAPP_SECOND_FACTOR_ROLES names unknown roles: {', '.join(sorted(roles - known))} "
            f"(known: {', '.join(sorted(known))})."
        )
    return roles


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill `app.config` from defaults, the environment and `overrides`, then check it."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PALLAPP")
    if overrides:
        app.config.from_mapping(overrides)

    env_name = app.config["ENV_NAME"]
    if env_name not in ENVIRONMENTS:
        raise ConfigurationError(
            f"PALLAPP_ENV_NAME must be one of {', '.join(ENVIRONMENTS)}, not {env_name!r}."
        )
    app.config["TESTING"] = env_name == "testing" or app.config.get("TESTING", False)
    if env_name != "production":
        # Local HTTP on 127.0.0.1 must keep its session cookie.
        app.config["SESSION_COOKIE_SECURE"] = bool(
            overrides and overrides.get("SESSION_COOKIE_SECURE")
        )
        app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]

    if not app.config.get("SECRET_KEY"):
        if env_name == "production":
            raise ConfigurationError(
                "No secret key: set PALLAPP_SECRET_KEY to a long random value "
                '(for example: python -c "import secrets; print(secrets.token_hex(32))"). '
                "pallapp does not start in production without one."
            )
        app.config["SECRET_KEY"] = _development_secret(app)

    app.config["BASE_URL"] = checked_base_url(app.config.get("BASE_URL"), env_name)
    app.config["SECOND_FACTOR_ROLES"] = second_factor_roles(
        app.config.get("SECOND_FACTOR_ROLES"), env_name
    )
    check_identity_providers(app.config, env_name)

    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "pallapp.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["DATABASE_URL"],
        app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        app.config["DATABASE_CONNECT_TIMEOUT"],
    )

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["SELF_IDLE_MINUTES"])
    check_login_limit_storage(app.config)
    check_smtp(app.config)


SMTP_SECURITY_CHOICES = ("starttls", "tls", "none")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def check_smtp(config: Mapping[str, Any]) -> None:
    """Mail settings that could leak credentials or messages are refused at start-up."""
    security = config.get("SMTP_SECURITY")
    if security not in SMTP_SECURITY_CHOICES:
        raise ConfigurationError(
            f"PALLAPP_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY_CHOICES)}, "
            f"not {security!r}."
        )
    if (
        config["ENV_NAME"] == "production"
        and security == "none"
        and str(config.get("SMTP_HOST")) not in _LOCAL_HOSTS
    ):
        raise ConfigurationError(
            "PALLAPP_SMTP_SECURITY=none sends mail (and any SMTP password) unencrypted: in "
            "production only to a relay on this host (localhost). Use starttls or tls."
        )


def engine_options(url: str, options: Mapping[str, Any], timeout: str | float) -> dict[str, Any]:
    """SQLAlchemy engine options with the driver's own timeout for `url`'s database."""
    seconds = float(timeout)
    if url.startswith("sqlite"):
        # One file, no server to ping; sqlite3's `timeout` is the wait for a lock.
        return {"connect_args": {"timeout": seconds}}
    merged = dict(options)
    if url.startswith("postgresql"):
        keep_long_statements_converted()
        connect_args = dict(merged.get("connect_args", {}))
        connect_args.setdefault("connect_timeout", max(2, round(seconds)))
        connect_args["options"] = utc_session(connect_args.get("options"))
        merged["connect_args"] = connect_args
    return merged


def utc_session(options: str | None) -> str:
    """libpq's `options` with the session's time zone set to UTC, unless they set one. The
    app stores and compares moments in UTC and turns them into Stockholm time itself; a
    server's own zone (Etc/UTC here, perhaps Europe/Stockholm elsewhere) would make psycopg
    hand every `timestamptz` back in that zone, and each one then cost a conversion to UTC
    (1.3-1.9 us) where a moment in `datetime.UTC` costs none: thousands on a long stay's
    trends page. It also makes SQL that depends on the session's zone behave the same on
    every server."""
    given = (options or "").strip()
    if "timezone" in given.lower():
        return given
    return f"{given} -c TimeZone=UTC".strip()


#: The longest statement whose placeholders psycopg converts once (see below).
LONGEST_CONVERTED_STATEMENT = 16 * 1024


def keep_long_statements_converted() -> None:
    """psycopg turns a statement's `%(name)s` placeholders into PostgreSQL's `$1` with a
    regular expression on every execution, and keeps the result only for statements of up to
    4 KiB (`psycopg._queries.MAX_CACHED_STATEMENT_LENGTH`, read at each execution). The
    patient page's care record (`carerecord.care_record`, seven reads in one statement of about
    12 KB) was converted again on every view: a third of that statement's cost in the client.
    The cache keeps the 128 most recently used statements; at 16 KiB each at most 2 MiB. A
    psycopg without the setting is left as it is (only slower)."""
    try:
        from psycopg import _queries
    except ImportError:  # not installed (SQLite only)
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", None) is not None:
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(
            _queries.MAX_CACHED_STATEMENT_LENGTH, LONGEST_CONVERTED_STATEMENT
        )


def checked_base_url(value: object, env_name: str) -> str | None:
    """The configured base URL without a trailing slash, or None outside production."""
    if value in (None, ""):
        if env_name == "production":
            raise ConfigurationError(
                "No base URL: set PALLAPP_BASE_URL to the address users reach pallapp at "
                "(for example https://pallapp.region.se). Invitation links are built from it; "
                "pallapp does not start in production without one."
            )
        return None
    parts = urlsplit(str(value).strip())
    secure_enough = parts.scheme == "https" or (env_name != "production" and parts.scheme == "http")
    if (
        not secure_enough
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ConfigurationError(
            f"PALLAPP_BASE_URL must be a scheme and host only, like https://pallapp.region.se "
            f"(https in production), not {value!r}."
        )
    return f"{parts.scheme}://{parts.netloc}"


def check_identity_providers(config: Mapping[str, Any], env_name: str) -> None:
    """A provider half configured, or reached over plain HTTP in production, stops start-up:
    its tokens and keys would travel unprotected, or its login button would lead nowhere."""
    for name in ("STAFF", "CITIZEN"):
        issuer = config.get(f"OIDC_{name}_ISSUER")
        client_id = config.get(f"OIDC_{name}_CLIENT_ID")
        if bool(issuer) != bool(client_id):
            raise ConfigurationError(
                f"PALLAPP_OIDC_{name}_ISSUER and PALLAPP_OIDC_{name}_CLIENT_ID must be set "
                "together (or neither)."
            )
        if issuer and env_name == "production" and urlsplit(str(issuer)).scheme != "https":
            raise ConfigurationError(
                f"PALLAPP_OIDC_{name}_ISSUER must be an https URL in production, not {issuer!r}."
            )


def serving_processes(config: Mapping[str, Any]) -> int | None:
    """How many processes serve the app, if anyone said: PALLAPP_WORKERS (set by
    gunicorn.conf.py from gunicorn's own count), else WEB_CONCURRENCY (gunicorn's default
    worker count when none is given on its command line)."""
    sources = (
        ("PALLAPP_WORKERS", config.get("WORKERS")),
        ("WEB_CONCURRENCY", os.environ.get("WEB_CONCURRENCY")),
    )
    for name, value in sources:
        if value not in (None, ""):
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ConfigurationError(f"{name} must be a whole number, not {value!r}.") from None
    return None


def check_login_limit_storage(config: Mapping[str, Any]) -> None:
    """Refuse production with per-process login counts when several processes serve it.

    Each gunicorn worker would count failed logins on its own, so an attacker gets the limit
    once per worker. Outside gunicorn (a `flask` command) nothing is served, and a single
    process shares its memory with itself.
    """
    if config["ENV_NAME"] != "production" or config.get("ACCEPT_PER_WORKER_LOGIN_LIMITS"):
        return
    if not str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        return
    workers = serving_processes(config)
    if workers is not None and workers > 1:
        raise ConfigurationError(
            f"{workers} workers would each count failed logins on their own "
            "(PALLAPP_RATELIMIT_STORAGE_URI is memory://), multiplying the login limits. "
            "Set PALLAPP_RATELIMIT_STORAGE_URI to a Redis URL (redis://host:6379/0) that every "
            "worker and host shares, or run one worker."
        )
    if workers is None and os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        raise ConfigurationError(
            "pallapp runs under gunicorn but cannot tell how many workers there are, and with "
            "PALLAPP_RATELIMIT_STORAGE_URI=memory:// each worker counts failed logins on its "
            "own. Start gunicorn from the checkout (its gunicorn.conf.py passes the count on), "
            "or set PALLAPP_WORKERS to the number of workers, or set "
            "PALLAPP_RATELIMIT_STORAGE_URI to a Redis URL."
        )


def gunicorn_on_starting(server: Any) -> None:
    """gunicorn's `on_starting` hook (both gunicorn configuration files use it).

    The app cannot see gunicorn's worker count by itself, so this passes it on
    (PALLAPP_WORKERS) before any worker starts, and makes the app's start-up checks once in the
    master process: a refusal then stops gunicorn with one clear message instead of every worker
    failing. With --preload the app is built before this hook runs: set PALLAPP_WORKERS then.
    """
    os.environ["PALLAPP_WORKERS"] = str(server.cfg.workers)
    # The same checks the app makes at start-up (secret key, base URL, login-limit storage);
    # a ConfigurationError is a RuntimeError, which gunicorn prints and exits on.
    load_config(Flask("pallapp", instance_relative_config=True), None)


def gunicorn_post_worker_init(worker: Any) -> None:
    """gunicorn's `post_worker_init` hook (both gunicorn configuration files use it): once a
    worker has built the app, the objects it holds for its whole life (modules, the app, its
    routes, templates and statements) are moved out of the garbage collector's sight
    (`gc.freeze`). A full collection went through all of them: 111 ms of CPU in a worker with
    about 200,000 objects after a few pages (162,000 of them there once the app is built),
    landing on whichever request set it off and making that page's p95; frozen here, 4-6 ms
    (docs/operations.md, "Worker class and counts").
    Objects made later are collected as before; the frozen ones live as long as the worker."""
    gc.freeze()


def _development_secret(app: Flask) -> str:
    """A per-checkout random key kept in the instance folder (development and tests only)."""
    if app.config["ENV_NAME"] == "testing":
        return secrets.token_hex(32)
    path = Path(app.instance_path) / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
