"""The demo nurse on a phone, in Swedish: log in, find a shared patient, open it; axe-core."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.pages import LoginPage

pytestmark = pytest.mark.e2e

SERIOUS = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]


def test_demo_nurse_opens_a_shared_patient_on_a_phone(live_server, phone):
    login = LoginPage(phone, live_server).open()
    assert phone.locator("html").get_attribute("lang") == "sv"
    assert serious_violations(phone) == []

    today = login.log_in("nurse@example.org", "pallapp-demo").expect_loaded()
    assert serious_violations(phone) == []
    # No horizontal scrolling at phone width.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    today.search("Ulla")  # Ulla Lindgren is followed by both demo units
    patient = today.open_patient("Lindgren")
    assert patient.heading() == "Ulla Lindgren"
    expect(phone.get_by_text("Specialiserad palliativ vård Dalarna")).to_be_visible()
    expect(phone.get_by_text("Hemsjukvården Borlänge")).to_be_visible()
    assert serious_violations(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375


def test_nurse2_cannot_open_a_patient_of_the_other_unit(live_server, phone, browser):
    # Find a patient followed by the palliative team only, as the nurse of both units.
    LoginPage(phone, live_server).open().log_in("nurse@example.org", "pallapp-demo")
    card = (
        phone.locator(".patient-card", has_text="Specialiserad palliativ vård Dalarna")
        .filter(has_not_text="Hemsjukvården Borlänge")
        .first
    )
    href = card.get_attribute("href")

    context = browser.new_context(viewport={"width": 375, "height": 667}, locale="sv-SE")
    other = context.new_page()
    LoginPage(other, live_server).open().log_in(
        "nurse2@example.org", "pallapp-demo"
    ).expect_loaded()
    response = other.goto(f"{live_server}{href}")
    assert response.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("Sidan hittades inte")
    context.close()


def test_keyboard_only_login(live_server, phone):
    LoginPage(phone, live_server).open()
    # The e-mail field has focus when the page opens; then Tab, type, Enter.
    assert phone.evaluate("document.activeElement.id") == "email"
    phone.keyboard.type("nurse@example.org")
    phone.keyboard.press("Tab")
    phone.keyboard.type("pallapp-demo")
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_have_text("I dag")
