"""A nurse's whole home visit, counted: IPOS staff, Abbey, ROAG and one as-needed dose.

Counted as a person would feel it, on a phone and a tablet in Swedish with touch: taps (every
press of a pointer: answers, Nästa, Spara, links, the dose field) and page loads (documents
loaded in the tab). "Before" is the route through the patient page after every form (the only
one before the visit links); "after" follows "Nästa: …" from each result page. Both store
exactly the same: three assessments and one dose, checked in the database.

Each form takes one tap per answer and one to save: it moves on from a step by itself once the
step's answers are given (tests/e2e/test_form_taps.py counts every instrument alone). With a
"Nästa" at each step boundary (IPOS staff 3 steps, Abbey 2, ROAG 2) the visit took 52 taps
before and 48 after the links; without them, 48 and 44. Page loads: 14 and 10.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from pallapp.careplan import orders as careplan_orders
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import Assessment, CareUnit, Patient, PrnAdministration, Role, User, utcnow
from tests.e2e.pages import AssessmentFormPage, LoginPage
from tests.e2e.test_assessments import ABBEY, DEMO_PASSWORD, IPOS_STAFF, ROAG

pytestmark = pytest.mark.e2e

OUT = Path(__file__).resolve().parents[2] / "instance" / "visit-flow"
VISIT = (
    ("IPOS (personalversion)", IPOS_STAFF),
    ("Abbey Pain Scale (smärtskattning)", ABBEY),
    ("ROAG munbedömning", ROAG),
)
MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg",
    route="sc", min_interval_minutes=60, max_doses_per_24h=6,
)
# Every tap with a pointer, counted in the page (the count survives navigations in the tab).
COUNT_TAPS = """
addEventListener("pointerdown", function (event) {
  if (event.isTrusted) {
    sessionStorage.setItem("taps", String(Number(sessionStorage.getItem("taps") || 0) + 1));
  }
}, true);
"""


@pytest.fixture(params=["phone", "tablet"])
def device(request: pytest.FixtureRequest) -> Page:
    return request.getfixturevalue(request.param)


@dataclass
class Counted:
    taps: int
    loads: int


def patient_with_an_order(live_app: Flask, family_name: str) -> tuple[str, str]:
    from tests.factories import make_patient

    with live_app.app_context():
        units = list(db.session.scalars(select(CareUnit).order_by(CareUnit.id)))
        patient = make_patient(units, given_name="Greta", family_name=family_name)
        physician = db.session.scalar(select(User).where(User.role == Role.PHYSICIAN))
        careplan_orders.create_order(
            physician, patient.public_id, MORPHINE, start_at=utcnow() - timedelta(days=1)
        )
        db.session.commit()
        result = (patient.public_id, patient.name)
        db.session.remove()
        return result


def stored_counts(live_app: Flask, public_id: str) -> tuple[int, int]:
    with live_app.app_context():
        patient_id = db.session.scalar(select(Patient.id).where(Patient.public_id == public_id))
        assessments = db.session.scalar(
            select(func.count(Assessment.id)).where(Assessment.patient_id == patient_id)
        )
        doses = db.session.scalar(
            select(func.count(PrnAdministration.id)).where(
                PrnAdministration.patient_id == patient_id
            )
        )
        db.session.remove()
        return assessments, doses


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    page.wait_for_load_state("load")


def result_shown(page: Page, title: str) -> None:
    heading(page, title)
    expect(page.locator("form[data-assessment]")).to_have_count(0)


def give_dose(page: Page, name: str) -> None:
    page.locator("#orders").get_by_role("link", name="Registrera given dos").first.click()
    heading(page, "Registrera given dos")
    amount = page.get_by_label("Given dos", exact=True)
    amount.click()  # a tap into the field, then the keyboard
    amount.fill("2,5")
    page.get_by_role("button", name="Spara dosen").click()
    heading(page, name)


def run_visit(page: Page, live_server: str, public_id: str, name: str, *, links: bool) -> Counted:
    loads = []
    page.on("load", lambda _: loads.append(1))
    page.goto(f"{live_server}/patients/{public_id}")
    heading(page, name)
    page.evaluate("sessionStorage.setItem('taps', '0')")
    start = len(loads)
    for number, (title, answers) in enumerate(VISIT):
        if number == 0 or not links:
            page.get_by_role("link", name="Ny skattning").first.click()
            page.get_by_role("link", name=title, exact=True).click()
        else:
            page.get_by_role("link", name=f"Nästa: {title}").click()
        form = AssessmentFormPage(page, live_server).wait_until_ready()
        form.answer(answers).submit("Spara")
        result_shown(page, title)
        if not links:
            page.get_by_role("link", name="Tillbaka till patienten").click()
            heading(page, name)
    if links:
        page.get_by_role("link", name="Nästa: registrera given vid behovsdos").click()
        heading(page, name)
    give_dose(page, name)
    taps = int(page.evaluate("sessionStorage.getItem('taps')"))
    return Counted(taps=taps, loads=len(loads) - start)


def test_a_home_visit_takes_fewer_taps_and_page_loads_with_the_visit_links(
    live_app, live_server, device, request
):
    device.context.add_init_script(COUNT_TAPS)
    width = device.viewport_size["width"]
    before_id, before_name = patient_with_an_order(live_app, f"Besöksdottir{width}a")
    after_id, after_name = patient_with_an_order(live_app, f"Besöksdottir{width}b")
    LoginPage(device, live_server).open().log_in("nurse@example.org", DEMO_PASSWORD)
    heading(device, "I dag")

    before = run_visit(device, live_server, before_id, before_name, links=False)
    after = run_visit(device, live_server, after_id, after_name, links=True)

    # The same clinical result both ways: three assessments and one dose each.
    assert stored_counts(live_app, before_id) == (3, 1)
    assert stored_counts(live_app, after_id) == (3, 1)
    # Two taps and two loads fewer per later form (no patient page, no chooser); the dose
    # costs the same tap to reach the patient page's orders.
    assert after.taps < before.taps
    assert after.loads < before.loads
    # Each form: one tap per answer and one to save (IPOS staff 17 + 1, Abbey 6 items and the
    # pain type + 1, ROAG 9 + 1); the dose: the order's link, the dose field, save (3).
    forms = (17 + 1) + (7 + 1) + (9 + 1)
    dose = 3
    # After: Ny skattning and the form's link (2), a "Nästa: …" link to each next form (2) and
    # to the dose (1). Before: Ny skattning and the form's link for each form (3 × 2) and
    # "Tillbaka till patienten" after each (3).
    assert after.taps == forms + dose + 2 + 2 + 1  # 36 + 3 + 5 = 44
    assert before.taps == forms + dose + 3 * 2 + 3  # 36 + 3 + 9 = 48
    # Loads after the patient page: after, the chooser once, each form and its result (3 × 2),
    # the patient page, the dose form and the patient page again; before, the chooser, the
    # form, its result and the patient page for each form (3 × 4), then the dose form and back.
    assert after.loads == 1 + 3 * 2 + 1 + 2  # = 10
    assert before.loads == 3 * 4 + 2  # = 14
    OUT.mkdir(parents=True, exist_ok=True)
    figures = {"viewport": f"{width}x{device.viewport_size['height']}",
               "before": before.__dict__, "after": after.__dict__}
    (OUT / f"visit-{width}.json").write_text(json.dumps(figures, indent=2))
    print(figures)
