"""The latest-rating index revision with data: (patient_id, instrument, observed_at, id) is there
after it, the index without the id it replaces is gone, and the way back down restores it; the
rows are kept both ways."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "e3b9c2d4f6a1"  # the revision this one follows
REVISION = "f2a6c8e1b7d3"


def _indexes() -> dict[str, list[str]]:
    return {index["name"]: index["column_names"] for index in inspect(db.engine).get_indexes("assessment")}


def test_index_up_and_down_with_data(empty_database):  # noqa: F811
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
        assert before["ix_assessment_patient_instrument_observed"] == [
            "patient_id", "instrument", "observed_at",
        ]

        upgrade(revision=REVISION)
        after = _indexes()
        assert after["ix_assessment_patient_instrument_observed_id"] == [
            "patient_id", "instrument", "observed_at", "id",
        ]
        assert "ix_assessment_patient_instrument_observed" not in after

        downgrade(revision=BEFORE)
        assert _indexes() == before
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1
        db.engine.dispose()
