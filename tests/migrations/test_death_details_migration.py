"""The death milestone's two answers (expected death, free of pressure ulcers): the revision
that adds them keeps every existing row (answers unknown), and a downgrade keeps the answers in
the note, from where the next upgrade restores them. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.conftest import DATABASES, temporary_database_url
from tests.migrations.test_migrations import migrated_app

BEFORE = "0339d2a04b2e"  # the revision this one follows
REVISION = "249e7b2e96cb"


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    yield from temporary_database_url(request.param, tmp_path, "death_details")


def _insert_milestones(connection) -> None:
    connection.execute(text(
        "INSERT INTO user_account (id, public_id, email, name, role, password_hash, active,"
        " session_token, created_at) VALUES (1, 'p1', 'doc@example.org', 'Doc', 'physician',"
        " 'x', true, 's1', CURRENT_TIMESTAMP)"
    ))
    connection.execute(text(
        "INSERT INTO patient (id, public_id, personnummer, is_coordination_number, birth_date,"
        " given_name, family_name, main_diagnosis, enrolled_on, phase, created_at) VALUES (1,"
        " 'pa1', '194103149806', false, '1941-03-14', 'Astrid', 'Berg', '', '2026-01-01',"
        " 'deceased', CURRENT_TIMESTAMP)"
    ))
    for number, kind, note in ((1, "death", "Lugnt."), (2, "death", ""), (3, "sip", "Plan.")):
        connection.execute(
            text(
                "INSERT INTO milestone (id, public_id, patient_id, kind, occurred_on,"
                " participants, note, place, recorded_by_id, created_at) VALUES (:id, :pid, 1,"
                " :kind, '2026-02-01', '', :note, :place, 1, CURRENT_TIMESTAMP)"
            ),
            {"id": number, "pid": f"m{number}", "kind": kind, "note": note,
             "place": "home" if kind == "death" else None},
        )


def _rows(connection):
    return {
        row.id: (row.note, row.death_expected, row.free_of_pressure_ulcers)
        for row in connection.execute(text(
            "SELECT id, note, death_expected, free_of_pressure_ulcers FROM milestone ORDER BY id"
        ))
    }


def test_existing_deaths_are_unknown_and_a_downgrade_keeps_the_answers(empty_database):
    app = migrated_app(empty_database)
    with app.app_context():
        from pallapp.extensions import db

        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            _insert_milestones(connection)
        upgrade(revision=REVISION)
        with db.engine.begin() as connection:
            # Rows from before the revision: kept, both answers unknown.
            assert _rows(connection) == {
                1: ("Lugnt.", None, None), 2: ("", None, None), 3: ("Plan.", None, None),
            }
            connection.execute(text(
                "UPDATE milestone SET death_expected = true, free_of_pressure_ulcers = false"
                " WHERE id = 1"
            ))
            connection.execute(text("UPDATE milestone SET death_expected = false WHERE id = 2"))

        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            notes = dict(connection.execute(text("SELECT id, note FROM milestone")).all())
        assert notes == {
            1: "Lugnt.\n\n[Väntat dödsfall: ja. Fri från trycksår vid dödsfallet: nej.]",
            2: "[Väntat dödsfall: nej. Fri från trycksår vid dödsfallet: okänt.]",
            3: "Plan.",  # not a death: untouched
        }

        upgrade(revision=REVISION)
        with db.engine.connect() as connection:
            assert _rows(connection) == {
                1: ("Lugnt.", True, False), 2: ("", False, None), 3: ("Plan.", None, None),
            }
        db.engine.dispose()
