"""The patient page for staff: the actions first, the latest score of each instrument with its
band and date, and open flags grouped by rule with dates and sources."""

from __future__ import annotations

import re

import pytest

from pallapp.extensions import db
from pallapp.models import Role
from tests.app.review.test_overview import IPOS_ITEMS
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def repeated(app):
    """ESAS-r pain 8 three times (three severe_item flags), IPOS staff with pain 3."""
    with app.app_context():
        unit = make_unit("Team A")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], given_name="Rut", family_name="Repeat")
        for days_ago in (3, 2, 1):
            submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=8), days_ago=days_ago)
        # IPOS staff: 16 * 0 + 3 = 3.
        submit(nurse, patient, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 0) | {"pain": 3}, days_ago=1)
        db.session.commit()
        return {"patient": patient.public_id, "nurse": nurse.email}


def test_patient_page_shows_latest_scores_and_grouped_flags(repeated, client, auth):
    auth.login(repeated["nurse"])
    page = client.get(f"/patients/{repeated['patient']}").get_data(as_text=True)
    # The actions come before the scores and the flags.
    assert page.index("New assessment") < page.index("Latest scores") < page.index("Open flags")
    latest = page[page.index('id="latest-heading"'):page.index('id="flags-heading"')]
    # ESAS-r total: 8 + 8 * 1 = 16 of 90; IPOS staff total 3 of 68, each with its date.
    assert "Symptom distress score: 16/90" in latest
    assert "IPOS (staff version)" in latest
    assert "Total score: 3/68" in latest
    assert latest.count('class="meta"') >= 2
    # Three ESAS-r severe_item flags and one IPOS one: one group, four times, both sources.
    groups = re.findall(r'<details class="flag flag-high" data-code="severe_item">(.*?)</details>', page, re.S)
    assert len(groups) == 1
    assert "4 times, first" in groups[0]
    assert "ESAS-r symptom rating" in groups[0]
    assert "IPOS (staff version)" in groups[0]
