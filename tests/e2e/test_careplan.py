"""Issue 5 in a real browser, in Swedish, on a tablet: the care plan, the four standard
as-needed ("vid behov") orders, doses given with the warn-and-confirm check, their effect, and
who sees what.

Every page of a flow is checked with axe-core (no serious or critical violation) and for
horizontal scrolling. The flow under test goes through the UI; preconditions (an order, a care
plan) are made through the services as the demo physician, as `fresh_patient` makes the patient.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from pallapp.careplan import doses as dose_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.extensions import db
from pallapp.models import Flag, Patient, PrnAdministration, PrnOrder, User, utcnow
from pallapp.timeutil import STOCKHOLM
from tests.e2e.pages import HomeVisitPage, LoginPage, OrderFormPage
from tests.e2e.test_nurse_phone import serious_violations

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "pallapp-demo"
PHYSICIAN = "physician@example.org"  # Dr Helena Ek, palliative team only
NURSE = "nurse@example.org"  # Sara Lind, both demo units

CONTACTS = (
    "Dagtid: Specialiserad palliativ vård Dalarna, 023-49 00 00\n"
    "Kväll och natt: jourhavande sjuksköterska, 023-49 00 10"
)
CARE_PLAN = {
    "Mål och önskemål": "Vara hemma med sin katt, utan smärta.",
    "Önskad vårdplats": "Hemma",
    "Önskad plats att dö på": "Hemma",
    "Vem man ringer, dag och natt": CONTACTS,
    "Ansvarig sjuksköterska": "Sara Lind",
    "Ansvarig läkare": "Dr Helena Ek",
    "Vård som ges": "Vård i hemmet med symtomlindring; ingen överflyttning till sjukhus.",
    "Tecken på försämring och vad som ska göras": "Ökad smärta eller oro: ring jouren.",
    "Till patienten och närstående": "Ring oss när som helst, också på natten.",
}
# Staff-only parts: the patient's start page must not show them.
TREATMENT = CARE_PLAN["Vård som ges"]
SIGNS = CARE_PLAN["Tecken på försämring och vad som ska göras"]

SC = "subkutant (s.c.)"
# What the physician writes for each quick-add indication (the app proposes none of it).
STANDARD_ORDERS = {
    "Smärta": {"drug": "Morfin", "strength": "10 mg/ml", "dose": "2,5", "unit": "mg"},
    "Illamående": {"drug": "Haloperidol", "strength": "5 mg/ml", "dose": "0,5", "unit": "mg"},
    "Ångest": {"drug": "Midazolam", "strength": "5 mg/ml", "dose": "2,5", "unit": "mg"},
    "Rosslig andning": {"drug": "Glykopyrron", "strength": "0,2 mg/ml", "dose": "0,2", "unit": "mg"},
}

WARNING = "Varning: den här dosen är utanför ordinationens gränser"
OVER_LIMIT_FLAG = "Dos utanför ordinationens gränser"


def checked(page: Page) -> None:
    """axe-core finds nothing serious, and the page fits the tablet's width."""
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def staff_opens(page: Page, live_server: str, email: str, fresh_patient) -> HomeVisitPage:  # type: ignore[no-untyped-def]
    today = LoginPage(page, live_server).open().log_in(email, DEMO_PASSWORD)
    today.expect_loaded().search(fresh_patient.family_name)
    return today.open_home_visit(fresh_patient.name, fresh_patient.family_name)


