"""A patient on a small phone ends a relative's access with the keyboard only; axe-core.

Touch and keyboard: every step is a link or a button reached with Tab and used with Enter, the
page fits 320 px, and the targets are the app's full-size buttons.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pallapp.extensions import db
from pallapp.models import Role
from tests.e2e.pages import LoginPage
from tests.e2e.test_nurse_phone import serious_violations
from tests.factories import PASSWORD, link_relative, make_user

pytestmark = pytest.mark.e2e

#: Where to keep the screenshot for a person to look at (default: the test's temporary folder).
SCREENSHOTS = os.environ.get("PALLAPP_SCREENSHOTS")


def tab_to(page: Page, text: str = "", element_id: str = "", presses: int = 60) -> None:
    """Press Tab until the focused element's text contains `text` (or its id is `element_id`),
    as a keyboard user does."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        # Nothing focused reads as the body, whose text is the whole page's: not a match.
        focused = page.evaluate(
            "document.activeElement && document.activeElement !== document.body"
            " ? [document.activeElement.innerText || '', document.activeElement.id] : ['', '']"
        )
        if (element_id and focused[1] == element_id) or (text and text in focused[0]):
            return
    raise AssertionError(f"{text or element_id!r} cannot be reached with Tab")


@pytest.fixture
def small_phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 320, "height": 640}, locale="sv-SE", has_touch=True, is_mobile=True
    )
    page = context.new_page()
    yield page
    context.close()


def test_a_patient_ends_a_relatives_access_with_the_keyboard(
    live_app, live_server, fresh_patient, small_phone, browser, tmp_path
):
    with live_app.app_context():
        from sqlalchemy import select

        from pallapp.models import Patient

        patient = db.session.scalar(select(Patient).where(Patient.public_id == fresh_patient.public_id))
        relative = make_user(Role.RELATIVE)
        relative.name = "Bo Provsson"
        link_relative(relative, patient, proxy=True, history=True)
        relative_email = relative.email
        db.session.commit()

    relative_context = browser.new_context(locale="sv-SE")
    relative_page = relative_context.new_page()
    LoginPage(relative_page, live_server).open().log_in(relative_email, PASSWORD)
    expect(relative_page.get_by_text(fresh_patient.name).first).to_be_visible()

    page = small_phone
    LoginPage(page, live_server).open().log_in(fresh_patient.email, fresh_patient.password)
    tab_to(page, "Dina närstående i pallapp")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dina närstående i pallapp")).to_be_visible()
    expect(page.get_by_text("Får svara på frågorna åt dig.")).to_be_visible()
    expect(page.get_by_text("Får se dina tidigare skattningar.")).to_be_visible()
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    tab_to(page, "Avsluta tillgången för Bo Provsson")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Avsluta tillgången för Bo Provsson")).to_be_visible()
    assert serious_violations(page) == []
    tab_to(page, element_id="reason")
    expect(page.get_by_label("Varför avslutas tillgången?")).to_be_focused()
    page.keyboard.type("Jag vill svara själv.")
    tab_to(page, "Avsluta tillgången för Bo Provsson")
    button_height = page.evaluate("document.activeElement.getBoundingClientRect().height")
    assert button_height >= 44  # a full-size touch target
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    page.screenshot(path=str(folder / "end-relative-access-320.png"), full_page=True)
    page.keyboard.press("Enter")

    expect(page.get_by_text("Bo Provsson har inte längre tillgång och har loggats ut.")).to_be_visible()
    expect(page.get_by_text("Anledning: Jag vill svara själv.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    page.screenshot(path=str(folder / "relatives-after-320.png"), full_page=True)
    relative_page.reload()
    expect(relative_page.get_by_role("button", name="Logga in")).to_be_visible()
    relative_context.close()
