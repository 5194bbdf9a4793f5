"""Audit rows for views and changes of patient data; the log is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AppendOnlyError, AuditEvent, Patient, Role
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
    assert rows[0].detail is None


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
