"""The About page names every instrument's owners, as their licences ask (INSTRUMENTS.md,
"Wording"), to anyone, in Swedish and English, without touching patient data."""

from __future__ import annotations

from sqlalchemy import func, select

from pallapp.extensions import db
from pallapp.models import AuditEvent


def audit_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_the_about_page_acknowledges_each_instrument_without_a_login(app, client):
    before = audit_count(app)
    page = client.get("/about", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # One acknowledgement per instrument family the scoring engine knows (INSTRUMENTS.md).
    for owner in ("www.pos-pal.org", "Alberta Health Services", "Abbey J", "Andersson P"):
        assert owner in text
    assert "not the official, licensed wording" in text
    assert audit_count(app) == before  # no patient data, nothing to log


def test_the_about_page_in_swedish_and_linked_from_every_page(client):
    page = client.get("/about", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Om pallapp" in page
    assert "Palliativt utvecklingscentrum" in page
    login = client.get("/login", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert 'href="/about"' in login
