"""A database that is down or frozen: a plain page in the user's language, quickly.

The error pages must not need the database themselves (the old 500 page loaded the user to
draw the menu and choose the language, failed again, and left a bare English "Internal Server
Error"), and a database that does not answer must fail within the configured timeout instead
of holding the request (and a worker) for as long as the operating system waits.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from pallapp.extensions import db
from pallapp.models import Role
from tests.app.outage import database_outage
from tests.conftest import make_app
from tests.factories import PASSWORD, make_unit, make_user


@pytest.fixture
def production_errors(app):  # type: ignore[no-untyped-def]
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer with the error page, as in production
    return app


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ("Nothing was saved", "cannot reach its database")),
        ("sv", ("Inget sparades", "når inte sin databas")),
    ],
)
def test_item19_an_outage_shows_a_page_in_the_users_language(
    production_errors, client, language, expected
):
    app = production_errors
    with app.app_context():
        email = make_user(Role.NURSE, units=[make_unit()], language=language).email
        db.session.commit()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    assert client.get("/today").status_code == 200
    with database_outage(app):
        page = client.get("/today")
        posted = client.post("/account/password", data={"current": PASSWORD})
    body = page.get_data(as_text=True)
    assert page.status_code == 503
    assert f'<html lang="{language}">' in body
    for words in expected:
        assert words in body
    assert "Internal Server Error" not in body
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Retry-After"] == "30"
    assert posted.status_code == 503
    assert expected[0] in posted.get_data(as_text=True)
    # Back up: the session is intact and the user carries on.
    assert client.get("/today").status_code == 200


def test_item19_a_visitor_gets_the_language_chosen_before_logging_in(production_errors, client):
    app = production_errors
    with app.app_context():
        email = make_user(Role.PATIENT).email
        db.session.commit()
    client.post("/language", data={"language": "en", "next": "/login"})
    with database_outage(app):
        page = client.post("/login", data={"email": email, "password": PASSWORD})
    assert page.status_code == 503
    assert "Nothing was saved" in page.get_data(as_text=True)


def test_item19_other_server_errors_keep_the_plain_500_page(production_errors, client, monkeypatch):
    import pallapp.auth.views as views

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("not the database")

    monkeypatch.setattr(views, "authenticate", broken)
    page = client.post("/login", data={"email": "a@example.org", "password": "x"})
    assert page.status_code == 500
    assert "Inget sparades" in page.get_data(as_text=True)
    assert "databas" not in page.get_data(as_text=True)


# --- a frozen database fails within the configured time -----------------------------------


def test_item19_a_frozen_postgresql_server_fails_within_the_connect_timeout(tmp_path):
    # A server that accepts the connection (the kernel does it) and then never answers.
    frozen = socket.socket()
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(8)
    port = frozen.getsockname()[1]
    app = make_app(
        f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", DATABASE_CONNECT_TIMEOUT=2
    )
    outcome: dict[str, object] = {}

    def query() -> None:
        started = time.monotonic()
        try:
            with app.app_context():
                db.session.execute(text("SELECT 1"))
        except OperationalError as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=query, daemon=True)
    worker.start()
    worker.join(timeout=12)
    still_waiting = worker.is_alive()
    frozen.close()  # ends a connection still waiting, so that the thread ends either way
    worker.join(timeout=10)
    assert not still_waiting, "the connection was still waiting after 12 seconds"
    assert isinstance(outcome.get("error"), OperationalError)
    assert 1.5 <= outcome["seconds"] < 8  # libpq's connect_timeout: 2 s, per address tried


def test_item19_a_locked_sqlite_database_fails_after_the_configured_timeout(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")  # a writer that does not finish
    app = make_app(f"sqlite:///{path}", DATABASE_CONNECT_TIMEOUT=1)
    started = time.monotonic()
    try:
        with app.app_context(), pytest.raises(OperationalError, match="locked"):
            db.session.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    seconds = time.monotonic() - started
    assert 0.9 <= seconds < 3  # the configured second, not sqlite3's default of five
