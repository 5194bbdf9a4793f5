"""Trends, charts and the printed summary on a tablet in Swedish, with axe-core on each page:
IPOS versions apart, a dose's time and amount, heat map cells against the stored answers of
three assessments, a 304 for a repeated chart and a 200 after a new rating, and the patient on
every printed page.

Page objects find things by structure (ids, classes, data attributes), not by Swedish words.
"""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pallapp.assessments.services import submit_assessment
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import Assessment, Patient, User, utcnow
from pallapp.timeutil import STOCKHOLM, today_local
from tests.e2e.pages import LoginPage
from tests.e2e.test_nurse_phone import serious_violations

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "pallapp-demo"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
IPOS_ITEMS = (
    "pain", "shortness_of_breath", "weakness", "nausea", "vomiting", "poor_appetite",
    "constipation", "sore_dry_mouth", "drowsiness", "poor_mobility", "patient_anxiety",
    "family_anxiety", "depression", "at_peace", "sharing_feelings", "information",
    "practical_problems",
)
MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=60, max_doses_per_24h=6,
)
# Three ESAS-r ratings, 3, 2 and 1 days ago: pain 2 -> 5 -> 8, nausea 6 -> 4 -> 1.
ESAS_RATINGS = [
    dict.fromkeys(ESAS_ITEMS, 1) | {"pain": 2, "nausea": 6},
    dict.fromkeys(ESAS_ITEMS, 1) | {"pain": 5, "nausea": 4},
    dict.fromkeys(ESAS_ITEMS, 1) | {"pain": 8, "nausea": 1},
]
LIMITATIONS = "\n".join(
    f"Rad {n}: ingen återupplivning, ingen antibiotika i livets slutskede, ingen sondnäring."
    for n in range(1, 70)
)


