"""The API-client revision with data: audit events and everything else written before it stay
as they were, a credential and an event naming it can be stored after it, and the way back
down keeps every audit event (the API's reads keep their detail, which names the credential)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "c4a17e5d0b31"  # the revision this one follows (the alerts revision, chained at merge)
REVISION = "c4f1d2e8a9b0"


def test_api_clients_and_audit_events_survive_both_ways(empty_database):  # noqa: F811
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO care_unit (public_id, name, kind, phone, assessment_interval_days,"
                " end_of_life_interval_days, ipos_recall_period, flag_thresholds,"
                " relatives_may_record_doses, created_at) VALUES ('u1', 'Team', "
                " 'specialised_palliative', '010', 7, 2, '7d', '{}', false, CURRENT_TIMESTAMP)",
                "INSERT INTO user_account (public_id, email, name, role, active, session_token,"
                " created_at) VALUES ('m1', 'm1@example.org', 'M1', 'manager', true, 't1',"
                " CURRENT_TIMESTAMP)",
                "INSERT INTO audit_event (at, user_id, action, outcome, detail) SELECT"
                " CURRENT_TIMESTAMP, id, 'login', 'ok', 'before' FROM user_account",
            ):
                connection.execute(text(statement))
        upgrade(revision=REVISION)
        with db.engine.begin() as connection:
            before = connection.execute(
                text("SELECT action, detail, api_client_id FROM audit_event")
            ).all()
            assert before == [("login", "before", None)]
            connection.execute(text(
                "INSERT INTO api_client (public_id, unit_id, name, token_hash, created_by_id,"
                " created_at, expires_at) SELECT 'c1', u.id, 'EHR', :digest, m.id,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM care_unit u, user_account m"
            ), {"digest": "a" * 64})
            connection.execute(text(
                "INSERT INTO audit_event (at, action, outcome, detail, api_client_id) SELECT"
                " CURRENT_TIMESTAMP, 'view', 'ok', 'api client c1: Patient read', id"
                " FROM api_client"
            ))
        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            kept = connection.execute(
                text("SELECT action, detail FROM audit_event ORDER BY id")
            ).all()
        assert kept == [("login", "before"), ("view", "api client c1: Patient read")]
        db.engine.dispose()
