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


def test_models_and_migrations_agree(empty_database):
    app = migrated_app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []
