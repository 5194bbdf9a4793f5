"""Trend charts (pygal SVG, no scripts) with data tables, and the printable patient summary."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AuditEvent, Role
from tests.app.test_review import ESAS_CALM, submit
from tests.app.test_review_overview import IPOS_ITEMS
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def rated(app):
    """A patient with ESAS-r 20 days ago and yesterday, and one IPOS yesterday."""
    with app.app_context():
        unit = make_unit("Team A")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        other = make_user(Role.NURSE, units=[make_unit("Team B")], language="en")
        patient = make_patient([unit], given_name="Greta", family_name="Trend")
        # total = 2 + 8 * 1 = 10
        submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=2), days_ago=20)
        # total = 8 + 5 + 7 * 1 = 20; physical = 8 + 1 + 1 + 5 + 1 + 1 = 17; emotional = 2
        submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=8, nausea=5), days_ago=1)
        # IPOS pain 3 and nausea 2 are the only items ever >= 2.
        submit(
            nurse, patient, "ipos_staff",
            dict.fromkeys(IPOS_ITEMS, 1) | {"pain": 3, "nausea": 2}, days_ago=1,
        )
        db.session.commit()
        return {"patient": patient.public_id, "nurse": nurse.email, "other": other.email}


def section(page: str, key: str) -> str:
    match = re.search(
        rf'<section class="trend" aria-labelledby="chart-{key}-heading">(.*?)</section>', page, re.S
    )
    assert match, key
    return match.group(1)


def column(table_html: str, index: int) -> list[str]:
    """The cells of data column `index` (0: first series) of a trend table."""
    rows = re.findall(r"<tr><th scope=\"row\">.*?</th>(.*?)</tr>", table_html, re.S)
    return [re.findall(r"<td>(.*?)</td>", row)[index] for row in rows]


def test_trends_show_each_instrument_with_a_table(rated, client, auth):
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/trends?range=3m").get_data(as_text=True)
    total = section(page, "esas_total")
    assert ">ESAS-r: symptom distress score, values by date</caption>" in total
    # Series: total, physical, emotional; oldest first.
    assert column(total, 0) == ["10", "20"]
    assert column(total, 1) == ["7", "17"]  # physical 20 days ago: 2 + 5 * 1 = 7
    assert column(total, 2) == ["2", "2"]
    items = section(page, "esas_items")
    assert "Moderate problem from 4; Severe problem from 7" in items
    ipos_items = section(page, "ipos_items")
    headers = re.findall(r'<th scope="col">(.*?)</th>', ipos_items)
    assert headers == ["Date", "Pain", "Nausea"]
    assert column(ipos_items, 0) == ["3"]
    chart_src = f"/patients/{rated['patient']}/trends/esas_items.svg?range=3m"
    assert f'src="{chart_src}"' in page
    assert "abbey" not in re.findall(r'aria-labelledby="chart-(\w+)-heading"', page)
    # Open flags, each with an acknowledge link: ESAS-r severe_item (pain 8), moderate_item
    # (nausea 5), item_rise (pain 2 -> 8, nausea 1 -> 5), total_rise (10 -> 20); IPOS
    # severe_item (pain 3).
    assert page.count("ack-link") == 5


def test_the_range_limits_the_ratings(rated, client, auth):
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/trends?range=2w").get_data(as_text=True)
    assert column(section(page, "esas_total"), 0) == ["20"]  # the one 20 days ago is outside
    everything = client.get(f"/patients/{rated['patient']}/trends?range=all").get_data(as_text=True)
    assert column(section(everything, "esas_total"), 0) == ["10", "20"]
    assert client.get(f"/patients/{rated['patient']}/trends?range=1y").status_code == 404


def test_charts_are_svg_without_scripts(app, rated, client, auth):
    auth.login(rated["nurse"])
    for key in ("esas_items", "esas_total", "ipos_subscales", "ipos_items"):
        response = client.get(f"/patients/{rated['patient']}/trends/{key}.svg?range=3m")
        assert response.status_code == 200, key
        assert response.mimetype == "image/svg+xml"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        body = response.get_data(as_text=True)
        assert "<svg" in body
        assert "<script" not in body
    svg = client.get(f"/patients/{rated['patient']}/trends/esas_total.svg").get_data(as_text=True)
    assert "ESAS-r: symptom distress score" in svg
    assert client.get(f"/patients/{rated['patient']}/trends/abbey.svg").status_code == 404
    assert client.get(f"/patients/{rated['patient']}/trends/nope.svg").status_code == 404
    with app.app_context():
        kinds = db.session.scalars(select(AuditEvent.object_type).where(AuditEvent.action == "view"))
        assert "trend_chart" in set(kinds)


def test_summary_shows_latest_ratings_and_open_flags(app, rated, client, auth):
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/summary").get_data(as_text=True)
    assert "Patient summary: Greta Trend" in page
    assert "review.css" in page  # print styles
    # Only the latest ESAS-r (20), not the earlier one (10).
    assert "Symptom distress score: 20/90" in page
    assert "Symptom distress score: 10/90" not in page
    assert "Total score: 20/68" in page  # IPOS: 15 * 1 + 3 + 2 = 20
    assert page.count('class="flag flag-high"') == 2  # severe_item: ESAS pain 8, IPOS pain 3
    # ESAS-r moderate_item (nausea 5), item_rise (pain +6, nausea +4), total_rise (+10).
    assert page.count('class="flag flag-medium"') == 3
    with app.app_context():
        kinds = set(db.session.scalars(select(AuditEvent.object_type)))
    assert "patient_summary" in kinds


def test_another_units_nurse_gets_404_for_charts(rated, client, auth):
    auth.login(rated["other"])
    assert client.get(f"/patients/{rated['patient']}/trends/esas_total.svg").status_code == 404


def test_a_corrected_rating_shows_only_in_its_corrected_version(app, rated, client, auth):
    from uuid import uuid4

    from pallapp.assessments.services import correct_assessment
    from pallapp.models import Assessment, Patient, User

    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == rated["nurse"]))
        patient = db.session.scalar(select(Patient).where(Patient.public_id == rated["patient"]))
        latest = db.session.scalar(
            select(Assessment)
            .where(Assessment.patient_id == patient.id, Assessment.instrument == "esas_r")
            .order_by(Assessment.observed_at.desc())
        )
        # Corrected: pain 8 -> 6, nausea 5; total = 6 + 5 + 7 * 1 = 18.
        correct_assessment(
            nurse, patient.public_id, latest.public_id,
            answers=dict(ESAS_CALM, pain=6, nausea=5), reason="typo", client_token=uuid4().hex,
        )
        db.session.commit()
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/trends?range=3m").get_data(as_text=True)
    assert column(section(page, "esas_total"), 0) == ["10", "18"]
