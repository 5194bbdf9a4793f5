"""Physician review on a tablet, in Swedish: unit overview -> patient trends -> acknowledge a
flag; axe-core on every page.

The page objects find things by structure (ids, classes, links by address) rather than by the
words of the review pages, so the test does not depend on the Swedish catalogue of this branch.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pallapp.assessments.services import submit_assessment
from pallapp.extensions import db
from pallapp.models import User
from tests.e2e.pages import LoginPage
from tests.e2e.test_nurse_phone import serious_violations

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "pallapp-demo"
# ESAS-r pain 8 (>= 7: severe_item, high); everything else 1: no other flag, no earlier rating.
ESAS_SEVERE_PAIN = {
    "pain": 8, "tiredness": 1, "drowsiness": 1, "nausea": 1, "lack_of_appetite": 1,
    "shortness_of_breath": 1, "depression": 1, "anxiety": 1, "wellbeing": 1,
}
NOTE = "Morfin 5 mg s.c. givet, ny bedömning om en timme"


@dataclass
class OverviewPage:
    page: Page
    base_url: str

    def open(self) -> OverviewPage:
        self.page.locator('nav a[href="/overview"]').click()
        expect(self.page).to_have_url(f"{self.base_url}/overview")
        return self

    def row(self, family_name: str):  # type: ignore[no-untyped-def]
        # On a tablet the overview is a table (the cards are for phones).
        return self.page.locator("tr.overview-line", has_text=family_name)

    def find_row(self, family_name: str):  # type: ignore[no-untyped-def]
        """The patient's row on whichever page of the overview it is (25 patients a page)."""
        while self.row(family_name).count() == 0:
            more = self.page.locator('nav.pager a[rel="next"]')
            assert more.count() == 1, f"{family_name} is on no page of the overview"
            more.click()
            self.page.wait_for_load_state()
        return self.row(family_name)

    def open_trends(self, family_name: str) -> TrendsPage:
        self.row(family_name).locator("th a").click()
        return TrendsPage(self.page, self.base_url)


@dataclass
class TrendsPage:
    page: Page
    base_url: str

    def chart_keys(self) -> list[str]:
        ids = self.page.locator("section.trend").evaluate_all("els => els.map(e => e.getAttribute('aria-labelledby'))")
        return [re.sub(r"^chart-|-heading$", "", value) for value in ids]

    def acknowledge_first_flag(self) -> AcknowledgePage:
        self.page.locator(".ack-link").first.click()
        return AcknowledgePage(self.page, self.base_url)


@dataclass
class AcknowledgePage:
    page: Page
    base_url: str

    def submit(self, note: str) -> None:
        self.page.locator("#note").fill(note)
        self.page.locator("main form button[type=submit]").click()


def test_physician_reviews_and_acknowledges_a_flag_on_a_tablet(live_app, live_server, tablet, fresh_patient):
    with live_app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == "nurse@example.org"))
        submit_assessment(
            nurse, fresh_patient.public_id, instrument="esas_r", answers=ESAS_SEVERE_PAIN,
            client_token=uuid.uuid4().hex,
        )
        db.session.commit()

    LoginPage(tablet, live_server).open().log_in("physician@example.org", DEMO_PASSWORD).expect_loaded()
    assert tablet.locator("html").get_attribute("lang") == "sv"

    overview = OverviewPage(tablet, live_server).open()
    row = overview.row(fresh_patient.family_name)
    expect(row).to_have_count(1)
    expect(row.locator(".flag-groups li.flag-high")).to_have_count(1)
    assert serious_violations(tablet) == []
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 1024

    trends = overview.open_trends(fresh_patient.family_name)
    expect(tablet.get_by_role("heading", level=1)).to_contain_text(fresh_patient.name)
    assert trends.chart_keys() == ["esas_total", "doses"]  # the dose lane, empty here
    # The chart is a pygal SVG image, followed by its data table; the image must load.
    image = tablet.locator("section.trend img.chart").first
    expect(image).to_be_visible()
    # Wait for the load itself: "visible" comes as soon as the box is laid out, and on a busy
    # machine the SVG may still be on its way.
    image.evaluate(
        "img => img.complete ? null : new Promise(done => { img.onload = img.onerror = done; })"
    )
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(tablet.locator("table.trend-table caption").first).to_be_visible()
    assert serious_violations(tablet) == []

    form = trends.acknowledge_first_flag()
    assert serious_violations(tablet) == []
    form.submit("")  # a note is required
    expect(tablet.locator(".message.error")).to_be_visible()
    form.submit(NOTE)
    expect(tablet).to_have_url(re.compile(rf"/patients/{fresh_patient.public_id}/flags$"))
    acknowledged = tablet.locator(".flag-history li.closed")
    expect(acknowledged).to_have_count(1)
    expect(acknowledged).to_contain_text(NOTE)
    expect(acknowledged).to_contain_text("Dr Helena Ek")
    assert serious_violations(tablet) == []

    # No open high flag now, so the patient may have moved down to a later page.
    after = OverviewPage(tablet, live_server).open().find_row(fresh_patient.family_name)
    expect(after.locator(".flag-groups li.flag-high")).to_have_count(0)
