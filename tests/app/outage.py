"""A database outage for app tests: every new connection fails, as when the server is down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import event

from pallapp.extensions import db


@contextlib.contextmanager
def database_outage(app: Flask) -> Iterator[None]:
    """While inside, the app cannot reach its database: pooled connections are dropped and
    every new one fails with the driver's own OperationalError (SQLite and PostgreSQL alike)."""
    with app.app_context():
        engine = db.engine
        dbapi = engine.dialect.dbapi

        def refuse(dialect, connection_record, cargs, cparams):  # type: ignore[no-untyped-def]
            raise dbapi.OperationalError("connection refused (simulated outage)")

        engine.dispose()
        event.listen(engine, "do_connect", refuse)
    try:
        yield
    finally:
        with app.app_context():
            event.remove(engine, "do_connect", refuse)
            engine.dispose()
