"""The pages: the severe-result page in and out of coverage hours, the alert list and its
acknowledgement, the start page's due line and the reminder choice, and the CLI jobs."""

from __future__ import annotations

from datetime import time
from uuid import uuid4

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import Alert, Assessment, CarePlan, Role
from tests.factories import make_patient, make_unit, make_user

ESAS = ("pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
        "depression", "anxiety", "wellbeing")


@pytest.fixture
def ctx(app):
    with app.app_context():
        unit = make_unit("Team Syd")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], given_name="Greta")
        own = make_user(Role.PATIENT, patient=patient, language="en")
        db.session.add(CarePlan(
            patient_id=patient.id, version=1, contacts="Night: 010-999 99 99 (jour)", changed_fields=["contacts"],
            created_by_id=nurse.id,
        ))
        db.session.commit()
        return {"unit_id": unit.id, "nurse": nurse.email, "self": own.email,
                "patient": patient.public_id}


def cover(app, ctx, *, always: bool) -> None:
    with app.app_context():
        from pallapp.models import CareUnit

        unit = db.session.get(CareUnit, ctx["unit_id"])
        unit.coverage_weekdays = "1234567" if always else ""
        unit.coverage_start, unit.coverage_end = time(0, 0), time(23, 59, 59, 999999)
        unit.alert_response_minutes = 45
        db.session.commit()


def report_pain_9(client, ctx, pain: str = "9"):
    data = {f"item_{code}": "1" for code in ESAS} | {"item_pain": pain, "client_token": uuid4().hex}
    return client.post(f"/patients/{ctx['patient']}/assessments/new/esas_r", data=data,
                       follow_redirects=True)


def test_severe_report_outside_coverage_says_whom_to_call(app, client, auth, ctx):
    cover(app, ctx, always=False)
    auth.login(ctx["self"])
    page = report_pain_9(client, ctx).get_data(as_text=True)
    assert "Nobody reads this report right now" in page
    assert "Night: 010-999 99 99 (jour)" in page  # the care plan's contacts
    assert "1177" in page
    assert "112" in page
    assert "will contact you within" not in page  # no promise the unit has not configured


def test_severe_report_in_coverage_promises_the_units_response_time(app, client, auth, ctx):
    cover(app, ctx, always=True)
    auth.login(ctx["self"])
    page = report_pain_9(client, ctx).get_data(as_text=True)
    assert "Team Syd has received an alert and will contact you within 45 minutes." in page
    assert "Night: 010-999 99 99 (jour)" in page
    auth.logout()
    auth.login(ctx["nurse"])
    listing = client.get("/alerts").get_data(as_text=True)
    assert "Greta" in listing
    with app.app_context():
        alert = db.session.scalar(select(Alert))
        public_id = alert.public_id
    response = client.post(f"/alerts/{public_id}/acknowledge", follow_redirects=True)
    assert "Alert acknowledged" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Alert)).acknowledged_at is not None


def test_start_page_says_what_is_due_and_reminders_can_be_turned_off(app, client, auth, ctx):
    auth.login(ctx["self"])
    page = client.get("/start").get_data(as_text=True)
    assert "Time to rate: ESAS-r symptom rating, takes about 2 minutes" in page  # never rated: due
    client.post("/start/reminders", data={"reminders": "off"})
    assert "E-mail reminders are off." in client.get("/start").get_data(as_text=True)
    client.post("/start/reminders", data={"reminders": "on"})
    assert "E-mail reminders are off." not in client.get("/start").get_data(as_text=True)


def test_alert_list_is_for_staff_only(client, auth, ctx):
    auth.login(ctx["self"])
    assert client.get("/alerts").status_code == 403


def test_cli_jobs_print_progress_and_a_summary(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders"])
    assert result.exit_code == 0, result.output
    assert "Reminder e-mails queued: 1." in result.output  # the patient has never rated
    result = runner.invoke(args=["reminders"])
    assert "Reminder e-mails queued: 0." in result.output  # once a day
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_SECURITY="none")
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 0, result.output
    assert "reminder" in result.output
    assert "failed" in result.output
    assert "Alerts escalated: 0. Messages: 0 sent, 1 to retry, 0 failed." in result.output
    with app.app_context():
        assert db.session.scalar(select(Assessment)) is None