def patient_url(live_server: str, fresh_patient, rest: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"{live_server}/patients/{fresh_patient.public_id}{rest}"


# --- preconditions, through the services as the demo physician --------------------------------


def _physician() -> User:
    return db.session.scalar(select(User).where(User.email == PHYSICIAN))


def pain_order_exists(live_app: Flask, fresh_patient, days_ago: int = 0) -> str:  # type: ignore[no-untyped-def]
    """Morfin 2,5 mg s.c., at least 1 hour apart, at most 2 doses in 24 h, in force from now
    (or `days_ago`); its public id."""
    start_at = utcnow() - timedelta(days=days_ago) if days_ago else None
    with live_app.app_context():
        order = order_service.create_order(
            _physician(),
            fresh_patient.public_id,
            order_service.OrderDetails(
                indication="pain",
                drug="Morfin",
                strength="10 mg/ml",
                dose="2,5",
                dose_unit="mg",
                route="sc",
                min_interval_minutes=60,
                max_doses_per_24h=2,
            ),
            start_at=start_at,
        )
        public_id = order.public_id
        db.session.commit()
    return public_id


def care_plan_exists(live_app: Flask, fresh_patient) -> None:  # type: ignore[no-untyped-def]
    fields = {
        "goals_and_wishes": CARE_PLAN["Mål och önskemål"],
        "contacts": CONTACTS,
        "responsible_nurse": CARE_PLAN["Ansvarig sjuksköterska"],
        "responsible_physician": CARE_PLAN["Ansvarig läkare"],
        "treatment_limitations": TREATMENT,
        "deterioration_signs": SIGNS,
        "for_patient_and_relatives": CARE_PLAN["Till patienten och närstående"],
    }
    with live_app.app_context():
        plan_service.save_care_plan(_physician(), fresh_patient.public_id, fields, based_on=None)
        db.session.commit()


def count_of(live_app: Flask, model: type[PrnAdministration] | type[PrnOrder], fresh_patient) -> int:  # type: ignore[no-untyped-def]
    with live_app.app_context():
        return db.session.scalar(
            select(func.count(model.id))
            .join(Patient, Patient.id == model.patient_id)
            .where(Patient.public_id == fresh_patient.public_id)
        )


# --- the flows -----------------------------------------------------------------------------


def test_physician_writes_the_care_plan_and_the_four_standard_orders(
    live_server, tablet, fresh_patient
):
    home = staff_opens(tablet, live_server, PHYSICIAN, fresh_patient)
    checked(tablet)

    plan = home.open_care_plan()
    expect(tablet.get_by_text("Ingen vårdplan är skriven ännu.")).to_be_visible()
    checked(tablet)
    form = plan.write()
    checked(tablet)
    plan = form.fill(CARE_PLAN).save()
    expect(tablet.get_by_role("status")).to_contain_text("Vårdplanen är sparad.")
    expect(tablet.locator("p.lead")).to_contain_text("version 1")
    assert plan.fact("Vård som ges") == TREATMENT
    checked(tablet)

    home = plan.back_to_patient(fresh_patient.name)
    contacts = home.care_plan_fact("Vem man ringer, dag och natt")
    assert "023-49 00 00" in contacts
    assert "jourhavande sjuksköterska, 023-49 00 10" in contacts
    assert home.care_plan_fact("Ansvarig sjuksköterska") == "Sara Lind"
    assert home.care_plan_fact("Ansvarig läkare") == "Dr Helena Ek"

    orders = home.open_orders()
    expect(tablet.get_by_text("Ingen vid behovsordination gäller.")).to_be_visible()
    checked(tablet)
    for indication, written in STANDARD_ORDERS.items():
        order_form = orders.quick_add(indication)
        # Quick-add fills in the indication only: no drug, strength, dose, unit or limit.
        assert order_form.indication_checked(indication)
        for label in (
            OrderFormPage.DRUG,
            OrderFormPage.STRENGTH,
            OrderFormPage.DOSE,
            OrderFormPage.UNIT,
            OrderFormPage.INTERVAL,
            OrderFormPage.MAX_24H,
        ):
            assert order_form.value(label) == "", f"{indication}: {label} was pre-filled"
        checked(tablet)
        orders = order_form.fill(
            **written, route=SC, interval_hours="1", max_per_24h="2"
        ).save()
        expect(tablet.get_by_role("status")).to_contain_text("Ordinationen är sparad.")
    checked(tablet)

    home = orders.back_to_patient(fresh_patient.name)
    assert sorted(home.order_titles()) == sorted(STANDARD_ORDERS)
    pain = home.order("Smärta")
    expect(pain).to_contain_text("Morfin 10 mg/ml · 2,5 mg · subkutant (s.c.)")
    expect(pain).to_contain_text("minst 1 tim mellan doser · högst 2 doser per dygn")
    expect(pain).to_contain_text("Ordinerat av Dr Helena Ek")
    expect(home.order("Rosslig andning")).to_contain_text("Glykopyrron 0,2 mg/ml · 0,2 mg")
    checked(tablet)


def test_nurse_records_doses_is_warned_before_the_interval_and_evaluates_later(
    live_server, live_app, tablet, fresh_patient
):
    pain_order_exists(live_app, fresh_patient)
    home = staff_opens(tablet, live_server, NURSE, fresh_patient)
    checked(tablet)

    # The first dose: within the order, stored at once.
    dose_form = home.record_dose("Smärta")
    expect(tablet.locator("dl.facts")).to_contain_text("minst 1 tim mellan doser")
    checked(tablet)
    home = dose_form.give("2,5").save(fresh_patient.name)
    expect(tablet.get_by_role("status")).to_contain_text("Dosen är sparad.")
    expect(home.order("Smärta")).to_contain_text("Doser senaste dygnet: 1")
    expect(home.order("Smärta").locator("li", has_text="2,5 mg")).to_have_count(1)
    assert count_of(live_app, PrnAdministration, fresh_patient) == 1
    expect(home.evaluate_links()).to_have_count(1)
    first_dose = home.evaluate_links().get_attribute("href")
    checked(tablet)

    # The second dose right away, before the minimum interval: warned in words, not stored.
    dose_form = home.record_dose("Smärta").give("2,5").save_expecting_warning()
    warning = dose_form.warning()
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("minst 1 tim mellan doserna")
    expect(warning).to_contain_text(re.compile(r"föregående dos gavs bara \d+ min före den här"))
    expect(warning).to_contain_text("Inget har sparats.")
    checked(tablet)
    assert count_of(live_app, PrnAdministration, fresh_patient) == 1

    # Ticked, but no reason: still not stored, and the reason is asked for.
    dose_form.confirm(reason=None).save_expecting_warning()
    expect(dose_form.warning()).to_be_visible()
    expect(
        tablet.get_by_text("Skriv varför dosen gavs utanför ordinationens gränser.")
    ).to_be_visible()
    checked(tablet)
    assert count_of(live_app, PrnAdministration, fresh_patient) == 1

    # Ticked with a reason: stored, with a high-priority flag for the care team.
    home = dose_form.confirm(reason="Genombrottssmärta vid förflyttning.").save(fresh_patient.name)
    assert count_of(live_app, PrnAdministration, fresh_patient) == 2
    expect(home.order("Smärta")).to_contain_text("Doser senaste dygnet: 2")
    over_limit = home.flags().filter(has_text=OVER_LIMIT_FLAG)
    expect(over_limit).to_have_count(1)
    expect(over_limit).to_contain_text("Hög prioritet")
    expect(home.evaluate_links()).to_have_count(2)
    checked(tablet)

    # Later: the effect of the first dose. Its reminder goes; the second dose's stays.
    evaluate = home.evaluate(first_dose)
    checked(tablet)
    home = evaluate.record("Bättre", fresh_patient.name)
    expect(tablet.get_by_role("status")).to_contain_text("Effekten är sparad.")
    expect(tablet.locator(f"a[href='{first_dose}']")).to_have_count(0)
    expect(home.evaluate_links()).to_have_count(1)
    expect(home.order("Smärta").get_by_text("effekt: Bättre")).to_have_count(1)
    checked(tablet)


def test_patient_sees_whom_to_call_but_not_the_orders(
    live_server, live_app, tablet, fresh_patient
):
    care_plan_exists(live_app, fresh_patient)
    order_id = pain_order_exists(live_app, fresh_patient)

    LoginPage(tablet, live_server).open()
    tablet.get_by_label("E-post").fill(fresh_patient.email)
    tablet.get_by_label("Lösenord").fill(fresh_patient.password)
    tablet.get_by_role("button", name="Logga in").click()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Hej")
    tablet.wait_for_load_state("load")
    assert tablet.url.endswith("/start")
    checked(tablet)

    contacts = tablet.locator("section.card").filter(
        has=tablet.get_by_role("heading", name="Vem man ringer, dag och natt")
    )
    expect(contacts).to_contain_text("Dagtid: Specialiserad palliativ vård Dalarna, 023-49 00 00")
    expect(contacts).to_contain_text("Kväll och natt: jourhavande sjuksköterska, 023-49 00 10")
    expect(contacts).to_contain_text("Din sjuksköterska: Sara Lind")
    expect(contacts).to_contain_text("Din läkare: Dr Helena Ek")
    expect(tablet.get_by_text("Ring oss när som helst, också på natten.")).to_be_visible()
    # Neither the orders nor the staff-only parts of the care plan.
    for hidden in ("Morfin", "Vid behovsordinationer", TREATMENT, SIGNS):
        expect(tablet.get_by_text(hidden)).to_have_count(0)

    # Their own record page shows the same contacts, no orders; the orders do not exist for them.
    response = tablet.goto(patient_url(live_server, fresh_patient))
    assert response.status == 200
    tablet.wait_for_load_state("load")
    expect(tablet.get_by_text("Dagtid: Specialiserad palliativ vård Dalarna", exact=False)).to_be_visible()
    expect(tablet.get_by_text("Morfin")).to_have_count(0)
    checked(tablet)
    for rest in ("/orders", f"/orders/{order_id}/dose"):
        response = tablet.goto(patient_url(live_server, fresh_patient, rest))
        assert response.status == 404, rest
        expect(tablet.get_by_role("heading", level=1)).to_have_text("Sidan hittades inte")


def test_nurse_cannot_create_or_change_an_order(live_server, live_app, tablet, fresh_patient):
    order_id = pain_order_exists(live_app, fresh_patient)
    home = staff_opens(tablet, live_server, NURSE, fresh_patient)
    checked(tablet)
    pain = home.order("Smärta")
    expect(pain.get_by_role("link", name="Registrera given dos")).to_be_visible()
    for physicians_only in ("Ändra", "Sätt ut"):
        expect(pain.get_by_role("link", name=physicians_only, exact=True)).to_have_count(0)

    home.open_orders()
    checked(tablet)
    expect(tablet.get_by_role("heading", name="Ny ordination")).to_have_count(0)
    for quick_add in ("Smärta", "Illamående", "Ångest", "Rosslig andning", "Annan indikation"):
        expect(tablet.get_by_role("link", name=quick_add, exact=True)).to_have_count(0)

    # Nor by going to the forms directly, with a valid CSRF token from the nurse's own session.
    token = tablet.locator("input[name='csrf_token']").first.get_attribute("value")
    order_fields = {
        "csrf_token": token,
        "indication": "pain",
        "drug": "Oxikodon",
        "dose": "5",
        "dose_unit": "mg",
        "route": "sc",
        "min_interval": "1",
        "max_doses_per_24h": "6",
        "reason": "Försök",
    }
    new_order = patient_url(live_server, fresh_patient, "/orders/new")
    change = patient_url(live_server, fresh_patient, f"/orders/{order_id}/change")
    stop = patient_url(live_server, fresh_patient, f"/orders/{order_id}/stop")
    assert tablet.goto(f"{new_order}?indication=pain").status == 404
    for url in (new_order, change, stop):
        response = tablet.request.post(url, form=order_fields)
        assert response.status in (403, 404), url
    assert count_of(live_app, PrnOrder, fresh_patient) == 1


# --- doses checked both ways in time, and as numbers (issue 13) -------------------------------


def later_dose_exists(live_app: Flask, fresh_patient, order_id: str):  # type: ignore[no-untyped-def]
    """A dose of 2,5 mg given by Dr Helena Ek an hour ago (to the minute); its time."""
    given_at = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)
    with live_app.app_context():
        dose_service.record_dose(
            _physician(), fresh_patient.public_id, order_id, given_at=given_at, dose="2,5",
            dose_unit="mg", route="sc", client_token="later".ljust(32, "0"),
        )
        db.session.commit()
    return given_at


