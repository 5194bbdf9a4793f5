"""The PostgreSQL session the app opens: its time zone is UTC (`config.utc_session`)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import make_url, select, text

from pallapp.config import engine_options, utc_session
from pallapp.extensions import db
from pallapp.models import AuditEvent, utcnow


def test_the_session_zone_is_set_unless_the_options_set_one():
    assert utc_session(None) == "-c TimeZone=UTC"
    assert utc_session("-c statement_timeout=5000") == "-c statement_timeout=5000 -c TimeZone=UTC"
    # An operator's own choice is kept.
    assert utc_session("-c timezone=Europe/Stockholm") == "-c timezone=Europe/Stockholm"
    options = engine_options("postgresql+psycopg://db/pallapp", {}, 5)
    assert options["connect_args"] == {"connect_timeout": 5, "options": "-c TimeZone=UTC"}
    assert "options" not in engine_options("sqlite:///x.db", {}, 5)["connect_args"]


@pytest.mark.postgres_only
def test_postgresql_gives_moments_back_in_utc(app, database_url):
    """psycopg hands a `timestamptz` back in the session's zone: in UTC, the app's own
    `datetime.UTC`, so no moment read needs converting, whatever the server's zone."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the session's time zone is PostgreSQL's; this runs in the PostgreSQL half")
    with app.app_context():
        assert db.session.scalar(text("show timezone")) == "UTC"
        stored = utcnow() - timedelta(minutes=3)
        db.session.add(AuditEvent(at=stored, action="view", object_type="test", outcome="ok"))
        db.session.commit()
        read = db.session.connection().execute(select(AuditEvent.at)).scalar_one()
        assert read.tzinfo is UTC
        assert read == stored
