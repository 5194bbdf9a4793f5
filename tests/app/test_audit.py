"""Audit rows for views and changes of patient data; the log is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AppendOnlyError, AuditEvent, CareUnit, Patient, Role
from tests.app.review.test_overview import count_queries
from tests.app.test_route_matrix import build_objects, url_for_rule
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def nurse_and_patient(app):
    with app.app_context():
        unit = make_unit()
        nurse = make_user(Role.NURSE, units=[unit])
        patient = make_patient([unit], given_name="Sigrid")
        db.session.commit()
        return nurse.email, patient.public_id, unit.public_id


def events(app):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_viewing_a_patient_writes_a_view_row(app, client, auth, nurse_and_patient):
    email, patient_id, unit_id = nurse_and_patient
    auth.login(email)
    client.get(f"/patients/{patient_id}")
    client.get(f"/patients/{patient_id}")
    views = [e for e in events(app) if e.action == "view" and e.object_type == "patient"]
    assert len(views) == 2
    assert all(e.object_id == patient_id and e.client_address == "127.0.0.1" for e in views)
    assert views[0].user_id is not None


def test_the_list_of_today_is_audited_without_the_search_text(app, client, auth, nurse_and_patient):
    email, patient_id, unit_id = nurse_and_patient
    auth.login(email)
    client.post("/today", data={"q": "Sigrid"})
    rows = [e for e in events(app) if e.object_type == "patient_list"]
    assert len(rows) == 1
    assert rows[0].object_id == patient_id
    assert rows[0].detail is None or "Sigrid" not in rows[0].detail


def test_item12_today_and_its_search_log_each_patient_shown(app, client, auth, nurse_and_patient):
    email, patient_id, unit_id = nurse_and_patient
    with app.app_context():
        unit = db.session.scalar(select(CareUnit).where(CareUnit.public_id == unit_id))
        for name in ("Ingrid", "Sune"):
            make_patient([unit], given_name=name)
        db.session.commit()
        shown = {
            p.given_name: p.id for p in db.session.scalars(select(Patient)).all()
        }
    auth.login(email)

    def listed(request) -> list[tuple[int | None, str]]:  # type: ignore[no-untyped-def]
        before = len(events(app))
        assert request().status_code == 200
        return sorted(
            (event.patient_id, event.action)
            for event in events(app)[before:]
            if event.action == "view"
        )

    # Today: one event per patient shown, each naming the patient; none without a patient.
    assert listed(lambda: client.get("/today")) == sorted(
        (shown[name], "view") for name in ("Ingrid", "Sigrid", "Sune")
    )
    # A search: the patients it shows, no more.
    assert listed(lambda: client.post("/today", data={"q": "sune"})) == [(shown["Sune"], "view")]
    assert listed(lambda: client.post("/today", data={"q": "nobody"})) == []
    # The patient's own access list now shows the list view.
    with app.app_context():
        sigrid_events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == shown["Sigrid"])
        ).all()
    assert [(e.action, e.object_type) for e in sigrid_events] == [("view", "patient_list")]


def test_item12_today_costs_the_same_statements_for_2_and_12_patients(
    app, client, auth, nurse_and_patient
):
    """The audit rows of a list are one bulk insert: the page's statements do not grow."""
    email, patient_id, unit_id = nurse_and_patient
    auth.login(email)

    def add(number: int) -> None:
        with app.app_context():
            unit = db.session.scalar(select(CareUnit).where(CareUnit.public_id == unit_id))
            for _index in range(number):
                make_patient([unit], given_name="Listed")
            db.session.commit()

    add(1)
    few, page_few = count_queries(app, client, "/today")
    add(10)
    many, page_many = count_queries(app, client, "/today")
    assert page_few.count("Listed") == 1
    assert page_many.count("Listed") == 11
    assert few == many
    with app.app_context():
        logged = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "patient_list")
        ).all()
    assert len(logged) == 2 + 12


def test_enrolling_a_patient_writes_a_create_row(app, client, auth, nurse_and_patient):
    email, patient_id, unit_id = nurse_and_patient
    auth.login(email)
    response = client.post(
        "/patients/new",
        data={
            "personnummer": "19121212-1212",
            "given_name": "Tolvan",
            "family_name": "Tolvansson",
            "main_diagnosis": "C34",
            "enrolled_on": "2026-01-05",
            "unit": unit_id,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.personnummer == "191212121212"))
        assert patient.is_coordination_number is False
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == patient.id)
        ).all()
    assert [r.action for r in rows] == ["create"]


def test_audit_rows_hold_no_clinical_values(app, client, auth, nurse_and_patient):
    email, patient_id, unit_id = nurse_and_patient
    auth.login(email)
    client.get(f"/patients/{patient_id}")
    for event in events(app):
        text = " ".join(str(v) for v in (event.detail, event.object_id, event.object_type) if v)
        assert "Sigrid" not in text


def test_audit_events_cannot_be_changed_or_deleted(app, client, auth, nurse_and_patient):
    email, patient_id, unit_id = nurse_and_patient
    auth.login(email)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).first()
        event.outcome = "tampered"
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
        event = db.session.scalars(select(AuditEvent)).first()
        db.session.delete(event)
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
    assert all(e.outcome == "ok" for e in events(app))


def test_failed_request_rolls_back_but_denial_is_kept(app, client, auth, nurse_and_patient):
    with app.app_context():
        stranger = make_user(Role.NURSE, units=[make_unit()])
        db.session.commit()
        stranger_email = stranger.email
    email, patient_id, unit_id = nurse_and_patient
    auth.login(stranger_email)
    assert client.get(f"/patients/{patient_id}").status_code == 404
    denied = [e for e in events(app) if e.action == "denied"]
    assert len(denied) == 1
    assert denied[0].detail == f"GET /patients/{patient_id} (view)"
    assert not [e for e in events(app) if e.action == "view" and e.object_type == "patient"]


def patient_page_rules(app):  # type: ignore[no-untyped-def]
    """Every GET route with a patient in its URL, from the URL map (the administrators'
    `public_id` is a unit's or an account's). Chart images first: loaded with their trends
    page they are grouped under its event (tested in test_logreview), alone they write one."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and "public_id" in rule.arguments
        and not rule.endpoint.startswith("admin.")
    ]
    return sorted(rules, key=lambda rule: (rule.endpoint != "review.trend_chart", rule.endpoint))


def test_item12_every_patient_page_writes_one_read_event_naming_the_patient(app, client, auth):
    objects = build_objects(app)
    with app.app_context():
        patient = db.session.scalar(
            select(Patient).where(Patient.public_id == objects.world.patient)
        ).id
    # The physician may open every patient page (new orders are theirs alone).
    auth.login(objects.world.emails["physician"])
    checked, wrong = [], []
    for rule in patient_page_rules(app):
        before = len(events(app))
        response = client.get(url_for_rule(rule, objects))
        assert response.status_code == 200, rule.endpoint
        written = events(app)[before:]
        reads = [e for e in written if e.action in ("view", "export")]
        if [(e.action, e.patient_id) for e in reads] != [("view", patient)]:
            wrong.append(f"{rule.endpoint}: {[(e.action, e.object_type, e.patient_id) for e in reads]}")
        checked.append(rule.endpoint)
    assert wrong == []
    # Every such route of the map was opened (24 when this test was written).
    assert len(checked) == len(patient_page_rules(app)) >= 24
