"""Long histories are shown a page at a time (pallapp.paging): every row on exactly one page,
newest first, open flags before closed ones, and nonsense page numbers handled."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

from pallapp.assessments import services as assessment_services
from pallapp.extensions import db
from pallapp.models import Assessment, Flag, Role, utcnow
from pallapp.paging import PAGE_SIZE
from tests.factories import make_patient, make_unit, make_user

_tokens = count(1)
ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
RATINGS = PAGE_SIZE + 5  # one full page and five more


@pytest.fixture
def long_history(app):
    """RATINGS ESAS-r ratings half a day apart; every second one has pain 8, which raises a
    high `severe_item` flag (8 >= 7, INSTRUMENTS.md) so there are more flags than one page."""
    with app.app_context():
        unit = make_unit("Team A")
        patient = make_patient([unit])
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        for index in range(RATINGS):
            pain = 8 if index % 2 == 0 else 1
            assessment_services.submit_assessment(
                nurse, patient.public_id, instrument="esas_r",
                answers=dict.fromkeys(ESAS_ITEMS, 1) | {"pain": pain},
                client_token=f"paging-{next(_tokens):026d}",
                observed_at=utcnow() - timedelta(hours=12 * (RATINGS - index)),
            )
        # Close the oldest flag, so one closed flag must come after every open one.
        oldest = db.session.scalars(
            select(Flag).where(Flag.patient_id == patient.id).order_by(Flag.created_at, Flag.id)
        ).first()
        oldest.closed_at = utcnow()
        oldest.close_reason = "acknowledged"
        oldest.note = "Seen"
        db.session.commit()
        return {"patient": patient.public_id, "nurse": nurse.email, "patient_id": patient.id}


def _ids(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


def test_history_pages_hold_every_assessment_once_newest_first(app, long_history, client, auth):
    auth.login(long_history["nurse"])
    base = f"/patients/{long_history['patient']}/assessments"
    first = client.get(base).get_data(as_text=True)
    second = client.get(base + "?page=2").get_data(as_text=True)
    link = re.escape(base) + r"/([\w-]+)\""
    on_first, on_second = _ids(first, link), _ids(second, link)
    assert len(on_first) == PAGE_SIZE
    assert len(on_second) == RATINGS - PAGE_SIZE
    with app.app_context():
        newest_first = list(db.session.scalars(
            select(Assessment.public_id)
            .where(Assessment.patient_id == long_history["patient_id"])
            .order_by(Assessment.observed_at.desc())
        ))
    assert on_first + on_second == newest_first
    assert 'rel="next"' in first
    assert "Older" in first
    assert 'rel="prev"' not in first
    assert 'rel="prev"' in second
    assert "Newer" in second
    assert 'rel="next"' not in second


def test_flag_pages_show_open_flags_first(app, long_history, client, auth):
    auth.login(long_history["nurse"])
    base = f"/patients/{long_history['patient']}/flags"
    pages = [client.get(base).get_data(as_text=True)]
    pages.append(client.get(base + "?page=2").get_data(as_text=True))
    shown = [flag for page in pages for flag in _ids(page, r'id="flag-([\w-]+)"')]
    with app.app_context():
        flags = db.session.scalars(
            select(Flag).where(Flag.patient_id == long_history["patient_id"])
        ).all()
        closed = [f.public_id for f in flags if f.closed_at is not None]
    # 28 ratings with pain 8 (index 0, 2, ..., 54) each raise severe_item; the calm ones
    # in between raise none, and pain 1 -> 8 is a rise of 7 >= 2: item_rise too (27 of them,
    # the first has no previous rating). More than one page either way.
    assert len(flags) > PAGE_SIZE
    assert sorted(shown) == sorted(f.public_id for f in flags)
    assert shown[-len(closed):] == closed  # the closed one comes last


@pytest.mark.parametrize("page", ["abc", "0", "-3", "²", "1.5"])
def test_a_page_number_that_is_not_one_shows_the_first_page(long_history, client, auth, page):
    auth.login(long_history["nurse"])
    base = f"/patients/{long_history['patient']}/assessments"
    link = re.escape(base) + r"/([\w-]+)\""
    shown = _ids(client.get(f"{base}?page={page}").get_data(as_text=True), link)
    assert shown == _ids(client.get(base).get_data(as_text=True), link)
    assert len(shown) == PAGE_SIZE


def test_past_the_last_page_is_not_found(long_history, client, auth):
    auth.login(long_history["nurse"])
    for path in ("assessments", "flags"):
        assert client.get(f"/patients/{long_history['patient']}/{path}?page=9999").status_code == 404
