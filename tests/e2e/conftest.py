"""Browser tests: a live pallapp with demo data on a free port, and Chromium via Playwright.

Chromium: $PALLAPP_CHROMIUM, else Debian's /usr/bin/chromium, else Playwright's own download
(`playwright install chromium`).
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from pallapp import create_app
from pallapp.demo import load_demo_data
from pallapp.extensions import db
from pallapp.models import CareUnit, Role

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str | None:
    configured = os.environ.get("PALLAPP_CHROMIUM")
    if configured:
        return configured
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own browser


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application with demo data, on a SQLite file shared with `live_server`."""
    path = tmp_path_factory.mktemp("e2e") / "e2e.db"
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        load_demo_data()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    with serving(live_app) as base_url:
        yield base_url


@dataclass(frozen=True)
class FreshPatient:
    """A patient with no ratings yet, followed by both demo units, with a login of their own."""

    name: str
    family_name: str
    public_id: str
    email: str
    password: str


_fresh = itertools.count(1)


@pytest.fixture
def fresh_patient(live_app: Flask) -> FreshPatient:
    """A new patient per test, so the flags a test expects depend on its own answers only."""
    from tests.factories import PASSWORD, make_patient, make_user

    with live_app.app_context():
        units = list(db.session.scalars(select(CareUnit).order_by(CareUnit.id)))
        # A family name no other one starts with, so a search finds exactly this patient.
        patient = make_patient(units, given_name="Elsa", family_name=f"Provsson{next(_fresh):04d}")
        user = make_user(Role.PATIENT, patient=patient)
        fresh = FreshPatient(
            patient.name, patient.family_name, patient.public_id, user.email, PASSWORD
        )
        db.session.commit()
    return fresh


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def tablet(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A 1024x768 tablet in Swedish, as nurses carry on home visits."""
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, locale="sv-SE", has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A 375x667 phone in Swedish."""
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, locale="sv-SE", has_touch=True, is_mobile=True
    )
    page = context.new_page()
    yield page
    context.close()
