"""Who sees which invitations: administrators the staff invitations, the care team the
invitations of its patients and their relatives."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pallapp.auth.services import issue_invitation
from pallapp.extensions import db
from pallapp.models import AuditEvent, Invitation, Role, utcnow
from tests.factories import make_patient, make_unit, make_user


def test_item10_admin_sees_staff_invitations_only(app, client, auth):
    with app.app_context():
        unit = make_unit("Team Inv")
        nurse = make_user(Role.NURSE, units=[unit])
        admin = make_user(Role.ADMIN)
        patient = make_patient([unit], given_name="Hemliga", family_name="Patientsson")
        week = timedelta(days=7)
        issue_invitation(
            created_by=admin, email="ny.kollega@example.org", name="Ny Kollega",
            role=Role.NURSE, valid_for=week, unit_id=unit.id,
        )
        for_patient = issue_invitation(
            created_by=nurse, email="hemliga@example.org", name="Hemliga Patientsson",
            role=Role.PATIENT, valid_for=week, patient_id=patient.id,
        ).invitation
        issue_invitation(
            created_by=nurse, email="dottern@example.org", name="Dottern Patientsdotter",
            role=Role.RELATIVE, valid_for=week, patient_id=patient.id, relation="dotter",
        )
        db.session.commit()
        ids = {
            "admin": admin.email, "nurse": nurse.email, "patient": patient.public_id,
            "invitation": for_patient.public_id, "patient_row": patient.id,
        }

    auth.login(ids["admin"])
    page = client.get("/admin/invitations").get_data(as_text=True)
    assert "Ny Kollega" in page
    for secret in ("Hemliga", "Patientsson", "Patientsdotter", "hemliga@", "dottern@"):
        assert secret not in page
    # Nor can an administrator act on a patient's invitation.
    assert client.post(f"/admin/invitations/{ids['invitation']}/revoke").status_code == 404
    auth.logout()

    # The care team sees the open invitations on the patient's invitation page and withdraws
    # them there.
    auth.login(ids["nurse"])
    record = client.get(f"/patients/{ids['patient']}/invite").get_data(as_text=True)
    assert "Dottern Patientsdotter" in record
    withdraw = f"/patients/{ids['patient']}/invitations/{ids['invitation']}/withdraw"
    assert f'action="{withdraw}"' in record
    assert client.post(withdraw).status_code == 302
    with app.app_context():
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.public_id == ids["invitation"])
        )
        assert invitation.status(utcnow()) == "revoked"
        revoked = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "revoke")
        ).all()
    assert [(event.patient_id, event.object_id) for event in revoked] == [
        (ids["patient_row"], ids["invitation"])
    ]
    # Withdrawn, it leaves the list; the relative's invitation is still open.
    record = client.get(f"/patients/{ids['patient']}/invite").get_data(as_text=True)
    assert withdraw not in record
    assert "Dottern Patientsdotter" in record
