"""`flask` commands: demo data, reminder flags, SQLite backups and translation upkeep."""

from __future__ import annotations

import os
import sqlite3
import subprocess  # noqa: S404  (runs pybabel, a fixed local tool, with fixed arguments)
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

ROOT = Path(__file__).resolve().parent.parent


def register_commands(app: Flask) -> None:
    app.cli.add_command(demo_data)
    app.cli.add_command(reminders)
    app.cli.add_command(notify)
    app.cli.add_command(backup)
    # `translate` is registered as a plugin command (pyproject.toml), so it runs without an app.


@click.command("demo-data")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has care units.")
def demo_data(if_empty: bool) -> None:
    """Load demo care units, staff, patients and relatives (never in production)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(
            "Demo data is never loaded in production. Set PALLAPP_ENV_NAME=development."
        )
    from pallapp.demo import DemoDataExists, load_demo_data
    from pallapp.extensions import db

    try:
        summary = load_demo_data(skip_if_present=if_empty)
    except DemoDataExists as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(summary)


@click.command("reminders")
@with_appcontext
@click.option("--no-email", is_flag=True, help="Only the reminder flags; queue no e-mail.")
def reminders(no_email: bool) -> None:
    """Open due reminder flags (missing as-needed orders, overdue assessments) and close those
    no longer due; queue a reminder e-mail to each patient and relative with a report due (at
    most one per person and day). Safe to run as often as wanted, on several hosts at once:
    it never duplicates a flag or a message. `flask notify` sends what is queued."""
    from pallapp.extensions import db
    from pallapp.flags import evaluate_all_reminders
    from pallapp.models import utcnow
    from pallapp.reporting.services import enqueue_reminders

    changes = evaluate_all_reminders()
    db.session.commit()
    click.echo(f"Reminder flags: {changes.opened} opened, {changes.closed} closed.")
    if not no_email:
        queued = enqueue_reminders(utcnow())
        db.session.commit()
        click.echo(f"Reminder e-mails queued: {queued}.")


@click.command("notify")
@with_appcontext
@click.option("--quiet", is_flag=True, help="Only the summary line.")
@click.option(
    "--every",
    type=click.IntRange(min=10),
    default=None,
    help="Run as a long-running worker: repeat every this many seconds until stopped.",
)
def notify(quiet: bool, every: int | None) -> None:
    """Escalate alerts not acknowledged in time, then send every queued message (alerts,
    escalations, reminders). Run it every few minutes from cron, or once with --every as a
    worker; several hosts may run it at once: each message is claimed by one sender and sent
    once."""
    import time

    while True:
        _notify_once(quiet)
        if every is None:
            return
        time.sleep(every)


def _notify_once(quiet: bool) -> None:
    from pallapp.alerts.delivery import sender_for
    from pallapp.alerts.outbox import deliver_due
    from pallapp.alerts.services import escalate_due
    from pallapp.extensions import db
    from pallapp.models import utcnow

    escalated = escalate_due(utcnow())
    db.session.commit()
    config = current_app.config
    report = deliver_due(
        utcnow(),
        lambda channel: sender_for(channel, config),
        progress=None if quiet else click.echo,
    )
    db.session.remove()  # a worker must not keep a session (and its snapshot) between runs
    click.echo(f"Alerts escalated: {escalated}. Messages: {report}.")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Copy the SQLite database to PATH while the app keeps running (SQLite's online backup:
    a consistent copy of what was committed). PostgreSQL is backed up with pg_dump instead;
    see docs/operations.md."""
    from pallapp.extensions import db

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "This command backs up SQLite only. For PostgreSQL use pg_dump --format=custom "
            "(docs/operations.md)."
        )
    if not url.database or url.database == ":memory:":
        raise click.ClickException("The database is in memory; there is no file to back up.")
    source_path = Path(url.database).resolve()
    if not source_path.is_file():
        raise click.ClickException(f"No database file at {source_path}.")
    if path.exists():
        raise click.ClickException(f"{path} exists already; choose a new file name.")
    # Written next to the target first and renamed only when complete and checked, so a
    # failed backup never leaves a file that looks like a good one. The copy holds every
    # patient record: readable by the owner only.
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    try:
        source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
            source.close()
        if check != "ok":
            raise click.ClickException(f"The copy failed its integrity check: {check}")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    click.echo(f"Backed up {source_path} to {path}.")


def _pybabel(*args: str) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    subprocess.run(command, check=True, cwd=ROOT)  # noqa: S603


@click.group()
def translate() -> None:
    """Extract, update and compile the translation catalogues (wraps pybabel)."""


@translate.command()
def update() -> None:
    """Extract every marked string and merge it into the catalogues."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "N_",
        "-k",
        "NC_:1c,2",
        "--no-location",
        "--sort-output",
        "-o",
        "translations/messages.pot",
        ".",
    )
    _pybabel(
        "update",
        "-i",
        "translations/messages.pot",
        "-d",
        "translations",
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


@translate.command()
def compile() -> None:  # noqa: A001  (the command is called compile)
    """Compile the catalogues to .mo files."""
    _pybabel("compile", "-d", "translations", "--statistics")


@translate.command()
@click.argument("language")
def init(language: str) -> None:
    """Start a catalogue for a new language."""
    _pybabel("init", "-i", "translations/messages.pot", "-d", "translations", "-l", language)
