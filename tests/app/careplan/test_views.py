"""Care plan, order and dose pages over HTTP: permissions, the warning-and-confirm step, the
patient page as the home-visit hub."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pallapp.careplan import common as careplan_common
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import CarePlan, Flag, PrnAdministration, PrnOrder, Role, utcnow
from pallapp.timeutil import STOCKHOLM
from tests.factories import link_relative, make_patient, make_unit, make_user
from tests.sql_log import statements_sent

MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=60, max_doses_per_24h=6,
)


@pytest.fixture
def ctx(app):
    with app.app_context():
        unit = make_unit("Team Mora")
        patient = make_patient([unit], given_name="Signe")
        # English pages: the assertions read the msgids, whatever the Swedish catalogue says.
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        relative = make_user(Role.RELATIVE, language="en")
        link_relative(relative, patient)
        order = order_service.create_order(physician, patient.public_id, MORPHINE,
                                      start_at=utcnow() - timedelta(days=1))
        plan_service.save_care_plan(
            nurse, patient.public_id,
            {"contacts": "Ring 010-111 dygnet runt", "treatment_limitations": "Vård i hemmet",
             "for_patient_and_relatives": "Vi kommer varje dag."},
            based_on=None,
        )
        db.session.commit()
        world = {
            "pid": patient.public_id,
            "order": order.public_id,
            "nurse": nurse.email,
            "physician": physician.email,
            "relative": relative.email,
        }
    # Requests must not run inside this app context (it would keep the first request's locale).
    return world


def local_input(moment):
    """A datetime as the datetime-local field sends it (Swedish time)."""
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M")


def dose_form(when, token, **extra):
    return {"given_at": local_input(when), "dose": "2,5", "dose_unit": "mg", "route": "sc",
            "client_token": token, **extra}


def count(model):
    return db.session.scalar(select(func.count(model.id)))


def test_quick_add_fills_in_the_indication_and_nothing_else(ctx, client, auth):
    auth.login(ctx["physician"])
    page = client.get(f"/patients/{ctx['pid']}/orders/new?indication=death_rattle").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="death_rattle"|<input[^>]*value="death_rattle"[^>]*checked', page)
    for name in ("drug", "dose", "dose_unit", "strength", "min_interval", "max_doses_per_24h"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'value=""' in tag or "value=" not in tag, tag


def test_a_physician_orders_a_nurse_is_refused(app, ctx, client, auth):
    form = {"indication": "nausea", "drug": "Haloperidol", "dose": "0,5", "dose_unit": "mg",
            "route": "sc", "min_interval": "0,5", "max_doses_per_24h": "4"}
    auth.login(ctx["nurse"])
    assert client.get(f"/patients/{ctx['pid']}/orders/new").status_code == 404
    assert client.post(f"/patients/{ctx['pid']}/orders/new", data=form).status_code == 404
    auth.logout()
    auth.login(ctx["physician"])
    response = client.post(f"/patients/{ctx['pid']}/orders/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        nausea = db.session.scalar(select(PrnOrder).where(PrnOrder.indication == "nausea"))
        # "0,5" hours = 0.5 x 60 = 30 minutes.
        assert (nausea.drug, nausea.min_interval_minutes, nausea.max_doses_per_24h) == ("Haloperidol", 30, 4)
        assert abs(nausea.start_at - utcnow()) < timedelta(minutes=1)  # empty start: from now


@pytest.mark.parametrize("interval", ["NaN", "Infinity", "-1", "0", "1e9", "abc", "0,001"])
def test_an_unusable_minimum_interval_is_a_form_error(app, ctx, client, auth, interval):
    # NaN and Infinity parse as decimals; NaN made a server error (found by fuzzing).
    form = {"indication": "nausea", "drug": "Haloperidol", "dose": "0,5", "dose_unit": "mg",
            "route": "sc", "min_interval": interval, "max_doses_per_24h": "4"}
    auth.login(ctx["physician"])
    response = client.post(f"/patients/{ctx['pid']}/orders/new", data=form)
    assert response.status_code == 200
    assert "Write the number of hours" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(PrnOrder).where(PrnOrder.indication == "nausea")) is None


def test_an_order_may_start_later(app, ctx, client, auth):
    auth.login(ctx["physician"])
    start = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
    form = {"indication": "anxiety", "drug": "Midazolam", "dose": "1", "dose_unit": "mg",
            "route": "sc", "min_interval": "1", "max_doses_per_24h": "4",
            "start_at": local_input(start)}
    assert client.post(f"/patients/{ctx['pid']}/orders/new", data=form).status_code == 302
    with app.app_context():
        anxiety = db.session.scalar(select(PrnOrder).where(PrnOrder.indication == "anxiety"))
        assert anxiety.start_at == start
        assert not anxiety.is_active(utcnow())


def test_a_dose_too_soon_is_warned_about_and_stored_only_when_confirmed_with_a_reason(
    app, ctx, client, auth
):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    first = utcnow() - timedelta(minutes=40)
    assert client.post(url, data=dose_form(first, "a" * 32)).status_code == 302
    # 40 minutes later than the first dose; the order says at least 60 minutes.
    warned = client.post(url, data=dose_form(utcnow(), "b" * 32))
    text = warned.get_data(as_text=True)
    assert warned.status_code == 200
    assert "outside the order" in text
    assert "at least 1 h between doses" in text
    assert 'name="confirm_over_limit"' in text
    with app.app_context():
        assert count(PrnAdministration) == 1
    # Confirmed without a reason: still refused, and the reason is asked for.
    no_reason = client.post(url, data=dose_form(utcnow(), "b" * 32, confirm_over_limit="y"))
    assert "Write why the dose was given outside" in no_reason.get_data(as_text=True)
    with app.app_context():
        assert count(PrnAdministration) == 1
    confirmed = client.post(url, data=dose_form(utcnow(), "b" * 32, confirm_over_limit="y",
                                                over_limit_reason="Genombrottssmärta"))
    assert confirmed.status_code == 302
    with app.app_context():
        assert count(PrnAdministration) == 2
        flag = db.session.scalar(select(Flag).where(Flag.code == "prn_over_limit"))
        assert (flag.severity, flag.items) == ("high", ["pain"])


def test_a_dose_exactly_at_the_interval_is_stored_without_warning(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    # Minute precision in the form: first at t - 60 min, the second at t; 60 >= 60.
    now = utcnow().replace(second=0, microsecond=0)
    assert client.post(url, data=dose_form(now - timedelta(minutes=60), "c" * 32)).status_code == 302
    assert client.post(url, data=dose_form(now, "d" * 32)).status_code == 302
    with app.app_context():
        assert count(PrnAdministration) == 2
        assert db.session.scalars(select(Flag.code).where(Flag.source == "dose")).all() == []


def test_csrf_is_required_for_a_dose(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose",
                           data=dose_form(utcnow(), "e" * 32))
    assert response.status_code == 400
    with app.app_context():
        assert count(PrnAdministration) == 0


def test_a_relative_sees_contacts_and_their_part_not_the_orders(ctx, client, auth):
    auth.login(ctx["relative"])
    page = client.get(f"/patients/{ctx['pid']}").get_data(as_text=True)
    assert "Ring 010-111 dygnet runt" in page
    assert "Vi kommer varje dag." in page
    assert "Morfin" not in page
    assert "Vård i hemmet" not in page
    assert client.get(f"/patients/{ctx['pid']}/orders").status_code == 404
    assert client.get(f"/patients/{ctx['pid']}/care-plan/history").status_code == 404
    plan = client.get(f"/patients/{ctx['pid']}/care-plan").get_data(as_text=True)
    assert "Vård i hemmet" not in plan


def test_the_patient_page_is_the_home_visit_hub(app, ctx, client, auth):
    with app.app_context():
        nurse = db.session.scalar(select(careplan_common.User).where(careplan_common.User.email == ctx["nurse"]))
        dose_service.record_dose(nurse, ctx["pid"], ctx["order"], given_at=utcnow() - timedelta(hours=2),
                             dose="2,5", dose_unit="mg", route="sc", client_token="f" * 32)
        db.session.commit()
    auth.login(ctx["nurse"])
    page = client.get(f"/patients/{ctx['pid']}").get_data(as_text=True)
    assert "Ring 010-111 dygnet runt" in page
    assert "Vård i hemmet" in page
    assert "Morfin" in page
    assert "Doses in the last 24 hours: 1" in page
    assert "record the effect" in page
    # No assessment yet: the overdue reminder is opened by viewing the page.
    assert "Symptom assessment overdue" in page


def test_the_patient_page_closes_a_reminder_no_longer_due_and_shows_the_other_flags(app, ctx, client, auth):
    from pallapp import flags, scoring
    from pallapp.assessments.services import submit_assessment
    from pallapp.models import Patient

    with app.app_context():
        nurse = db.session.scalar(select(careplan_common.User).where(careplan_common.User.email == ctx["nurse"]))
        patient = db.session.scalar(select(Patient).where(Patient.public_id == ctx["pid"]))
        esas = dict.fromkeys(("pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite",
                              "shortness_of_breath", "depression", "anxiety", "wellbeing"), 1)
        submit_assessment(nurse, ctx["pid"], instrument="esas_r", answers=dict(esas, pain=9),
                          client_token="r" * 32, observed_at=utcnow() - timedelta(hours=1))
        # Rated an hour ago, yet an overdue reminder is open (left from before the rating).
        stale = flags.new_flag(patient, scoring.Flag("assessment_overdue", "info"), source="reminder")
        db.session.add(stale)
        db.session.commit()
        stale_id = stale.id
    auth.login(ctx["nurse"])
    page = client.get(f"/patients/{ctx['pid']}").get_data(as_text=True)
    assert "Symptom assessment overdue" not in page
    assert "Severe symptom" in page
    with app.app_context():
        closed = db.session.get(Flag, stale_id)
        assert (closed.closed_at is not None, closed.close_reason) == (True, "resolved")


def test_care_plan_edits_make_versions_over_http(app, ctx, client, auth):
    auth.login(ctx["physician"])
    url = f"/patients/{ctx['pid']}/care-plan/edit"
    assert 'name="based_on" type="hidden" value="1"' in client.get(url).get_data(as_text=True)
    saved = client.post(url, data={"contacts": "Ring 010-222", "based_on": "1"})
    assert saved.status_code == 302
    # The same form, sent again from version 1, would overwrite version 2: refused.
    stale = client.post(url, data={"contacts": "Ring 010-333", "based_on": "1"})
    assert "Someone saved the care plan" in stale.get_data(as_text=True)
    history = client.get(f"/patients/{ctx['pid']}/care-plan/history").get_data(as_text=True)
    assert "Version 2" in history
    assert "Version 1" in history
    with app.app_context():
        assert [p.contacts for p in db.session.scalars(select(CarePlan).order_by(CarePlan.version))] == [
            "Ring 010-111 dygnet runt", "Ring 010-222"
        ]


def test_recording_a_death_over_http_stops_the_orders(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    today = utcnow().astimezone(STOCKHOLM).date().isoformat()
    missing_place = client.post(f"/patients/{ctx['pid']}/milestones/new",
                                data={"kind": "death", "occurred_on": today})
    assert "Choose the place of death." in missing_place.get_data(as_text=True)
    response = client.post(f"/patients/{ctx['pid']}/milestones/new",
                           data={"kind": "death", "occurred_on": today, "place": "home",
                                 "death_expected": "yes", "free_of_pressure_ulcers": "yes"})
    assert response.status_code == 302
    with app.app_context():
        order = db.session.scalar(select(PrnOrder))
        assert order.stop_cause == "deceased"
    page = client.get(f"/patients/{ctx['pid']}").get_data(as_text=True)
    assert "No as-needed order is in force." in page


def test_every_page_renders_for_the_care_team(app, ctx, client, auth):
    with app.app_context():
        nurse = db.session.scalar(select(careplan_common.User).where(careplan_common.User.email == ctx["nurse"]))
        given = dose_service.record_dose(nurse, ctx["pid"], ctx["order"], given_at=utcnow() - timedelta(hours=1), dose="2,5",
                                     dose_unit="mg", route="sc", client_token="9" * 32)
        dose_id = given.administration.public_id
        milestone_service.record_milestone(nurse, ctx["pid"], kind="svas_held",
                                  occurred_on=utcnow().astimezone(STOCKHOLM).date())
        db.session.commit()
    base = f"/patients/{ctx['pid']}"
    auth.login(ctx["physician"])
    for path in ("/care-plan", "/care-plan/edit", "/care-plan/history", "/milestones",
                 "/milestones/new", "/orders", "/orders/new", f"/orders/{ctx['order']}/change",
                 f"/orders/{ctx['order']}/stop", f"/orders/{ctx['order']}/dose",
                 f"/doses/{dose_id}/evaluate", f"/doses/{dose_id}/correct", ""):
        assert client.get(base + path).status_code == 200, path
    # Quick-add offers the four standard indications (Svenska palliativregistret).
    orders = client.get(base + "/orders").get_data(as_text=True)
    for code in ("pain", "nausea", "anxiety", "death_rattle"):
        assert f"orders/new?indication={code}" in orders
    evaluated = client.post(f"{base}/doses/{dose_id}/evaluate",
                            data={"effect": "better", "symptom_after": "2",
                                  "evaluated_at": local_input(utcnow())})
    assert evaluated.status_code == 302
    assert "record the effect" not in client.get(base).get_data(as_text=True)


def test_the_admin_lets_a_units_relatives_record_doses(app, ctx, client, auth):
    from pallapp.models import CareUnit

    with app.app_context():
        admin = make_user(Role.ADMIN, language="en")
        unit = db.session.scalar(select(CareUnit).where(CareUnit.name == "Team Mora"))
        unit_id, admin_email = unit.public_id, admin.email
        db.session.commit()
    dose_url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    auth.login(ctx["relative"])
    assert client.get(dose_url).status_code == 404
    auth.logout()
    auth.login(admin_email)
    saved = client.post(f"/admin/units/{unit_id}", data={
        "name": "Team Mora", "kind": "specialised_palliative", "phone": "010-123 45 67",
        "assessment_interval_days": "7", "end_of_life_interval_days": "2",
        "relatives_may_record_doses": "y",
    })
    assert saved.status_code == 302
    auth.logout()
    auth.login(ctx["relative"])
    assert client.get(dose_url).status_code == 200
    assert client.post(dose_url, data=dose_form(utcnow(), "7" * 32)).status_code == 302
    with app.app_context():
        assert count(PrnAdministration) == 1


# What the patient page (the home-visit hub) sends for a nurse, whatever the patient has: the
# user, one query that opens the record, answers every "may I" of the page and brings the
# episodes with their units, the audit row, one statement for the care record (the open orders
# with prescribers, the milestones with who recorded them, the open flags with their
# assessments and the latest rating times, which serve the reminders as well as the page, the
# care plan, the doses of the last 24 h and those to evaluate, each with its order), the
# relatives with their accounts and the levels marked as expected with who marked them (the
# alerts panel) in one statement, and the latest rating of each key instrument (the scores at
# the top). An N+1 makes it grow with the rows; a new query on the page shows up here, to be
# counted on purpose. 14: the reminders read the open flags the page loads anyway, instead of
# reading them again; 13: the episodes come with the record; 12: both lists of doses in one
# statement; 11: the relatives and the expected levels in one statement; 6: the care record's
# seven parts in one statement (`carerecord.care_record`).
PATIENT_PAGE_STATEMENTS = 6


def test_the_patient_page_query_count_does_not_grow_with_orders_and_doses(app, ctx, client, auth):

    from pallapp.assessments import services as assessment_services
    from pallapp.models import CareUnit

    with app.app_context():
        physician = db.session.scalar(select(careplan_common.User).where(careplan_common.User.email == ctx["physician"]))
        nurse = db.session.scalar(select(careplan_common.User).where(careplan_common.User.email == ctx["nurse"]))
        mora = db.session.scalar(select(CareUnit).where(CareUnit.name == "Team Mora"))
        # Two units follow the busy patient (the nurse works in one), three relatives, four
        # orders with three doses each, rated twice with flags, three milestones.
        busy = make_patient([mora, make_unit("Kommunal hemsjukvård")])
        for _relative in range(3):
            link_relative(make_user(Role.RELATIVE), busy)
        plan_service.save_care_plan(nurse, busy.public_id, {"contacts": "010-111"}, based_on=None)
        for number, indication in enumerate(("pain", "nausea", "anxiety", "death_rattle")):
            busy_order = order_service.create_order(
                physician, busy.public_id,
                OrderDetails(**{**MORPHINE.__dict__, "indication": indication, "min_interval_minutes": 1}),
                start_at=utcnow() - timedelta(days=1),
            )
            for hours in (1, 2, 3):
                dose_service.record_dose(nurse, busy.public_id, busy_order.public_id,
                                     given_at=utcnow() - timedelta(hours=hours), dose="2,5", dose_unit="mg",
                                     route="sc", client_token=f"{number}{hours}".ljust(32, "0"))
        calm = dict.fromkeys(("pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite",
                              "shortness_of_breath", "depression", "anxiety", "wellbeing"), 1)
        for number, answers in enumerate((dict(calm, pain=8, nausea=5), dict(calm, anxiety=9))):
            assessment_services.submit_assessment(
                nurse, busy.public_id, instrument="esas_r", answers=answers,
                client_token=f"busy-esas-{number}".ljust(32, "0"),
                observed_at=utcnow() - timedelta(hours=number + 1),
            )
        for kind in ("svas_held", "sip", "care_plan_agreed"):
            milestone_service.record_milestone(nurse, busy.public_id, kind=kind,
                                      occurred_on=utcnow().date() - timedelta(days=1))
        dose_service.record_dose(nurse, ctx["pid"], ctx["order"], given_at=utcnow() - timedelta(hours=1),
                             dose="2,5", dose_unit="mg", route="sc", client_token="q" * 32)
        busy_id = busy.public_id
        db.session.commit()
        open_flags = db.session.scalar(
            select(func.count(Flag.id)).where(Flag.patient_id == busy.id, Flag.closed_at.is_(None))
        )
        assert open_flags >= 3  # the page has rows to show
    auth.login(ctx["nurse"])

    def queries_for(public_id):
        client.get(f"/patients/{public_id}")  # the first view may open reminder flags
        with statements_sent(app) as sent:
            page = client.get(f"/patients/{public_id}")
        assert page.status_code == 200
        return len(sent), page.get_data(as_text=True)

    queries, page = queries_for(busy_id)
    # The rows are on the page: orders, relatives, both units, milestones.
    assert page.count("Ordered by") == 4
    assert "Kommunal hemsjukvård" in page
    assert queries == PATIENT_PAGE_STATEMENTS, queries
    # One order with one dose, one unit, one relative: the same statements.
    assert queries_for(ctx["pid"])[0] == PATIENT_PAGE_STATEMENTS


def test_correcting_a_dose_over_http(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    given = utcnow() - timedelta(hours=3)
    client.post(f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose", data=dose_form(given, "1" * 32))
    with app.app_context():
        dose_id = db.session.scalar(select(PrnAdministration.public_id))
    url = f"/patients/{ctx['pid']}/doses/{dose_id}/correct"
    form = dose_form(given - timedelta(hours=1), "2" * 32, dose="2.50")
    assert "Why is the dose corrected?" in client.post(url, data=form).get_data(as_text=True)
    assert client.post(url, data={**form, "reason": "Fel tid angiven"}).status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(PrnAdministration).order_by(PrnAdministration.id)).all()
        # The text as written is kept; the amount is the same number.
        assert [(r.dose, r.amount, r.supersedes_id, r.correction_reason) for r in rows] == [
            ("2,5", Decimal("2.5"), None, None), ("2.50", Decimal("2.5"), rows[0].id, "Fel tid angiven")
        ]


def test_choice_labels_are_translated_when_rendered_not_at_import(app):
    # Built once at import: an eager str would stay in the language of that moment.
    from flask_babel import LazyString

    from pallapp.forms.careplan import DoseForm, EvaluateForm, MilestoneForm, OrderForm

    with app.test_request_context():
        forms = (DoseForm(meta={"csrf": False}), EvaluateForm(meta={"csrf": False}),
                 MilestoneForm(meta={"csrf": False}), OrderForm(meta={"csrf": False}))
        fields = [forms[0].route, forms[1].effect, forms[2].kind, forms[2].place, forms[3].indication]
        labels = [choice.label for field in fields for choice in field.choices]
    # 7 routes + 3 effects + 8 milestone kinds + (1 + 4) places + 6 indications = 29
    assert len(labels) == 29
    assert all(isinstance(label, LazyString) for label in labels)
