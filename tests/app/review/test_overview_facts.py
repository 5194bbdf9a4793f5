"""The facts kept per rating (`common._rating_facts`): each rating's worst band, worked out once
per rating, and a corrected rating (a new version with a new id) giving new facts, so the
overview orders and shows the corrected band at once.

Bands by hand from INSTRUMENTS.md: ESAS-r items 0 none, 1-3 mild, 4-6 moderate, 7-10 severe."""

from __future__ import annotations

import json
from uuid import uuid4

from sqlalchemy import select

from pallapp.assessments.services import correct_assessment
from pallapp.extensions import db
from pallapp.models import Assessment, Role, User
from pallapp.review.common import NO_BAND_RANK, _rating_facts
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user


def test_the_worst_item_band_of_a_rating_and_its_rank() -> None:
    scores = json.dumps({"item_bands": {"pain": "moderate", "nausea": "severe", "tiredness": "mild"}})
    # severe ranks 0 (worst), before moderate 1 and mild 2.
    assert _rating_facts(1, True, "mild", scores) == (0, "severe")
    # An instrument without item bands (Abbey) ranks by its overall band: mild is rank 2.
    assert _rating_facts(2, False, "mild", json.dumps({})) == (2, "mild")
    # No band of the ranked scale (ROAG's "healthy"), or no item bands: no band at all.
    assert _rating_facts(3, False, "healthy", None) == (NO_BAND_RANK, None)
    assert _rating_facts(4, True, None, json.dumps({})) == (NO_BAND_RANK, None)
    # An unknown item band ranks as "none" (3), the first such band named.
    assert _rating_facts(5, True, None, json.dumps({"item_bands": {"a": "odd", "b": "none"}})) == (3, "odd")


def test_a_correction_gives_new_facts_and_the_overview_shows_them(app, client, auth) -> None:
    with app.app_context():
        unit = make_unit("Facts unit")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        patient = make_patient([unit], family_name="Alm")
        # Pain 8: ESAS-r item band severe (7-10).
        first = submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=8), days_ago=1)
        db.session.commit()
        first_id = first.id
        emails = (nurse.email, physician.email)
        public_id = patient.public_id
    auth.login(emails[1])
    page = client.get("/overview").get_data(as_text=True)
    assert 'class="heat-cell band-severe worst-band"' in page  # the facts of the first version kept
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == emails[0]))
        # Corrected to pain 6 (moderate, 4-6); every other item 1 (mild): worst band moderate.
        correct_assessment(
            nurse, public_id, db.session.get(Assessment, first_id).public_id,
            answers=dict(ESAS_CALM, pain=6), reason="typo", client_token=uuid4().hex,
        )
        db.session.commit()
        corrected = db.session.scalar(
            select(Assessment).where(Assessment.supersedes_id == first_id)
        )
        assert corrected is not None
        assert corrected.id != first_id
    page = client.get("/overview").get_data(as_text=True)
    assert 'class="heat-cell band-moderate worst-band"' in page
    assert "band-severe worst-band" not in page
