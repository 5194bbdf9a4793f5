"""An instrument is one entry: a toy instrument registered in `scoring.INSTRUMENTS` for this
test only, with no other change to the code, can be chosen, filled in and sent, and shows on
the result page, in the history, on the overview and the patient page, in the trends (its chart
with its table, and its heat map) and in the CSV and FHIR exports.

The toy (tests/toy_instrument.py) has three items 0-2 answered by patients, relatives and
staff, a total with an overall band, and the `generic` family without flag rules. Its wording
is not in the catalogue, so the pages show its English msgids; the users read English.
"""

from __future__ import annotations

import csv
import io
import json
from uuid import uuid4

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.forms.instruments import assessment_form_class
from pallapp.models import Assessment, Flag, Role
from tests.app.review.test_trends import column, section
from tests.factories import make_patient, make_unit, make_user
from tests.toy_instrument import TOY_CODE, register_toy

# total = 2 + 1 + 0 = 3: the toy's overall band "Toy troubled" (2-6); item bands: toy_tired 2
# severe, toy_worried 1 mild, toy_lonely 0 none.
ANSWERS = {"toy_tired": 2, "toy_worried": 1, "toy_lonely": 0}


@pytest.fixture
def toy(monkeypatch):
    register_toy(monkeypatch)
    yield
    # The form classes are cached per instrument code: drop the toy's with the toy.
    assessment_form_class.cache_clear()


@pytest.fixture
def world(app, toy):
    with app.app_context():
        unit = make_unit("Team Toy")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], given_name="Tora", family_name="Leksak")
        patient_user = make_user(Role.PATIENT, patient=patient, language="en")
        db.session.commit()
        return {
            "unit": unit.public_id,
            "nurse": nurse.email,
            "patient_user": patient_user.email,
            "patient": patient.public_id,
        }


def _send(client, world, answers=ANSWERS):
    url = f"/patients/{world['patient']}/assessments/new/{TOY_CODE}"
    data = {f"item_{code}": str(value) for code, value in answers.items()}
    data["client_token"] = uuid4().hex
    return client.post(url, data=data)


def test_the_patient_finds_fills_and_sends_the_toy(app, client, auth, world):
    auth.login(world["patient_user"])
    chooser = client.get(f"/patients/{world['patient']}/assessments/new").get_data(as_text=True)
    assert f"/assessments/new/{TOY_CODE}" in chooser
    assert "Toy wellbeing check" in chooser
    assert "A toy form for tests." in chooser
    form = client.get(f"/patients/{world['patient']}/assessments/new/{TOY_CODE}")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    for code in ANSWERS:
        assert f'name="item_{code}"' in page
    assert "Toy loneliness" in page
    response = _send(client, world)
    assert response.status_code == 302
    result = client.get(response.location).get_data(as_text=True)
    assert "Toy total" in result
    assert "Toy troubled" in result
    with app.app_context():
        stored = db.session.scalars(select(Assessment)).one()
        assert (stored.instrument, stored.total, stored.band) == (TOY_CODE, 3, "moderate")
        assert stored.respondent == "patient"  # a self-report form, from its respondents
        # The generic family has no flag rules.
        assert db.session.scalars(select(Flag)).all() == []
    history = client.get(f"/patients/{world['patient']}/assessments").get_data(as_text=True)
    assert "Toy wellbeing check" in history


def test_staff_see_the_toy_in_trends_overview_patient_page_and_exports(app, client, auth, world):
    auth.login(world["nurse"])
    chooser = client.get(f"/patients/{world['patient']}/assessments/new").get_data(as_text=True)
    assert f"/assessments/new/{TOY_CODE}" in chooser
    assert _send(client, world).status_code == 302
    trends = client.get(f"/patients/{world['patient']}/trends?range=2w").get_data(as_text=True)
    # The chart (its heading, image and table) under its code as key, and the heat map of its
    # family with one row per item.
    assert f'aria-labelledby="chart-{TOY_CODE}-heading"' in trends
    assert f"/trends/{TOY_CODE}.svg" in trends
    assert column(section(trends, TOY_CODE), 0) == ["3"]  # its table: the total, 3
    assert 'id="generic_heatmap"' in trends
    for code in ANSWERS:
        assert f'data-item="{code}"' in trends
    svg = client.get(f"/patients/{world['patient']}/trends/{TOY_CODE}.svg?range=2w")
    assert (svg.status_code, svg.mimetype) == (200, "image/svg+xml")
    drawn = svg.get_data(as_text=True)
    assert "Toy total" in drawn
    assert "Score (0–6)" in drawn
    # Its headline result, total 3 of at most 2 + 2 + 2 = 6, with its band, on the patient
    # page and the overview.
    for path in (f"/patients/{world['patient']}", "/overview"):
        page = client.get(path).get_data(as_text=True)
        assert "Toy wellbeing check" in page, path
        assert "Toy total: 3/6" in page, path
        assert "Toy troubled" in page, path

    text = client.post(f"/exports/{world['unit']}/assessments.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [row["instrument"] for row in rows] == [TOY_CODE]
    # One column per item, named by family and item; the total and band as scored.
    assert (rows[0]["total"], rows[0]["band"]) == ("3", "moderate")
    assert [rows[0][f"generic.{code}"] for code in ANSWERS] == ["2", "1", "0"]
    bundle = json.loads(client.post(f"/exports/{world['unit']}/fhir.json").get_data(as_text=True))
    resources = [entry["resource"] for entry in bundle["entry"]]
    questionnaires = [r for r in resources if r["resourceType"] == "Questionnaire"]
    assert any(q["url"].endswith("/Questionnaire/toy-wellbeing") for q in questionnaires)
    observations = {
        r["code"]["coding"][0]["code"]: r for r in resources if r["resourceType"] == "Observation"
    }
    assert observations[f"{TOY_CODE}.total"]["valueQuantity"]["value"] == 3


def test_the_toy_is_gone_after_its_test(client, auth, app):
    with app.app_context():
        unit = make_unit("Team Plain")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit])
        db.session.commit()
        nurse_email, public_id = nurse.email, patient.public_id
    auth.login(nurse_email)
    chooser = client.get(f"/patients/{public_id}/assessments/new").get_data(as_text=True)
    assert TOY_CODE not in chooser
    assert client.get(f"/patients/{public_id}/assessments/new/{TOY_CODE}").status_code == 404
