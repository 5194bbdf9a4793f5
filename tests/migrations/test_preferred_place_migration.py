"""The preferred-place revision with data: care plan versions written before it keep their
words and get "not chosen", and the way back down keeps the words."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "c4f1d2e8a9b0"  # the revision this one follows
REVISION = "d8a3b5c7e1f2"


def test_care_plans_keep_their_words_both_ways(empty_database):  # noqa: F811
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO patient (public_id, personnummer, is_coordination_number,"
                " given_name, family_name, birth_date, main_diagnosis, enrolled_on, phase,"
                " created_at) VALUES ('p1', '194103149999', false, 'Alma', 'A', '1941-03-14',"
                " '', '2026-01-01', 'early', CURRENT_TIMESTAMP)",
                "INSERT INTO user_account (public_id, email, name, role, active, session_token,"
                " created_at) VALUES ('n1', 'n1@example.org', 'N1', 'nurse', true, 't1',"
                " CURRENT_TIMESTAMP)",
                "INSERT INTO care_plan (public_id, patient_id, version, goals_and_wishes,"
                " preferred_place_of_care, preferred_place_of_death, contacts,"
                " responsible_nurse, responsible_physician, treatment_limitations,"
                " deterioration_signs, for_patient_and_relatives, changed_fields, created_by_id,"
                " created_at) SELECT 'c1', p.id, 1, '', '', 'Hemma', 'Team', '', '', '', '', '',"
                " '[]', u.id, CURRENT_TIMESTAMP FROM patient p, user_account u",
            ):
                connection.execute(text(statement))
        upgrade(revision=REVISION)
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT preferred_place_of_death, preferred_place_of_death_code FROM care_plan")
            ).all()
        assert rows == [("Hemma", "")]
        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            kept = connection.execute(text("SELECT preferred_place_of_death FROM care_plan")).all()
        assert kept == [("Hemma",)]
        db.engine.dispose()
