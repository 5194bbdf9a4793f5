"""Nothing typed is lost, nothing is stored twice: capture in a home without signal.

Chromium in Swedish with touch, on a 375x667 phone and a 1024x768 tablet; each test checks the
database afterwards. ESAS-r (nine items) as entered by a nurse keeps the tests short; the
mechanism (static/offline.js, pallapp/sending.py) is the same for every form.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import Assessment, Patient
from tests.e2e.pages import AssessmentFormPage, DeviceStatus, LoginPage, log_out
from tests.e2e.test_assessments import DEMO_PASSWORD, ESAS, nurse_opens

pytestmark = pytest.mark.e2e

ESAS_TITLE = "ESAS-r symtomskattning"
SHOTS = Path(__file__).resolve().parents[2] / "instance" / "e2e-screenshots"


@pytest.fixture(params=["phone", "tablet"])
def device(request: pytest.FixtureRequest) -> Page:
    return request.getfixturevalue(request.param)


def stored(live_app: Flask, public_id: str) -> list[dict[str, object]]:
    """The answers of every assessment of the patient, oldest first."""
    with live_app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.public_id == public_id))
        rows = db.session.scalars(
            select(Assessment).where(Assessment.patient_id == patient.id).order_by(Assessment.id)
        ).all()
        answers = [dict(row.answers) for row in rows]
        db.session.remove()
        return answers


def esas_answers_as_stored() -> dict[str, object]:
    return {name.removeprefix("item_"): value for name, value in ESAS.items()}


def assert_one_esas(live_app: Flask, public_id: str) -> None:
    rows = stored(live_app, public_id)
    assert len(rows) == 1
    for code, value in esas_answers_as_stored().items():
        assert rows[0][code] == value


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def open_esas(device: Page, live_server: str, fresh_patient) -> AssessmentFormPage:  # type: ignore[no-untyped-def]
    return nurse_opens(device, live_server, fresh_patient).start_assessment(ESAS_TITLE)


def test_sent_without_signal_waits_on_the_device_and_goes_once(
    live_app, live_server, device, fresh_patient
):
    form = open_esas(device, live_server, fresh_patient)
    status = DeviceStatus(device).wait_for_service_worker()
    form.answer(ESAS)
    device.context.set_offline(True)
    device.get_by_role("button", name="Spara", exact=True).click()
    expect(status.box()).to_contain_text(DeviceStatus.OUTBOX)
    shot(device, "outbox")
    assert stored(live_app, fresh_patient.public_id) == []

    # Reload without a connection: the service worker's page still lists the form.
    device.reload()
    expect(device.get_by_role("heading", level=1)).to_have_text("Ingen anslutning")
    expect(status.box()).to_contain_text(DeviceStatus.OUTBOX)
    shot(device, "offline-page")
    assert stored(live_app, fresh_patient.public_id) == []

    # The connection returns: the page reloads itself and the outbox is sent, once.
    device.context.set_offline(False)
    expect(status.box()).to_contain_text(DeviceStatus.SENT, timeout=15_000)
    shot(device, "sent")
    assert_one_esas(live_app, fresh_patient.public_id)
    status.box().get_by_role("link", name="Öppna det som sparades").click()
    expect(device.get_by_role("heading", level=1)).to_have_text(ESAS_TITLE)
    assert_one_esas(live_app, fresh_patient.public_id)


def test_send_back_and_send_again_stores_one(live_app, live_server, device, fresh_patient):
    form = open_esas(device, live_server, fresh_patient)
    form.answer(ESAS)
    form.submit("Spara")
    expect(device.locator("form[data-assessment]")).to_have_count(0)  # the result page
    result_url = device.url
    device.go_back()
    form = AssessmentFormPage(device, live_server).wait_until_ready()
    expect(DeviceStatus(device).notice()).to_contain_text(DeviceStatus.ALREADY_SENT)
    shot(device, "back-after-send")
    # Whether or not the browser refilled the buttons, the same answers are sent again.
    form.answer(ESAS)
    form.submit("Spara")
    expect(device.get_by_text("Formuläret var redan skickat")).to_be_visible()
    shot(device, "already-sent")
    assert device.url == result_url
    assert_one_esas(live_app, fresh_patient.public_id)


def test_double_tap_on_send_stores_one(live_app, live_server, device, fresh_patient):
    form = open_esas(device, live_server, fresh_patient)
    form.answer(ESAS)
    send = device.get_by_role("button", name="Spara", exact=True)
    # Two taps in one go, before the first answer can arrive.
    send.evaluate("button => { button.click(); button.click(); }")
    expect(device.get_by_role("heading", level=1)).to_have_text(ESAS_TITLE)
    expect(device.locator("form[data-assessment]")).to_have_count(0)
    assert_one_esas(live_app, fresh_patient.public_id)


@pytest.fixture
def short_idle(live_app: Flask) -> Iterator[None]:
    """Staff idle limit of zero minutes while set: the next request finds the session idle."""
    before = live_app.config["STAFF_IDLE_MINUTES"]
    yield None
    live_app.config["STAFF_IDLE_MINUTES"] = before


def test_idle_timeout_mid_form_keeps_the_answers(
    live_app, live_server, device, fresh_patient, short_idle
):
    form = open_esas(device, live_server, fresh_patient)
    form.answer(ESAS)
    live_app.config["STAFF_IDLE_MINUTES"] = 0  # the nurse was away too long
    device.get_by_role("button", name="Spara", exact=True).click()
    expect(device.get_by_role("heading", level=1)).to_have_text("Logga in i pallapp")
    expect(device.get_by_text("Ingenting har skickats än.")).to_be_visible()
    shot(device, "idle-login")
    assert stored(live_app, fresh_patient.public_id) == []

    live_app.config["STAFF_IDLE_MINUTES"] = 30
    LoginPage(device, live_server).log_in("nurse@example.org", DEMO_PASSWORD)
    form = AssessmentFormPage(device, live_server).wait_until_ready()
    expect(device.get_by_role("heading", level=1)).to_have_text(ESAS_TITLE)
    expect(DeviceStatus(device).notice()).to_contain_text(DeviceStatus.RESTORED)
    for name, value in ESAS.items():
        expect(device.locator(f"input[name='{name}'][value='{value}']")).to_be_checked()
    shot(device, "idle-restored")
    form.to_last_step().submit("Spara")
    expect(device.get_by_role("heading", level=1)).to_have_text(ESAS_TITLE)
    expect(device.locator("form[data-assessment]")).to_have_count(0)
    assert_one_esas(live_app, fresh_patient.public_id)


def test_a_closed_form_comes_back_but_never_to_another_account(
    live_app, live_server, device, fresh_patient, browser
):
    form = open_esas(device, live_server, fresh_patient)
    form.answer({"item_pain": 6, "item_nausea": 2})
    form_url = device.url
    context = device.context
    device.close()  # the page is closed mid-form (a crash, a swipe)

    page = context.new_page()
    page.goto(form_url)
    AssessmentFormPage(page, live_server).wait_until_ready()
    expect(DeviceStatus(page).notice()).to_contain_text(DeviceStatus.RESTORED)
    expect(page.locator("input[name='item_pain'][value='6']")).to_be_checked()
    expect(page.locator("input[name='item_nausea'][value='2']")).to_be_checked()
    shot(page, "draft-restored")

    # Log out: the draft is deleted; another nurse on the same tablet sees an empty form.
    log_out(page)
    assert DeviceStatus(page).stored_entries() == []
    LoginPage(page, live_server).open().log_in("nurse2@example.org", DEMO_PASSWORD)
    page.goto(form_url)
    AssessmentFormPage(page, live_server).wait_until_ready()
    expect(DeviceStatus(page).notice()).to_have_count(0)
    expect(page.locator("input[name='item_pain']:checked")).to_have_count(0)
    assert stored(live_app, fresh_patient.public_id) == []
