"""Quality indicators per unit and period: the figures on a hand-built unit, who may see
them, the patient lists behind each figure, the CSV export and a constant query count.

The unit "Team" has these patients; the period is the last 30 days (today - 29 .. today):

    A  early phase. ESAS-r 5 days ago, ROAG 5 days ago, care plan, orders for all four
       indications, serious illness conversation held 10 days ago.
    B  IPOS (staff) 3 days ago, care plan, orders for pain and anxiety only, serious illness
       conversation offered, brytpunktssamtal 10 days ago (-> end-of-life phase).
    C  never rated, no care plan, no orders, put in the end-of-life phase without a
       brytpunktssamtal recorded.
    D  ROAG 25 days ago, Abbey 7 days ago, care plan, orders for all four indications,
       brytpunktssamtal 15 days ago, died 5 days ago, bereavement conversation offered.
    E  ESAS-r 12 days ago, no orders, died 2 days ago (the rating is 10 days before death).
    F  died 40 days ago: before the period, not counted.
    X  in another unit only: not counted (and not visible to the unit's manager).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pallapp.careplan import services as careplan_services
from pallapp.careplan.services import OrderDetails
from pallapp.extensions import db
from pallapp.models import AuditEvent, Phase, Role
from pallapp.timeutil import today_local
from tests.app.test_review import ESAS_CALM, submit
from tests.app.test_review_overview import ABBEY_ITEMS, IPOS_ITEMS, ROAG_ITEMS, count_queries
from tests.factories import link_relative, make_patient, make_unit, make_user

ORDERS = {
    "pain": OrderDetails(indication="pain", drug="Morfin", dose="2,5", dose_unit="mg", route="sc"),
    "nausea": OrderDetails(
        indication="nausea", drug="Haloperidol", dose="0,5", dose_unit="mg", route="sc"
    ),
    "anxiety": OrderDetails(
        indication="anxiety", drug="Midazolam", dose="2,5", dose_unit="mg", route="sc"
    ),
    "death_rattle": OrderDetails(
        indication="death_rattle", drug="Glykopyrron", dose="0,2", dose_unit="mg", route="sc"
    ),
}
ALL_FOUR = tuple(ORDERS)


def days_ago(days: int):
    return today_local() - timedelta(days=days)


def order(physician, patient, indications=ALL_FOUR):
    for indication in indications:
        careplan_services.create_order(
            physician, patient.public_id, ORDERS[indication],
            start_at=careplan_services.utcnow() - timedelta(days=20),
        )


def plan(nurse, patient):
    careplan_services.save_care_plan(
        nurse, patient.public_id, {"contacts": "Team, 010-123 45 67"}, based_on=None
    )


def milestone(physician, patient, kind, days, **kwargs):
    careplan_services.record_milestone(
        physician, patient.public_id, kind=kind, occurred_on=days_ago(days), **kwargs
    )


@pytest.fixture
def unit_world(app):
    with app.app_context():
        unit = make_unit("Team")
        other = make_unit("Elsewhere")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit, other], language="en")
        manager = make_user(Role.MANAGER, units=[unit], language="en")
        other_nurse = make_user(Role.NURSE, units=[other], language="en")
        admin = make_user(Role.ADMIN, language="en")

        a = make_patient([unit], family_name="Anderson")
        submit(nurse, a, "esas_r", ESAS_CALM, days_ago=5)
        submit(nurse, a, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=5)
        plan(nurse, a)
        order(physician, a)
        milestone(physician, a, "svas_held", 10)

        b = make_patient([unit], family_name="Berg")
        submit(nurse, b, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 1), days_ago=3)
        plan(nurse, b)
        order(physician, b, ("pain", "anxiety"))
        milestone(physician, b, "svas_offered", 12)
        milestone(physician, b, "brytpunktssamtal", 10)

        c = make_patient([unit], family_name="Carlsson")
        c.phase = Phase.END_OF_LIFE.value

        d = make_patient([unit], family_name="Dahl")
        submit(nurse, d, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=25)
        submit(nurse, d, "abbey", dict.fromkeys(ABBEY_ITEMS, 0), days_ago=7)
        plan(nurse, d)
        order(physician, d)
        milestone(physician, d, "brytpunktssamtal", 15)
        milestone(physician, d, "death", 5, place="home")
        milestone(physician, d, "efterlevandesamtal_offered", 1)

        e = make_patient([unit], family_name="Ek")
        submit(nurse, e, "esas_r", ESAS_CALM, days_ago=12)
        milestone(physician, e, "death", 2, place="hospital")

        f = make_patient([unit], family_name="Fors")
        milestone(physician, f, "death", 40, place="home")

        x = make_patient([other], family_name="Xenakis")  # noqa: F841 - only in the other unit
        submit(physician, x, "esas_r", ESAS_CALM, days_ago=1)

        self_user = make_user(Role.PATIENT, patient=a)
        relative = make_user(Role.RELATIVE)
        link_relative(relative, a, history=True)
        db.session.commit()
        return {
            "unit": unit.public_id,
            "other": other.public_id,
            "emails": {
                "nurse": nurse.email, "physician": physician.email, "manager": manager.email,
                "other_nurse": other_nurse.email, "admin": admin.email,
                "patient": self_user.email, "relative": relative.email,
            },
        }


def figures(page: str) -> dict[str, str]:
    """indicator code -> 'n of m' as shown."""
    rows = re.findall(
        r'<tr class="indicator" data-indicator="([a-z_]+)">.*?<a [^>]*>(\d+ of \d+)<', page, re.S
    )
    return dict(rows)


EXPECTED = {
    # 5 patients in the unit in the period: A, B, C, D, E (F died before it; X is elsewhere).
    "symptom_rated": "4 of 5",  # A ESAS-r, B IPOS, D Abbey, E ESAS-r; C never rated
    "care_plan": "3 of 5",  # A, B, D
    # Orders in force on the last day (A, B, C) or the day of death (D, E): A and D have all 4.
    "orders_all_four": "2 of 5",
    "order_pain": "3 of 5",  # A, B, D
    "order_nausea": "2 of 5",  # A, D
    "order_anxiety": "3 of 5",  # A, B, D
    "order_death_rattle": "2 of 5",  # A, D
    "roag": "2 of 5",  # A 5 days ago, D 25 days ago (in the period)
    "svas_offered": "2 of 5",  # A (held, so offered), B (offered)
    "svas_held": "1 of 5",  # A
    # End-of-life or deceased: B, C, D, E; brytpunktssamtal recorded for B and D.
    "brytpunktssamtal": "2 of 4",
    # Died in the period: D (5 days ago) and E (2 days ago).
    "rated_last_week": "1 of 2",  # D Abbey 2 days before death; E's ESAS-r was 10 days before
    "roag_last_week": "0 of 2",  # D's ROAG was 20 days before death
    "orders_at_death": "1 of 2",  # D had all four; E none
    "efterlevandesamtal_offered": "1 of 2",  # D
}


def period_args() -> str:
    return f"start={days_ago(29).isoformat()}&end={today_local().isoformat()}"


def period_form() -> dict[str, str]:
    """The same period for the posted CSV download."""
    return {"start": days_ago(29).isoformat(), "end": today_local().isoformat()}


def test_the_figures_of_a_hand_built_unit(unit_world, client, auth):
    auth.login(unit_world["emails"]["manager"])
    page = client.get(f"/quality?unit={unit_world['unit']}&{period_args()}").get_data(as_text=True)
    assert figures(page) == EXPECTED
    assert "Patients in the unit during the period: 5." in page
    # 4 of 5 = 80 %, below the 100 % target; ROAG in the last week 0 of 2 = 0 %.
    assert "80 %" in page
    assert "Below target" in page
    assert "0 %" in page


def test_the_default_period_is_the_last_90_days(unit_world, client, auth):
    auth.login(unit_world["emails"]["nurse"])
    page = client.get("/quality").get_data(as_text=True)
    # F died 40 days ago: within the last 90 days, so now 6 patients and 3 deaths.
    assert "Patients in the unit during the period: 6." in page
    assert figures(page)["efterlevandesamtal_offered"] == "1 of 3"


def test_a_figure_lists_the_patients_it_counts_and_misses(unit_world, client, auth, app):
    auth.login(unit_world["emails"]["physician"])
    url = f"/quality/{unit_world['unit']}/symptom_rated?{period_args()}"
    response = client.get(url)
    page = response.get_data(as_text=True)
    missed = page.split('patients-missed">')[1].split("</ul>")[0]
    counted = page.split('patients-counted">')[1].split("</ul>")[0]
    assert "Carlsson" in missed
    for name in ("Anderson", "Berg", "Dahl", "Ek"):
        assert name in counted
    assert "Xenakis" not in page
    assert "Fors" not in page
    with app.app_context():
        logged = db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.object_type == "quality_patients")
        ).all()
    assert len(logged) == 5
    # The list of those who died in the period shows (and logs) only D and E.
    page = client.get(f"/quality/{unit_world['unit']}/orders_at_death?{period_args()}")
    assert "Ek" in page.get_data(as_text=True)
    with app.app_context():
        logged = db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.object_type == "quality_patients")
        ).all()
    assert len(logged) == 5 + 2


def test_an_unknown_indicator_or_a_bad_period_is_not_found(unit_world, client, auth):
    auth.login(unit_world["emails"]["manager"])
    assert client.get(f"/quality/{unit_world['unit']}/no_such?{period_args()}").status_code == 404
    future = (today_local() + timedelta(days=3)).isoformat()
    page = client.get(f"/quality?unit={unit_world['unit']}&start={days_ago(3)}&end={future}")
    assert page.status_code == 200
    assert "The period cannot end in the future." in page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["patient", "relative", "admin"])
def test_patients_relatives_and_admins_get_404(unit_world, client, auth, who):
    auth.login(unit_world["emails"][who])
    unit = unit_world["unit"]
    assert client.get("/quality").status_code == 404
    assert client.get(f"/quality/{unit}/care_plan?{period_args()}").status_code == 404
    assert client.post(f"/exports/{unit}/quality.csv", data=period_form()).status_code == 404


def test_a_nurse_of_another_unit_sees_nothing_of_this_unit(unit_world, client, auth):
    auth.login(unit_world["emails"]["other_nurse"])
    unit = unit_world["unit"]
    assert client.get(f"/quality?unit={unit}&{period_args()}").status_code == 404
    assert client.get(f"/quality/{unit}/care_plan?{period_args()}").status_code == 404
    assert client.post(f"/exports/{unit}/quality.csv", data=period_form()).status_code == 404
    # Their own unit: only X, rated yesterday.
    page = client.get(f"/quality?{period_args()}").get_data(as_text=True)
    assert "Patients in the unit during the period: 1." in page
    assert figures(page)["symptom_rated"] == "1 of 1"


def test_the_csv_export_has_every_figure_and_is_audited(unit_world, client, auth, app):
    auth.login(unit_world["emails"]["manager"])
    response = client.post(f"/exports/{unit_world['unit']}/quality.csv", data=period_form())
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    by_code = {row["indicator"]: row for row in rows}
    assert {code: f"{r['numerator']} of {r['denominator']}" for code, r in by_code.items()} == EXPECTED
    rated = by_code["symptom_rated"]
    assert (rated["unit"], rated["period_start"], rated["period_end"]) == (
        "Team", days_ago(29).isoformat(), today_local().isoformat(),
    )
    assert (rated["percent"], rated["target"], rated["meets_target"]) == ("80.0", "100 %", "no")
    assert by_code["roag"]["target"] == "> 90 %"
    assert by_code["roag_last_week"]["percent"] == "0.0"
    assert by_code["rated_last_week"]["group"] == "deceased"
    assert "Anderson" not in response.get_data(as_text=True)  # counts only
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent.object_type).where(AuditEvent.action == "export")
        ).all()
    # One event per patient counted (5) and one for the unit.
    assert exported.count("quality_indicators") == 5
    assert exported.count("care_unit") == 1


def test_the_csv_leaves_the_percentage_empty_without_patients(app, client, auth):
    with app.app_context():
        unit = make_unit("Empty")
        manager = make_user(Role.MANAGER, units=[unit])
        db.session.commit()
        unit_id, email = unit.public_id, manager.email
    auth.login(email)
    text = client.post(f"/exports/{unit_id}/quality.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 15
    assert all(row["denominator"] == "0" for row in rows)
    assert all(row["percent"] == "" and row["meets_target"] == "" for row in rows)


def test_the_query_count_does_not_grow_with_patients(app, client, auth):
    with app.app_context():
        unit = make_unit("Counted unit")
        nurse = make_user(Role.NURSE, units=[unit])
        physician = make_user(Role.PHYSICIAN, units=[unit])
        manager = make_user(Role.MANAGER, units=[unit], language="en")  # the checks read English
        db.session.commit()
        ids = {"unit": unit.id, "nurse": nurse.id, "physician": physician.id}
        email = manager.email

    def add_patients(number, *, died: bool):
        from pallapp.models import CareUnit, User

        with app.app_context():
            unit = db.session.get(CareUnit, ids["unit"])
            nurse = db.session.get(User, ids["nurse"])
            physician = db.session.get(User, ids["physician"])
            for index in range(number):
                patient = make_patient([unit], family_name="Counted")
                submit(nurse, patient, "esas_r", ESAS_CALM, days_ago=3)
                submit(nurse, patient, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=3)
                plan(nurse, patient)
                order(physician, patient)
                milestone(physician, patient, "brytpunktssamtal", 5)
                if died and index % 2 == 0:
                    milestone(physician, patient, "death", 1, place="home")
                    milestone(physician, patient, "efterlevandesamtal_offered", 0)
            db.session.commit()

    auth.login(email)
    add_patients(3, died=True)
    queries_3, page_3 = count_queries(app, client, "/quality")
    add_patients(9, died=True)
    queries_12, page_12 = count_queries(app, client, "/quality")
    assert "Patients in the unit during the period: 3." in page_3
    assert "Patients in the unit during the period: 12." in page_12
    assert queries_3 == queries_12


def test_the_demo_gives_figures_with_shortfalls_to_look_at(app, client, auth):
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    auth.login("manager@example.org", "pallapp-demo")
    client.post("/language", data={"language": "en"})  # the checks read the English page
    page = client.get("/quality").get_data(as_text=True)
    found = figures(page)
    # The palliative team: 20 patients (12 own, 8 shared), 6 of them without a care plan.
    assert found["care_plan"] == "14 of 20"
    # Two died in the last 90 days; the bereavement conversation offered for one of them.
    assert found["efterlevandesamtal_offered"] == "1 of 2"
    assert found["orders_at_death"] == "1 of 2"  # the second had no nausea order
    assert "Below target" in page
    assert "Meets target" in page
