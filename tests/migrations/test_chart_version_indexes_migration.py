"""The chart-version indexes revision with data: the indexes the chart validator, the chart's
audit grouping and the latest ratings read are there after it, the ones on patient_id alone they replace are gone, and
the way back down restores them; the rows are kept both ways."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "d8a3b5c7e1f2"  # the revision this one follows
REVISION = "e3b9c2d4f6a1"


def _indexes() -> dict[str, dict[str, list[str]]]:
    found = inspect(db.engine)
    return {
        table: {index["name"]: index["column_names"] for index in found.get_indexes(table)}
        for table in ("assessment", "prn_administration", "audit_event")
    }


def test_indexes_up_and_down_with_data(empty_database):  # noqa: F811
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_event (at, action, object_type, outcome)"
                    " VALUES (CURRENT_TIMESTAMP, 'login', 'user_account', 'ok')"
                )
            )
        before = _indexes()
        assert before["assessment"]["ix_assessment_patient_id"] == ["patient_id"]
        assert before["audit_event"]["ix_audit_event_patient_id"] == ["patient_id"]
        assert before["assessment"]["ix_assessment_patient_instrument_observed"] == [
            "patient_id", "instrument", "observed_at",
        ]

        upgrade(revision=REVISION)
        after = _indexes()
        assert after["assessment"]["ix_assessment_patient_id_id"] == ["patient_id", "id"]
        assert "ix_assessment_patient_id" not in after["assessment"]
        assert after["prn_administration"]["ix_prn_administration_patient_version"] == [
            "patient_id", "id", "evaluated_at",
        ]
        assert after["audit_event"]["ix_audit_event_patient_user_at"] == ["patient_id", "user_id", "at"]
        assert "ix_audit_event_patient_id" not in after["audit_event"]
        assert after["assessment"]["ix_assessment_patient_instrument_observed_id"] == [
            "patient_id", "instrument", "observed_at", "id",
        ]
        assert "ix_assessment_patient_instrument_observed" not in after["assessment"]

        downgrade(revision=BEFORE)
        assert _indexes() == before
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1
        db.engine.dispose()
