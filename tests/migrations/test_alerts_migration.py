"""The alerts revision with data: existing units get no coverage hours (so nobody is promised
an answer) and a 60-minute response time, accounts keep their reminders on, and the way back
down keeps everything that existed before."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "c4f1a7d2e9b3"  # the revision this one follows (was b7e3c1a94d20 before main's strong-authentication revision)
REVISION = "c4a17e5d0b31"


def test_units_and_accounts_get_safe_defaults_and_survive_both_ways(empty_database):  # noqa: F811
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO care_unit (public_id, name, kind, phone, assessment_interval_days,"
                " end_of_life_interval_days, ipos_recall_period, flag_thresholds,"
                " relatives_may_record_doses, created_at) VALUES ('u1', 'Team', "
                "'specialised_palliative', '010', 7, 2, '7d', '{}', false, CURRENT_TIMESTAMP)"
            ))
            connection.execute(text(
                "INSERT INTO user_account (public_id, email, name, role, active, session_token,"
                " created_at) VALUES ('a1', 'a1@example.org', 'A1', 'patient', true, 't1',"
                " CURRENT_TIMESTAMP)"
            ))
        upgrade(revision=REVISION)
        with db.engine.connect() as connection:
            unit = connection.execute(text(
                "SELECT name, coverage_weekdays, coverage_start, alert_email,"
                " alert_response_minutes FROM care_unit"
            )).one()
            opt_out = connection.execute(text("SELECT reminders_opt_out FROM user_account")).scalar()
        assert tuple(unit) == ("Team", "", None, None, 60)
        assert not opt_out
        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM care_unit")).scalar() == "Team"
            assert connection.execute(text("SELECT email FROM user_account")).scalar() == "a1@example.org"
        db.engine.dispose()
