"""Migrations: empty -> head -> base on SQLite and PostgreSQL, with data; models agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pallapp import create_app
from pallapp.extensions import db
from tests.conftest import DATABASES, temporary_database_url


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    yield from temporary_database_url(request.param, tmp_path, "migrations")


def migrated_app(url):
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": url})


def test_upgrade_to_head_and_back_to_base(empty_database):
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "care_unit",
            "user_account",
            "patient",
            "patient_unit",
            "relative_link",
            "invitation",
            "audit_event",
            "unit_membership",
            "assessment",
            "flag",
            "alembic_version",
        } <= tables

        # Data survives the way up; the way down removes every table again.
        from pallapp.demo import load_demo_data

        load_demo_data()
        db.session.commit()
        assert db.session.execute(text("SELECT COUNT(*) FROM patient")).scalar() == 30
        db.session.remove()

        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade()  # and up again, on the emptied database
        assert "patient" in inspect(db.engine).get_table_names()
        db.engine.dispose()


FIRST_REVISION = "5fdad6ba8b6e"


def test_later_revisions_upgrade_a_database_with_data(empty_database):
    """Each revision must cope with rows written under the one before (e.g. NOT NULL columns)."""
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade(revision=FIRST_REVISION)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO care_unit (public_id, name, kind, phone, assessment_interval_days,"
                    " end_of_life_interval_days, created_at) VALUES ('u1', 'Team', 'ward',"
                    " '010', 7, 2, CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT ipos_recall_period FROM care_unit")).one()
        assert row[0] == "7d"
        db.engine.dispose()


def test_models_and_migrations_agree(empty_database):
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []
