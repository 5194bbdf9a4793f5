"""The relative-link revision with data: links written before it get an opaque id, keep
everything else, and the way back down loses nothing that existed before."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pallapp.extensions import db
from tests.migrations.test_migrations import empty_database, migrated_app  # noqa: F401

BEFORE = "249e7b2e96cb"  # the revision this one follows
REVISION = "b7e3c1a94d20"


def test_relative_links_get_public_ids_and_survive_both_ways(empty_database):  # noqa: F811
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
                " created_at) VALUES ('r1', 'r1@example.org', 'R1', 'relative', true, 't1',"
                " CURRENT_TIMESTAMP), ('r2', 'r2@example.org', 'R2', 'relative', true, 't2',"
                " CURRENT_TIMESTAMP)",
            ):
                connection.execute(text(statement))
            connection.execute(
                text(
                    "INSERT INTO relative_link (relative_id, patient_id, relation,"
                    " may_answer_as_proxy, may_view_history, created_at) SELECT u.id, p.id,"
                    " 'son', true, false, CURRENT_TIMESTAMP FROM user_account u, patient p"
                )
            )
        upgrade(revision=REVISION)
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT public_id, relation, revoked_reason FROM relative_link")
            ).all()
        assert len(rows) == 2
        assert all(len(public_id) == 16 for public_id, _, _ in rows)  # 12 random bytes
        assert len({public_id for public_id, _, _ in rows}) == 2
        assert {(relation, reason) for _, relation, reason in rows} == {("son", None)}

        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            kept = connection.execute(text("SELECT relation FROM relative_link")).all()
        assert kept == [("son",), ("son",)]
        db.engine.dispose()