def test_nurse_marks_an_expected_level_and_it_shows_on_the_patient_page_and_flags(app, client, auth, ctx):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['patient']}/expected-levels/new"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"item": "esas_r:pain", "level": "3", "days": "7", "reason": ""})
    assert "Give the reason." in refused.get_data(as_text=True)
    response = client.post(
        url, data={"item": "esas_r:pain", "level": "3", "days": "7", "reason": "Känd smärta"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "The level is marked as expected." in page
    assert "alert only above 3" in page
    assert "Känd smärta" in page
    flags_page = client.get(f"/patients/{ctx['patient']}/flags").get_data(as_text=True)
    assert "alert only above 3" in flags_page
    with app.app_context():
        from pallapp.models import ExpectedLevel

        marking = db.session.scalar(select(ExpectedLevel))
        public_id = marking.public_id
    client.post(f"/patients/{ctx['patient']}/expected-levels/{public_id}/end")
    page = client.get(f"/patients/{ctx['patient']}").get_data(as_text=True)
    assert "ended" in page
    assert "End now" not in page


def test_a_number_too_long_for_the_expected_level_is_refused_not_a_server_error(app, client, auth, ctx):
    # Found by fuzzing: WTForms' NumberRange calls math.isnan() on the value, which raises
    # OverflowError for a 400-digit int (a server error); WholeNumberField refuses it first.
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['patient']}/expected-levels/new"
    huge = "9" * 400
    for level, days in ((huge, "7"), ("3", huge)):
        response = client.post(url, data={"item": "esas_r:pain", "level": level, "days": days, "reason": "x"})
        assert response.status_code == 200
        assert "Not a valid integer value." in response.get_data(as_text=True)
    with app.app_context():
        from pallapp.models import ExpectedLevel

        assert db.session.scalar(select(ExpectedLevel)) is None


def test_staff_see_the_plan_and_give_the_patient_their_own(app, client, auth, ctx):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['patient']}/reporting-plan"
    page = client.get(url).get_data(as_text=True)
    assert "The care units&#39; default for this phase" in page or "The care units' default" in page
    assert "overdue" in page  # enrolled 30 days ago, never rated
    refused = client.post(url, data={
        "line_1-instrument": "esas_r", "line_1-respondent": "staff", "line_1-interval_days": "3",
        "reason": "Snabba förändringar",
    })
    assert "Staff rate with the staff instruments" in refused.get_data(as_text=True)
    saved = client.post(url, data={
        "line_1-instrument": "esas_r", "line_1-respondent": "patient", "line_1-interval_days": "3",
        "line_2-instrument": "", "line_3-instrument": "", "reason": "Snabba förändringar",
    }, follow_redirects=True).get_data(as_text=True)
    assert "The reporting plan is saved." in saved
    assert "Reason: Snabba förändringar" in saved
    auth.logout()
    auth.login(ctx["self"])
    assert client.get(url).status_code == 403


def test_unencrypted_smtp_to_another_host_stops_production_start_up():
    from pallapp import create_app
    from pallapp.config import ConfigurationError

    production = {"ENV_NAME": "production", "SECRET_KEY": "k" * 32,
                  "BASE_URL": "https://pallapp.example.org", "DATABASE_URL": "sqlite://"}
    with pytest.raises(ConfigurationError, match="SMTP_SECURITY=none"):
        create_app(production | {"SMTP_SECURITY": "none", "SMTP_HOST": "mail.example.org"})
    with pytest.raises(ConfigurationError, match="must be one of"):
        create_app(production | {"SMTP_SECURITY": "ssl"})
    app = create_app(production | {"SMTP_SECURITY": "none", "SMTP_HOST": "localhost"})
    assert app.config["SMTP_HOST"] == "localhost"


def test_a_repeat_says_the_unit_was_alerted_earlier_and_promises_nothing_new(app, client, auth, ctx):
    cover(app, ctx, always=True)
    auth.login(ctx["self"])
    report_pain_9(client, ctx)
    # Other answers (identical ones within minutes are asked about first), the same rule and item.
    page = report_pain_9(client, ctx, pain="8").get_data(as_text=True)
    assert "Team Syd was alerted about this earlier, and nobody has confirmed it yet." in page
    assert "will contact you within" not in page
    assert "Night: 010-999 99 99 (jour)" in page