def patient_doses(live_app: Flask, fresh_patient) -> list[PrnAdministration]:  # type: ignore[no-untyped-def]
    """The patient's doses as stored, in time order, with who gave them."""
    with live_app.app_context():
        rows = db.session.scalars(
            select(PrnAdministration)
            .join(Patient, Patient.id == PrnAdministration.patient_id)
            .where(Patient.public_id == fresh_patient.public_id)
            .options(joinedload(PrnAdministration.given_by))
            .order_by(PrnAdministration.given_at)
        ).all()
        db.session.expunge_all()
        return list(rows)


def patient_flags(live_app: Flask, fresh_patient, code: str) -> list[Flag]:  # type: ignore[no-untyped-def]
    with live_app.app_context():
        flags = db.session.scalars(
            select(Flag)
            .join(Patient, Patient.id == Flag.patient_id)
            .where(Patient.public_id == fresh_patient.public_id, Flag.code == code)
        ).all()
        db.session.expunge_all()
        return list(flags)


def test_nurse_back_dates_a_dose_and_the_warning_names_the_later_dose(
    live_server, live_app, tablet, fresh_patient, tmp_path: Path
):
    # At least 1 h apart, at most 2 per 24 h, written yesterday.
    order_id = pain_order_exists(live_app, fresh_patient, days_ago=1)
    later = later_dose_exists(live_app, fresh_patient, order_id)
    home = staff_opens(tablet, live_server, NURSE, fresh_patient)

    # Sara Lind forgot to record the dose she gave 30 minutes before Dr Ek's.
    back_dated = later - timedelta(minutes=30)
    dose_form = home.record_dose("Smärta").given_at(back_dated).give("2,5")
    dose_form.tap_save_expecting_warning()
    warning = dose_form.warning()
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("nästa dos gavs bara 30 min efter den här")
    # The later dose, named: time in Swedish time, amount and unit, who gave it.
    later_local = later.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    assert dose_form.colliding_doses() == [f"{later_local}: 2,5 mg, given av Dr Helena Ek"]
    expect(warning).to_contain_text("Inget har sparats.")
    tablet.screenshot(path=str(tmp_path / "back-dated-dose-warning.png"), full_page=True)
    checked(tablet)
    assert len(patient_doses(live_app, fresh_patient)) == 1

    home = dose_form.tap_confirm("Glömde registrera dosen vid besöket.").tap_save(
        fresh_patient.name
    )
    expect(home.flags().filter(has_text=OVER_LIMIT_FLAG)).to_have_count(1)
    stored = patient_doses(live_app, fresh_patient)
    assert [row.given_at for row in stored] == [back_dated, later]
    mine = stored[0]
    assert (mine.amount, mine.dose, mine.dose_unit, mine.route) == (Decimal("2.5"), "2,5", "mg", "sc")
    assert mine.given_by.email == NURSE
    assert mine.over_limit_reason == "Glömde registrera dosen vid besöket."
    [flag] = patient_flags(live_app, fresh_patient, "prn_over_limit")
    assert (flag.severity, flag.params["dose"], flag.params["minutes_to_next_dose"]) == (
        "high", mine.public_id, 30
    )


