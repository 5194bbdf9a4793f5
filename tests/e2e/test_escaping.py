"""Free text with script in it is shown as text, never run (issue 7), in a real browser.

Payloads are stored in every kind of free text a person can write (care plan fields, an
assessment's main problems and other symptoms, a dose's over-limit reason, a milestone note), then
every page that shows them is opened. No element may be made from a payload, no dialog may open,
and the payloads must be readable as text.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pallapp.assessments.services import submit_assessment
from pallapp.careplan import doses as dose_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.extensions import db
from pallapp.models import User, utcnow
from tests.e2e.pages import LoginPage

pytestmark = pytest.mark.e2e

SCRIPT = "<script>alert('script')</script>"
IMAGE = '"><img src=x onerror="alert(\'image\')">'
SVG = "<svg onload=alert('svg')>"


def staff(email: str) -> User:
    return db.session.scalar(db.select(User).where(User.email == email))


def test_payloads_in_free_text_render_as_text(live_app, live_server, tablet, fresh_patient):
    with live_app.app_context():
        nurse, physician = staff("nurse@example.org"), staff("physician@example.org")
        pid = fresh_patient.public_id
        plan_service.save_care_plan(
            physician, pid, {"goals_and_wishes": SCRIPT, "contacts": IMAGE,
                             "for_patient_and_relatives": SVG}, based_on=None,
        )
        answers = {"main_problems": [SCRIPT, IMAGE], "other_symptoms": [{"label": SVG, "rating": 2}]}
        assessment = submit_assessment(
            nurse, pid, instrument="ipos_staff", answers=answers, client_token="e" * 32
        ).assessment
        order = order_service.create_order(
            physician, pid,
            order_service.OrderDetails(indication="other", indication_text=SVG, drug=IMAGE, dose="1",
                                  dose_unit="mg", route="po", instructions=SCRIPT,
                                  min_interval_minutes=600, max_doses_per_24h=2),
        )
        given = utcnow()
        dose_service.record_dose(nurse, pid, order.public_id, given_at=given, dose="1",
                             dose_unit="mg", route="po", client_token="f" * 32)
        dose_service.record_dose(nurse, pid, order.public_id, given_at=given, dose="1",
                             dose_unit="mg", route="po", client_token="g" * 32,
                             over_limit_confirmed=True, over_limit_reason=SCRIPT)
        assessment_id = assessment.public_id
        db.session.commit()

    dialogs: list[str] = []
    tablet.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    LoginPage(tablet, live_server).open().log_in("physician@example.org", "pallapp-demo")
    pages = [
        f"/patients/{pid}",
        f"/patients/{pid}/care-plan",
        f"/patients/{pid}/care-plan/history",
        f"/patients/{pid}/orders",
        f"/patients/{pid}/assessments",
        f"/patients/{pid}/assessments/{assessment_id}",
        f"/patients/{pid}/flags",
        f"/patients/{pid}/summary",
        f"/patients/{pid}/trends?range=all",
    ]
    shown = 0
    for path in pages:
        tablet.goto(f"{live_server}{path}")
        tablet.wait_for_load_state("load")
        # No element was made from a payload. (The Content-Security-Policy would also stop the
        # scripts from running, so a missing dialog alone would not prove the escaping.)
        for injected in ("img[src='x']", "svg[onload]", "script:not([src])"):
            expect(tablet.locator(f"main {injected}"), f"{injected} on {path}").to_have_count(0)
        text = tablet.locator("main").inner_text()
        shown += sum(payload in text for payload in (SCRIPT, IMAGE, SVG))
    # Each payload is readable somewhere, as the letters it was written with.
    assert shown >= 6

    # The patient's own start page shows the part of the care plan written for them.
    tablet.context.clear_cookies()
    login = LoginPage(tablet, live_server).open()
    tablet.get_by_label("E-post").fill(fresh_patient.email)
    tablet.get_by_label("Lösenord").fill(fresh_patient.password)
    tablet.get_by_role("button", name="Logga in").click()
    tablet.wait_for_load_state("load")
    expect(login.page.locator("main")).to_contain_text(SVG)
    assert dialogs == []
