"""The header menu: folded behind one button on a phone, open on a tablet, whole without
JavaScript (static/menu.js, app.css). Swedish, touch.

Before the menu folded, a nurse's header on a 375x667 phone was about 300 px tall: the page
began under half the screen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import LoginPage, SiteMenu
from tests.e2e.test_nurse_phone import serious_violations

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "pallapp-demo"
#: WCAG 2.5.5 (AAA) target size, also Apple's minimum; app.css gives every target 48 px.
MIN_TARGET = 44
#: The header on a phone may take this much of the 667 px screen: one row of brand and button.
MAX_PHONE_HEADER = 80
NURSE_LINKS = (
    "I dag", "Enhetsöversikt", "Larm", "Skriv in patient", "Kvalitetsindikatorer", "Export",
    "Palliativregistret",
)


def header_height(page: Page) -> float:
    box = page.locator("header.site-header").bounding_box()
    assert box is not None
    return box["height"]


def main_top(page: Page) -> float:
    box = page.locator("main").bounding_box()
    assert box is not None
    return box["y"]


def assert_target_size(locator) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None
    assert box["height"] >= MIN_TARGET
    assert box["width"] >= MIN_TARGET


def test_phone_menu_folds_opens_and_leads_on(live_server, phone):
    LoginPage(phone, live_server).open().log_in("nurse@example.org", DEMO_PASSWORD).expect_loaded()
    menu = SiteMenu(phone)

    # Folded: one row, the page begins near the top.
    assert header_height(phone) <= MAX_PHONE_HEADER
    assert main_top(phone) <= MAX_PHONE_HEADER
    expect(menu.button()).to_be_visible()
    expect(menu.button()).to_have_attribute("aria-expanded", "false")
    expect(menu.button()).to_have_attribute("aria-controls", "site-menu")
    assert_target_size(menu.button())
    expect(menu.link("Enhetsöversikt")).to_be_hidden()
    expect(phone.get_by_role("button", name="Logga ut")).to_be_hidden()
    assert serious_violations(phone) == []

    # Open by touch: every link and the log-out button, each a full-size target.
    menu.button().tap()
    expect(menu.button()).to_have_attribute("aria-expanded", "true")
    for name in NURSE_LINKS:
        expect(menu.link(name)).to_be_visible()
        assert_target_size(menu.link(name))
    expect(phone.get_by_role("button", name="Logga ut")).to_be_visible()
    assert serious_violations(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    # Escape folds it again and gives the focus back to the button.
    menu.link("Larm").focus()
    phone.keyboard.press("Escape")
    expect(menu.button()).to_have_attribute("aria-expanded", "false")
    expect(menu.link("Larm")).to_be_hidden()
    expect(menu.button()).to_be_focused()

    # Keyboard: Enter opens it, Tab reaches the first link; then a tap on a link leads on.
    phone.keyboard.press("Enter")
    expect(menu.button()).to_have_attribute("aria-expanded", "true")
    phone.keyboard.press("Tab")
    expect(menu.link("I dag")).to_be_focused()
    menu.link("Enhetsöversikt").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Enhetsöversikt")
    # The next page opens with the menu folded.
    expect(menu.button()).to_have_attribute("aria-expanded", "false")
    assert header_height(phone) <= MAX_PHONE_HEADER


def test_phone_menu_of_a_patient_folds_too(live_server, phone, fresh_patient):
    LoginPage(phone, live_server).open().log_in(fresh_patient.email, fresh_patient.password)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Hej")
    menu = SiteMenu(phone)
    assert header_height(phone) <= MAX_PHONE_HEADER
    menu.button().tap()
    expect(menu.link("Start")).to_be_visible()
    expect(phone.get_by_role("button", name="Logga ut")).to_be_visible()


def test_tablet_shows_the_whole_menu(live_server, tablet):
    LoginPage(tablet, live_server).open().log_in("nurse@example.org", DEMO_PASSWORD).expect_loaded()
    menu = SiteMenu(tablet)
    expect(menu.button()).to_be_hidden()
    for name in NURSE_LINKS:
        expect(menu.link(name)).to_be_visible()
    expect(tablet.get_by_role("button", name="Logga ut")).to_be_visible()
    menu.link("Larm").tap()
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Larm")


def test_without_javascript_every_link_is_shown_on_a_phone(live_server, browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, locale="sv-SE", has_touch=True, is_mobile=True,
        java_script_enabled=False,
    )
    page = context.new_page()
    try:
        LoginPage(page, live_server).open().log_in("nurse@example.org", DEMO_PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text("I dag")
        menu = SiteMenu(page)
        expect(menu.button()).to_be_hidden()
        for name in NURSE_LINKS:
            expect(menu.link(name)).to_be_visible()
        expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    finally:
        context.close()
