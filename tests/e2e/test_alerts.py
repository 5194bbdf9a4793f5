"""A severe self-report on a phone, outside and inside the units' coverage hours: whom to call
now from the care plan, or an alert the nurse sees in the app and acknowledges."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import CarePlan, CareUnit, Patient, User
from tests.e2e.pages import AlertsPage, LoginPage, StartPage

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "pallapp-demo"
NIGHT = "Natt och helg: jourhavande sjuksköterska 010-777 77 77"
# Pain 9: in ESAS-r's severe band (7-10), a high flag; everything else mild.
ESAS = {f"item_{code}": 1 for code in (
    "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)} | {"item_pain": 9}


def give_care_plan(live_app, fresh_patient) -> None:  # type: ignore[no-untyped-def]
    with live_app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.public_id == fresh_patient.public_id))
        author = db.session.scalar(select(User).where(User.email == "nurse@example.org"))
        db.session.add(CarePlan(
            patient_id=patient.id, version=1, contacts=f"Dag: teamet 023-49 00 00\n{NIGHT}",
            changed_fields=["contacts"], created_by_id=author.id,
        ))
        db.session.commit()


@contextmanager
def units_covered_around_the_clock(live_app):  # type: ignore[no-untyped-def]
    """Every demo unit reads alerts at all hours for the test, then none again (the demo's
    default, which the other browser tests expect)."""
    def set_cover(days: str) -> None:
        with live_app.app_context():
            for unit in db.session.scalars(select(CareUnit)):
                unit.coverage_weekdays = days
                unit.coverage_start, unit.coverage_end = time(0, 0), time(23, 59, 59, 999999)
            db.session.commit()

    set_cover("1234567")
    try:
        yield
    finally:
        set_cover("")


def report_pain_9(phone, live_server, fresh_patient):  # type: ignore[no-untyped-def]
    LoginPage(phone, live_server).open().log_in(fresh_patient.email, fresh_patient.password)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Hej")
    form = StartPage(phone, live_server).start_self_report("ESAS-r symtomskattning")
    form.answer(ESAS).submit("Skicka")
    return phone.get_by_role("alert").filter(has_text="vårdteam")


def test_outside_coverage_hours_the_patient_sees_the_night_number(
    live_app, live_server, phone, fresh_patient, tmp_path
):
    give_care_plan(live_app, fresh_patient)
    call_now = report_pain_9(phone, live_server, fresh_patient)
    expect(call_now.get_by_role("heading", name="Kontakta ditt vårdteam nu")).to_be_visible()
    expect(call_now.get_by_text(NIGHT)).to_be_visible()
    expect(call_now.get_by_text("1177")).to_be_visible()
    expect(call_now).not_to_contain_text("hör av sig till dig inom")  # no promise
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=str(tmp_path / "severe-outside-coverage.png"), full_page=True)


def test_inside_coverage_hours_a_nurse_sees_the_alert_and_acknowledges_it(
    live_app, live_server, phone, tablet, fresh_patient, tmp_path
):
    give_care_plan(live_app, fresh_patient)
    with units_covered_around_the_clock(live_app):
        told = report_pain_9(phone, live_server, fresh_patient)
        expect(told.get_by_role("heading", name="Ditt vårdteam har fått ett larm")).to_be_visible()
        expect(told).to_contain_text("hör av sig till dig inom 60 minuter")
        expect(told.get_by_text(NIGHT)).to_be_visible()

        LoginPage(tablet, live_server).open().log_in("nurse@example.org", DEMO_PASSWORD).expect_loaded()
        alerts = AlertsPage(tablet, live_server).open()
        expect(alerts.row(fresh_patient.name)).to_contain_text("Svårt symtom")
        alerts.acknowledge(fresh_patient.name)
        expect(tablet.get_by_text("Larmet är kvitterat.")).to_be_visible()
        tablet.screenshot(path=str(tmp_path / "alerts-acknowledged.png"), full_page=True)