def test_a_tenfold_dose_is_stopped_at_the_form_on_the_tablet(
    live_server, live_app, tablet, fresh_patient, tmp_path: Path
):
    pain_order_exists(live_app, fresh_patient)  # Morfin 2,5 mg s.c.
    home = staff_opens(tablet, live_server, NURSE, fresh_patient)
    dose_form = home.record_dose("Smärta")
    expect(dose_form.ordered_hint()).to_have_text("Ordinerat: 2,5 mg")

    dose_form.give("25").tap_save_expecting_warning()
    mismatch = dose_form.mismatch_warning()
    expect(mismatch).to_be_visible()
    expect(mismatch).to_contain_text("25 mg har angetts, men ordinationen är 2,5 mg.")
    # 25 / 2,5 = 10.
    expect(mismatch).to_contain_text("Det är 10 gånger den ordinerade dosen.")
    expect(dose_form.amount_error()).to_have_text("Avviker från ordinationen: se varningen ovan.")
    tablet.screenshot(path=str(tmp_path / "tenfold-dose-warning.png"), full_page=True)
    checked(tablet)
    assert patient_doses(live_app, fresh_patient) == []

    home = dose_form.give("2,5").tap_save(fresh_patient.name)
    expect(tablet.get_by_role("status")).to_contain_text("Dosen är sparad.")
    stored = patient_doses(live_app, fresh_patient)
    assert [(row.amount, row.dose, row.dose_mismatch_reason) for row in stored] == [
        (Decimal("2.5"), "2,5", None)
    ]
    assert patient_flags(live_app, fresh_patient, "prn_dose_mismatch") == []
