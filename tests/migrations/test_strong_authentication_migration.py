"""The strong-authentication revision with data: accounts and units written before it keep
everything, units start with "password alone" off, and the way back down keeps them."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "b7e3c1a94d20"  # the revision this one follows
REVISION = "c4f1a7d2e9b3"


def test_accounts_and_units_survive_both_ways(empty_database):  # noqa: F811
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO care_unit (public_id, name, kind, phone, assessment_interval_days,"
                " end_of_life_interval_days, ipos_recall_period, flag_thresholds,"
                " relatives_may_record_doses, created_at) VALUES ('u1', 'Team', 'ward', '010',"
                " 7, 2, '7d', '{}', false, CURRENT_TIMESTAMP)"
            ))
            connection.execute(text(
                "INSERT INTO user_account (public_id, email, name, role, password_hash, active,"
                " session_token, created_at) VALUES ('n1', 'n1@example.org', 'N1', 'nurse',"
                " 'hash', true, 't1', CURRENT_TIMESTAMP)"
            ))
        upgrade(revision=REVISION)
        with db.engine.begin() as connection:
            assert connection.execute(
                text("SELECT name, password_alone_allowed FROM care_unit")
            ).all() == [("Team", False)]
            assert connection.execute(text(
                "SELECT email, password_hash, identity_provider, identity_claim, totp_secret"
                " FROM user_account"
            )).all() == [("n1@example.org", "hash", None, None, None)]
            connection.execute(text(
                "UPDATE user_account SET identity_provider = 'staff', identity_claim = 'SE1'"
            ))
            connection.execute(text(
                "INSERT INTO recovery_code (user_id, code_hash, created_at)"
                " SELECT id, 'digest', CURRENT_TIMESTAMP FROM user_account"
            ))

        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            kept = connection.execute(text("SELECT email, password_hash FROM user_account")).all()
            units = connection.execute(text("SELECT name FROM care_unit")).all()
        assert kept == [("n1@example.org", "hash")]
        assert units == [("Team",)]
        db.engine.dispose()
