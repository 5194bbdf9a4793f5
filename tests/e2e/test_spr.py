"""The demo manager prepares the register after a death, in Swedish, on a tablet: the unit's
deaths with the share registered, then one death's suggested answers, each with the records it
comes from, and the questions pallapp cannot answer. The pages pass axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import LoginPage, SprUnitPage
from tests.e2e.test_nurse_phone import serious_violations

pytestmark = pytest.mark.e2e


def test_manager_reads_the_suggested_answers_in_swedish(live_server, tablet):
    LoginPage(tablet, live_server).open().log_in("manager@example.org", "pallapp-demo")
    tablet.locator('nav a[href="/spr"]').click()
    if tablet.get_by_role("heading", level=1).inner_text() == "Svenska palliativregistret":
        tablet.locator("main ul.plain a").first.click()  # a manager of several units chooses
    unit = SprUnitPage(tablet, live_server).expect_loaded()
    # The demo has deaths in the team (read, not assumed: other tests record more).
    expect(tablet.locator("p.registration-share")).to_contain_text("dödsfall markerade som registrerade")
    expect(tablet.locator("p.registration-share")).to_contain_text("Mål: 100 %.")
    assert unit.deaths().count() >= 1
    assert serious_violations(tablet) == []

    death = unit.open_first_death()
    place = death.answer("place_of_death")
    expect(place.locator("th")).to_have_text("6. Dödsplats")
    expected = death.answer("death_expected")
    expect(expected.locator("th")).to_have_text("9. Var dödsfallet väntat utifrån sjukdomshistorien?")
    # The answer is Ja or Nej, and names the death milestone it comes from.
    expect(expected.locator("td.answer strong")).to_have_text(re.compile(r"^(Ja|Nej)$"))
    expect(expected.locator("td.sources .source")).to_have_attribute("data-kind", "milestone")
    expect(death.answer("pain_rated").locator("th")).to_have_text(
        "Skattades smärta med ett validerat instrument under den sista levnadsveckan?"
    )
    expect(death.unanswerable()).to_have_count(6)
    expect(death.unanswerable().first).to_contain_text("Grundtillstånd")
    assert serious_violations(tablet) == []
