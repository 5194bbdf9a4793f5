"""Backup and restore with the commands of docs/operations.md: every row comes back.

Each test migrates a fresh database to head, loads the demo data, backs it up with the
documented method while another connection holds an uncommitted write (the backup is taken
online), restores into another fresh database, runs `flask db upgrade` as the documentation
says, and compares every table of the models row by row.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, make_url, select, text

from pallapp import create_app
from pallapp.demo import load_demo_data
from pallapp.extensions import db
from pallapp.models import CareUnit
from tests.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL, temporary_database_url

# Tables the demo fills; an empty one here would make the comparison say little.
DEMO_TABLES = {
    "care_unit",
    "user_account",
    "unit_membership",
    "patient",
    "patient_unit",
    "relative_link",
    "assessment",
    "flag",
    "care_plan",
    "milestone",
    "prn_order",
    "prn_administration",
}
UNCOMMITTED_UNIT = "Not committed during the backup"

fresh_database = contextlib.contextmanager(temporary_database_url)


def app_for(url: str):  # type: ignore[no-untyped-def]
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": url})


def load_demo(url: str) -> None:
    """The production way to a schema (migrations, not create_all), then the demo data."""
    app = app_for(url)
    with app.app_context():
        upgrade()
        load_demo_data()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def uncommitted_write(url: str) -> Iterator[None]:
    """Another connection writes and has not committed while the backup runs."""
    app = app_for(url)
    with app.app_context():
        db.session.add(CareUnit(name=UNCOMMITTED_UNIT, kind="ward", phone="010"))
        db.session.flush()
        try:
            yield
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()


def table_rows(url: str) -> tuple[dict[str, list[tuple]], str]:
    """Every row of every table of the models, in primary-key order; and the schema revision."""
    app = app_for(url)
    with app.app_context(), db.engine.connect() as connection:
        rows = {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in db.metadata.sorted_tables
        }
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    with app.app_context():
        db.engine.dispose()
    return rows, revision


def upgrade_restored(url: str) -> None:
    """The documented last step of a restore: migrations newer than the backup (none here)."""
    app = app_for(url)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


def assert_same_rows(source_url: str, restored_url: str) -> None:
    source, source_revision = table_rows(source_url)
    restored, restored_revision = table_rows(restored_url)
    assert restored_revision == source_revision
    assert set(restored) == set(source)
    empty = sorted(name for name in DEMO_TABLES if not source[name])
    assert empty == [], f"the demo left these tables empty: {empty}"
    for name, rows in source.items():
        assert len(restored[name]) == len(rows), f"{name}: row count differs"
        for original, copy in zip(rows, restored[name], strict=True):
            assert copy == original, f"{name}: row differs"
    # The backup holds what was committed when it ran, not a write still in progress.
    assert UNCOMMITTED_UNIT not in [value for row in restored["care_unit"] for value in row]


def assert_restored_accepts_new_records(url: str) -> None:
    """Sequences and constraints came back too: the next record gets a new id."""
    app = app_for(url)
    with app.app_context():
        highest = db.session.scalar(select(func.max(CareUnit.id)))
        unit = CareUnit(name="Opened after the restore", kind="ward", phone="010")
        db.session.add(unit)
        db.session.commit()
        assert unit.id > highest
        db.session.remove()
        db.engine.dispose()


# --- SQLite ----------------------------------------------------------------------------------


def test_sqlite_backup_command_then_copy_back(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path, "source") as source_url:
        load_demo(source_url)
        backup_file = tmp_path / "backups" / "pallapp-backup.db"
        backup_file.parent.mkdir()
        with uncommitted_write(source_url):
            result = app_for(source_url).test_cli_runner().invoke(
                args=["backup", str(backup_file)]
            )
        assert result.exit_code == 0, result.output
        assert backup_file.stat().st_mode & 0o077 == 0  # the copy is the owner's only
        assert not list(backup_file.parent.glob("*.partial"))
        with fresh_database("sqlite", tmp_path, "restored") as restored_url:
            # Restore: with the app stopped, the backup file becomes the database file.
            shutil.copyfile(backup_file, make_url(restored_url).database)
            upgrade_restored(restored_url)
            assert_same_rows(source_url, restored_url)
            assert_restored_accepts_new_records(restored_url)


def test_sqlite_shell_backup_then_copy_back(tmp_path: Path) -> None:
    sqlite3_shell = shutil.which("sqlite3")
    if sqlite3_shell is None:
        pytest.skip("the sqlite3 shell is not on PATH; the flask backup command is tested above")
    with fresh_database("sqlite", tmp_path, "source") as source_url:
        load_demo(source_url)
        backup_file = tmp_path / "shell-backup.db"
        with uncommitted_write(source_url):
            subprocess.run(
                [sqlite3_shell, make_url(source_url).database, f".backup '{backup_file}'"],
                check=True,
                capture_output=True,
                timeout=60,
            )
        with fresh_database("sqlite", tmp_path, "restored") as restored_url:
            shutil.copyfile(backup_file, make_url(restored_url).database)
            upgrade_restored(restored_url)
            assert_same_rows(source_url, restored_url)


def test_the_backup_command_refuses_what_it_cannot_do_well(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path, "source") as source_url:
        load_demo(source_url)
        runner = app_for(source_url).test_cli_runner()
        taken = tmp_path / "taken.db"
        taken.write_text("an older backup")
        result = runner.invoke(args=["backup", str(taken)])
        assert result.exit_code != 0
        assert "exists already" in result.output
        assert taken.read_text() == "an older backup"
    no_file = app_for(f"sqlite:///{tmp_path / 'missing.db'}").test_cli_runner()
    result = no_file.invoke(args=["backup", str(tmp_path / "out.db")])
    assert result.exit_code != 0
    assert not (tmp_path / "out.db").exists()
    # No connection is made: the URL alone says it is not SQLite.
    postgres = app_for("postgresql+psycopg://nobody@127.0.0.1:1/none").test_cli_runner()
    result = postgres.invoke(args=["backup", str(tmp_path / "pg.db")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output


# --- PostgreSQL ------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (no '+psycopg' driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_postgres_pg_dump_then_pg_restore_into_an_empty_database(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if pg_dump is None or pg_restore is None:
        pytest.skip("pg_dump and pg_restore are not on PATH (Debian: apt install postgresql-client)")
    environment = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    with fresh_database("postgresql", tmp_path, "source") as source_url:
        load_demo(source_url)
        dump = tmp_path / "pallapp.dump"
        with uncommitted_write(source_url):
            subprocess.run(
                [pg_dump, "--format=custom", f"--file={dump}", libpq_url(source_url)],
                check=True,
                capture_output=True,
                env=environment,
                timeout=120,
            )
        assert dump.stat().st_size > 0
        with fresh_database("postgresql", tmp_path, "restored") as restored_url:
            subprocess.run(
                [
                    pg_restore,
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-owner",
                    "--no-privileges",
                    f"--dbname={libpq_url(restored_url)}",
                    str(dump),
                ],
                check=True,
                capture_output=True,
                env=environment,
                timeout=120,
            )
            upgrade_restored(restored_url)
            assert_same_rows(source_url, restored_url)
            assert_restored_accepts_new_records(restored_url)
