"""Issue 5's data on the review pages: doses and milestones on the trend charts, care-plan
contacts, orders in force and the last day's doses on the printable summary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.extensions import db
from pallapp.models import Role, utcnow
from pallapp.timeutil import today_local
from tests.app.review.test_overview import MIDAZOLAM, MORPHINE
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def cared(app):
    """One patient with a care plan, orders for pain and anxiety, doses and two milestones."""
    with app.app_context():
        unit = make_unit("Team Falun")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        patient = make_patient([unit], family_name="Planned")
        pid = patient.public_id
        submit(nurse, patient, "esas_r", ESAS_CALM, days_ago=5)
        submit(nurse, patient, "esas_r", ESAS_CALM, days_ago=1)
        plan_service.save_care_plan(
            nurse, pid,
            {"contacts": "Team Falun, 010-123 45 67, day and night",
             "responsible_nurse": "Sara Sjuksköterska", "goals_and_wishes": "Be at home"},
            based_on=None,
        )
        now = utcnow()
        pain = order_service.create_order(physician, pid, MORPHINE, start_at=now - timedelta(days=4))
        anxiety = order_service.create_order(
            physician, pid, MIDAZOLAM, start_at=now - timedelta(days=4)
        )
        for order, hours_ago, token in ((pain, 3, "a"), (pain, 50, "b"), (anxiety, 2, "c")):
            dose_service.record_dose(
                nurse, pid, order.public_id, given_at=now - timedelta(hours=hours_ago),
                dose="2,5", dose_unit="mg", route="sc", client_token=f"review-careplan-{token}",
            )
        milestone_service.record_milestone(
            physician, pid, kind="svas_held", occurred_on=today_local() - timedelta(days=3)
        )
        db.session.commit()
        return {"pid": pid, "nurse": nurse.email, "physician": physician.email}


def test_summary_shows_contacts_orders_and_the_last_days_doses(cared, client, auth):
    auth.login(cared["physician"])
    page = client.get(f"/patients/{cared['pid']}/summary").get_data(as_text=True)
    assert "Team Falun, 010-123 45 67, day and night" in page
    assert "Sara Sjuksköterska" in page
    assert "Be at home" not in page  # goals are in the care plan, not under "whom to call"
    assert page.count('<li class="order">') == 2
    assert "Morfin" in page
    assert "Midazolam" in page
    # Doses 3 and 2 hours ago are in the last 24 hours; the one 50 hours ago is not.
    assert page.count('<li class="dose">') == 2


def test_trends_name_milestones_and_doses_by_indication(cared, client, auth):
    auth.login(cared["nurse"])
    page = client.get(f"/patients/{cared['pid']}/trends?range=2w").get_data(as_text=True)
    assert "Serious illness conversation held" in page
    assert "Pain, number of doses: 2" in page  # 3 and 50 hours ago, both within two weeks
    assert "Anxiety, number of doses: 1" in page
    svg = client.get(f"/patients/{cared['pid']}/trends/esas_total.svg?range=2w")
    text = svg.get_data(as_text=True)
    assert "As-needed doses: Pain" in text
    assert "As-needed doses: Anxiety" in text
    assert "Serious illness conversation held" in text