def violation_ids(page: Page) -> set[str]:
    """Every axe-core rule the page breaks, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    return {violation["id"] for violation in Axe().run(page).response["violations"]}


@dataclass
class TrendsPage:
    page: Page

    def chart_keys(self) -> list[str]:
        ids = self.page.locator("section.trend").evaluate_all(
            "els => els.map(e => e.getAttribute('aria-labelledby'))"
        )
        return [re.sub(r"^chart-|-heading$", "", value) for value in ids]

    def heat_row(self, table: str, item: str) -> list[str]:
        return self.page.locator(f"table#{table} tr[data-item={item}] td .heat-value").all_inner_texts()

    def heat_versions(self, table: str) -> list[str]:
        return self.page.locator(f"table#{table} thead th.heat-when").evaluate_all(
            "els => els.map(e => e.querySelector('.version').className)"
        )

    def dose_rows(self) -> list[list[str]]:
        rows = self.page.locator("table.dose-table tbody tr")
        return [
            [cell.strip() for cell in rows.nth(i).locator("th, td").all_inner_texts()]
            for i in range(rows.count())
        ]

    def wait_for_images(self) -> None:
        for image in self.page.locator("img.chart").all():
            image.evaluate(
                "img => img.complete ? null : new Promise(done => { img.onload = img.onerror = done; })"
            )
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")


@pytest.fixture
def rated_patient(live_app, fresh_patient):
    """The fresh patient with three ESAS-r ratings, IPOS staff and patient versions, a morphine
    dose, a brytpunktssamtal and a long care plan; returns what the test compares with."""
    with live_app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == "nurse@example.org"))
        physician = db.session.scalar(select(User).where(User.email == "physician@example.org"))
        now = utcnow()
        stored = []
        for days_ago, answers in zip((3, 2, 1), ESAS_RATINGS, strict=True):
            result = submit_assessment(
                nurse, fresh_patient.public_id, instrument="esas_r", answers=answers,
                client_token=uuid.uuid4().hex, observed_at=now - timedelta(days=days_ago),
            )
            stored.append(result.assessment.public_id)
        submit_assessment(
            nurse, fresh_patient.public_id, instrument="ipos_staff",
            answers=dict.fromkeys(IPOS_ITEMS, 1) | {"pain": 3}, client_token=uuid.uuid4().hex,
            observed_at=now - timedelta(hours=26),
        )
        submit_assessment(
            nurse, fresh_patient.public_id, instrument="ipos_patient",
            answers=dict.fromkeys(IPOS_ITEMS, 2), client_token=uuid.uuid4().hex,
            observed_at=now - timedelta(hours=25),
        )
        order = order_service.create_order(
            physician, fresh_patient.public_id, MORPHINE, start_at=now - timedelta(days=4)
        )
        given_at = (now - timedelta(hours=5)).replace(second=0, microsecond=0)
        dose_service.record_dose(
            nurse, fresh_patient.public_id, order.public_id, given_at=given_at, dose="2,5",
            dose_unit="mg", route="sc", client_token=uuid.uuid4().hex,
        )
        milestone_service.record_milestone(
            physician, fresh_patient.public_id, kind="brytpunktssamtal",
            occurred_on=today_local() - timedelta(days=2), participants="Patienten, dottern",
        )
        plan_service.save_care_plan(
            physician, fresh_patient.public_id,
            {"contacts": "Palliativa teamet 010-123 45 67", "treatment_limitations": LIMITATIONS},
            based_on=None,
        )
        db.session.commit()
        answers = [
            db.session.scalar(select(Assessment.answers).where(Assessment.public_id == public_id))
            for public_id in stored
        ]
        patient = db.session.scalar(select(Patient).where(Patient.public_id == fresh_patient.public_id))
        pnr = patient.formatted_personnummer
    return {"answers": answers, "given_at": given_at, "pnr": pnr}


def test_trends_on_a_tablet_in_swedish(live_app, live_server, tablet, fresh_patient, rated_patient):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    LoginPage(tablet, live_server).open().log_in("physician@example.org", DEMO_PASSWORD).expect_loaded()
    tablet.goto(f"{live_server}/patients/{fresh_patient.public_id}/trends?range=2w")
    trends = TrendsPage(tablet)
    trends.wait_for_images()
    assert tablet.locator("html").get_attribute("lang") == "sv"
    assert serious_violations(tablet) == []
    assert "landmark-unique" not in violation_ids(tablet)
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 1024
    tablet.screenshot(path=str(SCREENSHOTS / "trends-tablet.png"), full_page=True)
    for key in ("ipos_staff", "doses"):
        tablet.locator(f"section[aria-labelledby=chart-{key}-heading] img.chart").screenshot(
            path=str(SCREENSHOTS / f"chart-{key}.png")
        )
    tablet.locator("table#esas_heatmap").screenshot(path=str(SCREENSHOTS / "heatmap-esas.png"))

    # IPOS patient and staff versions apart: a chart each, and each heat map column named.
    assert trends.chart_keys() == ["esas_total", "ipos_patient", "ipos_staff", "doses"]
    assert trends.heat_versions("ipos_heatmap") == ["version version-ipos_staff", "version version-ipos_patient"]
    assert trends.heat_row("ipos_heatmap", "pain") == ["3", "2"]

    # The heat map cells are the stored answers of the three ESAS-r ratings, oldest first.
    for item in ESAS_ITEMS:
        assert trends.heat_row("esas_heatmap", item) == [
            str(answers[item]) for answers in rated_patient["answers"]
        ], item

    # The dose: its time and amount from the dose table.
    rows = trends.dose_rows()
    assert len(rows) == 1
    local = rated_patient["given_at"].astimezone(STOCKHOLM)
    assert local.strftime("%H:%M") in rows[0][0]
    assert rows[0][3] == "2,5 mg"

    # The lane's point of that day opens on a tap on its doses: time, drug, amount, route,
    # effect; by keyboard it folds and opens again; its link marks the dose's table row.
    point = tablet.locator("details.dose-day")
    expect(point).to_have_count(1)
    expect(point.locator(".dose-time")).to_be_hidden()
    point.locator("summary").tap()
    expect(point.locator(".dose-time")).to_have_text(local.strftime("%H:%M"))
    expect(point.locator(".dose-amount")).to_have_text("2,5 mg")
    expect(point.locator("li")).to_contain_text("Morfin")
    expect(point.locator("li")).to_contain_text("inte utvärderad")
    assert serious_violations(tablet) == []
    point.locator("summary").focus()
    tablet.keyboard.press("Enter")
    expect(point.locator(".dose-time")).to_be_hidden()
    tablet.keyboard.press("Enter")
    expect(point.locator(".dose-time")).to_be_visible()
    point.get_by_role("link").tap()
    expect(tablet.locator("table.dose-table tbody tr").first).to_have_attribute("id", "dose-1")
    assert tablet.evaluate("location.hash") == "#dose-1"
    assert tablet.locator("table.dose-table tr:target").count() == 1
    tablet.screenshot(path=str(SCREENSHOTS / "trends-dose-point.png"))

    # On a 768 px portrait tablet the page does not scroll sideways.
    tablet.set_viewport_size({"width": 768, "height": 1024})
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    tablet.screenshot(path=str(SCREENSHOTS / "trends-tablet-portrait.png"))


def test_a_repeated_chart_is_304_until_a_new_rating(live_app, live_server, tablet, fresh_patient, rated_patient):
    LoginPage(tablet, live_server).open().log_in("physician@example.org", DEMO_PASSWORD).expect_loaded()
    url = f"{live_server}/patients/{fresh_patient.public_id}/trends/esas_total.svg?range=2w"
    first = tablet.request.get(url)
    assert first.status == 200
    etag = first.headers["etag"]
    again = tablet.request.get(url, headers={"If-None-Match": etag})
    assert again.status == 304
    with live_app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == "nurse@example.org"))
        submit_assessment(
            nurse, fresh_patient.public_id, instrument="esas_r",
            answers=dict.fromkeys(ESAS_ITEMS, 0), client_token=uuid.uuid4().hex,
        )
        db.session.commit()
    changed = tablet.request.get(url, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["etag"] != etag
    assert changed.body() != first.body()


def test_the_printed_summary_names_the_patient_on_every_page(live_app, live_server, tablet, fresh_patient, rated_patient):
    from pypdf import PdfReader

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    LoginPage(tablet, live_server).open().log_in("physician@example.org", DEMO_PASSWORD).expect_loaded()
    tablet.goto(f"{live_server}/patients/{fresh_patient.public_id}/summary")
    assert serious_violations(tablet) == []
    assert "landmark-unique" not in violation_ids(tablet)
    tablet.screenshot(path=str(SCREENSHOTS / "summary-tablet.png"), full_page=True)
    pdf = tablet.pdf(format="A4")
    (SCREENSHOTS / "summary.pdf").write_bytes(pdf)
    # NFKC: the PDF's fonts set "fi" as one ligature glyph.
    pages = [unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 2  # the long care plan runs over
    for number, text in enumerate(pages, start=1):
        flat = " ".join(text.split())
        assert fresh_patient.name in flat, number
        assert rated_patient["pnr"] in flat, number
    first = " ".join(pages[0].split())
    # No blank first page: the summary starts on it, with its first sections.
    assert f": {fresh_patient.name}" in first  # the heading "Patientsammanfattning: <name>"
    assert "Palliativa teamet 010-123 45 67" in first
    everything = " ".join(" ".join(pages).split())
    assert "Brytpunktssamtal" in everything or "brytpunktssamtal" in everything
    assert "Rad 69: ingen återupplivning" in everything
    assert "Morfin" in everything


def test_overview_table_on_a_tablet(live_server, tablet, phone, rated_patient, fresh_patient):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    LoginPage(tablet, live_server).open().log_in("physician@example.org", DEMO_PASSWORD).expect_loaded()
    tablet.goto(f"{live_server}/overview")
    table = tablet.locator("table.overview-table")
    expect(table).to_be_visible()
    expect(tablet.locator("ol.overview-list")).to_be_hidden()
    assert serious_violations(tablet) == []
    assert "landmark-unique" not in violation_ids(tablet)
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 1024
    tablet.screenshot(path=str(SCREENSHOTS / "overview-tablet.png"))
    # At least ten patients on one 1024 x 768 screen: scrolled to the table, its header and
    # ten rows are within 768 px.
    top = table.evaluate("t => t.getBoundingClientRect().top")
    bottoms = tablet.locator("tr.overview-line").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().bottom)"
    )
    table.evaluate("t => t.scrollIntoView()")
    tablet.screenshot(path=str(SCREENSHOTS / "overview-tablet-table.png"))
    assert len(bottoms) >= 10
    assert bottoms[9] - top <= 768, [round(b - top) for b in bottoms[:10]]
    tablet.set_viewport_size({"width": 768, "height": 1024})
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    tablet.screenshot(path=str(SCREENSHOTS / "overview-tablet-portrait.png"))

    LoginPage(phone, live_server).open().log_in("physician@example.org", DEMO_PASSWORD).expect_loaded()
    phone.goto(f"{live_server}/overview")
    expect(phone.locator("ol.overview-list")).to_be_visible()
    assert serious_violations(phone) == []
    phone.screenshot(path=str(SCREENSHOTS / "overview-phone.png"))
    phone.goto(f"{live_server}/patients/{fresh_patient.public_id}/summary")
    phone.screenshot(path=str(SCREENSHOTS / "summary-phone.png"), full_page=True)


def test_a_wide_heat_map_with_unanswered_cells_scrolls_in_its_box_not_the_page(
    live_app, live_server, phone, fresh_patient
):
    """Twelve ESAS-r ratings, each leaving wellbeing unanswered: on a 375 px phone the heat map
    is several screens wide, and its far cells hold the visually hidden words "not answered"
    (absolutely placed). The map scrolls inside its box; the page itself must not scroll
    sideways (it did, to the last hidden word, while the box was not their containing block)."""
    with live_app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == "nurse@example.org"))
        now = utcnow()
        for days_ago in range(12, 0, -1):
            submit_assessment(
                nurse, fresh_patient.public_id, instrument="esas_r",
                answers={item: 2 for item in ESAS_ITEMS if item != "wellbeing"},
                client_token=uuid.uuid4().hex, observed_at=now - timedelta(days=days_ago),
            )
        db.session.commit()
    LoginPage(phone, live_server).open().log_in("physician@example.org", DEMO_PASSWORD).expect_loaded()
    phone.goto(f"{live_server}/patients/{fresh_patient.public_id}/trends?range=2w")
    heat = phone.locator("table#esas_heatmap")
    assert heat.locator("tr[data-item=wellbeing] td .visually-hidden").count() == 12
    # The map itself is wider than the phone (so the check below could fail) ...
    assert heat.evaluate("table => table.scrollWidth") > 2 * 375
    # ... and the page is not.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
