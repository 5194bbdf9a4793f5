"""The chart score columns revision with data: ratings stored before it get their subscales and
ROAG's highest grade in the generated columns (whatever shape their scores have), ratings
stored after it too, and the way back down drops the columns and keeps the rows."""

from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "e3b9c2d4f6a1"  # the revision this one follows
REVISION = "f5c8a1d3e7b2"

SCORES = {
    "ipos": {"total": 22, "subscales": {"physical": 12, "emotional": 6}, "max_grade": None},
    "roag": {"total": None, "subscales": {}, "max_grade": 3, "item_bands": {"lips": "mild"}},
    "no_parts": {"total": 4},
    "a_list": [1, 2],
}


def _insert_rating(connection, number: int, scores: object) -> None:
    connection.execute(
        text(
            "INSERT INTO assessment (public_id, patient_id, instrument, instrument_version,"
            " respondent, entered_by_id, observed_at, created_at, answers, scores,"
            " scoring_version, client_token) VALUES (:public_id, 1, 'ipos_patient', 'v1',"
            " 'patient', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '{}', :scores, '1', :token)"
        ),
        {"public_id": f"a{number}", "scores": json.dumps(scores), "token": f"t{number}"},
    )


def _generated() -> dict[str, tuple[object, object]]:
    """public_id -> (chart_subscales, chart_max_grade), decoded from their JSON text."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT public_id, CAST(chart_subscales AS TEXT), CAST(chart_max_grade AS TEXT)"
                " FROM assessment ORDER BY id"
            )
        ).all()
    return {
        public_id: tuple(None if part is None else json.loads(part) for part in parts)
        for public_id, *parts in rows
    }


def test_chart_score_columns_up_and_down_with_data(empty_database):  # noqa: F811
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO user_account (id, public_id, email, name, role, active,"
                    " session_token, created_at) VALUES (1, 'u1', 'n@example.org', 'N', 'nurse',"
                    " true, 's', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO patient (id, public_id, personnummer, is_coordination_number,"
                    " given_name, family_name, birth_date, main_diagnosis, enrolled_on, phase,"
                    " created_at) VALUES (1, 'p1', '194001019999', false, 'A', 'B',"
                    " '1940-01-01', 'C', '2026-01-01', 'early', CURRENT_TIMESTAMP)"
                )
            )
            for number, scores in enumerate(SCORES.values()):
                _insert_rating(connection, number, scores)
        assert "chart_subscales" not in {c["name"] for c in inspect(db.engine).get_columns("assessment")}

        upgrade(revision=REVISION)
        with db.engine.begin() as connection:
            _insert_rating(connection, 9, SCORES["roag"])
        # A missing part, or scores that are no object, give no value (a JSON null on SQLite,
        # which the JSON type reads as None too).
        assert _generated() == {
            "a0": ({"physical": 12, "emotional": 6}, None),
            "a1": ({}, 3),
            "a2": (None, None),
            "a3": (None, None),
            "a9": ({}, 3),  # written after the revision: kept by the database as well
        }

        downgrade(revision=BEFORE)
        columns = {c["name"] for c in inspect(db.engine).get_columns("assessment")}
        assert not columns & {"chart_subscales", "chart_max_grade"}
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM assessment")).scalar() == 5
        db.engine.dispose()
