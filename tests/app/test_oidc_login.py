"""Logging in through the two OpenID Connect providers, against real providers (oidc-provider
run by tests/identity.py): invitations bound to the provider's claim, logins by that claim,
the refusals (unknown identity, weak level of assurance, wrong person, wrong provider), and
logout at the provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pallapp.auth.services import issue_invitation
from pallapp.extensions import db
from pallapp.models import AuditEvent, Patient, Role, User
from tests.factories import make_patient, make_unit, make_user
from tests.identity import login_at_provider


@pytest.fixture
def app_config(identity_providers):  # type: ignore[no-untyped-def]
    return identity_providers.config()


def invite(app, role: Role, email: str, *, personnummer: str | None = None) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        unit = make_unit()
        admin = make_user(Role.ADMIN)
        nurse = make_user(Role.NURSE, units=[unit])
        patient_id = None
        if role in (Role.PATIENT, Role.RELATIVE):
            patient = make_patient([unit])
            if personnummer is not None:
                patient.personnummer = personnummer
            patient_id = patient.id
        issued = issue_invitation(
            created_by=nurse if patient_id else admin,
            email=email,
            name="Invited",
            role=role,
            valid_for=timedelta(hours=1),
            unit_id=None if patient_id else unit.id,
            patient_id=patient_id,
            relation="daughter" if role is Role.RELATIVE else None,
        )
        db.session.commit()
        return issued.token


def account(app, email: str) -> User | None:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def audit_details(app, action: str) -> list[str | None]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action)))


def test_a_nurse_accepts_her_invitation_at_the_staff_provider_and_logs_in_with_it(app, client):
    token = invite(app, Role.NURSE, "nina@example.org")
    page = client.get(f"/invitation/{token}")
    assert f"/invitation/{token}/with/staff".encode() in page.data
    assert b"/with/citizen" not in page.data  # staff are not offered the citizens' login

    response = login_at_provider(client, f"/invitation/{token}/with/staff", "nurse-nina")
    assert response.status_code == 302
    assert response.location == "/start"
    user = account(app, "nina@example.org")
    assert user is not None
    assert (user.identity_provider, user.identity_claim) == ("staff", "SE2321000016-N001")
    assert user.password_hash is None  # no password for one more app
    assert client.get("/today").status_code == 200

    client.post("/logout")
    response = login_at_provider(client, "/login/with/staff", "nurse-nina")
    assert response.status_code == 302
    assert response.location == "/start"
    assert client.get("/today").status_code == 200
    assert audit_details(app, "login").count("oidc:staff") == 2  # accepting, then logging in


def test_a_patient_accepts_with_e_identification_only_as_herself(app, client):
    token = invite(app, Role.PATIENT, "alma@example.org", personnummer="194103149995")
    response = login_at_provider(client, f"/invitation/{token}/with/citizen", "patient-alma")
    assert response.status_code == 302
    assert response.location == "/start"
    user = account(app, "alma@example.org")
    assert user is not None
    assert user.identity_claim == "194103149995"
    with app.app_context():
        patient = db.session.get(Patient, user.patient_id)
        assert patient is not None
        assert patient.personnummer == "194103149995"
    assert client.get("/start").status_code == 200


def test_a_forwarded_patient_invitation_is_refused_to_another_person(app, client):
    token = invite(app, Role.PATIENT, "alma@example.org", personnummer="194103149995")
    response = login_at_provider(client, f"/invitation/{token}/with/citizen", "relative-rut")
    assert response.status_code == 409
    assert b"not that of the person" in response.data or b"inte" in response.data
    assert account(app, "alma@example.org") is None  # nothing bound, nothing created
    assert "citizen: invitation refused (wrong_person)" in audit_details(app, "login_failed")


def test_a_relative_accepts_at_the_citizen_provider(app, client):
    token = invite(app, Role.RELATIVE, "rut@example.org")
    response = login_at_provider(client, f"/invitation/{token}/with/citizen", "relative-rut")
    assert response.status_code == 302
    user = account(app, "rut@example.org")
    assert user is not None
    assert user.identity_claim == "197002029994"


def test_a_staff_invitation_cannot_be_accepted_at_the_citizen_provider(app, client):
    token = invite(app, Role.NURSE, "nina@example.org")
    response = login_at_provider(client, f"/invitation/{token}/with/citizen", "relative-rut")
    assert response.status_code == 409
    assert account(app, "nina@example.org") is None


def test_an_identity_bound_to_no_account_is_refused_and_audited(app, client):
    invite(app, Role.NURSE, "nina@example.org")  # an invitation exists, but is not used
    response = login_at_provider(client, "/login/with/staff", "stranger")
    assert response.status_code == 403
    assert client.get("/today").status_code == 302  # not logged in
    details = audit_details(app, "login_failed")
    assert "staff: no active account for this identity" in details
    assert not any("X666" in (d or "") for d in details)  # the claim itself is not logged


def test_a_login_below_the_required_level_of_assurance_is_refused(app, client):
    token = invite(app, Role.NURSE, "weak@example.org")
    response = login_at_provider(client, f"/invitation/{token}/with/staff", "nurse-weak")
    assert response.status_code == 403
    assert account(app, "weak@example.org") is None
    assert any("level of assurance" in (d or "") for d in audit_details(app, "login_failed"))


def test_an_identity_is_bound_once(app, client):
    first = invite(app, Role.NURSE, "nina@example.org")
    login_at_provider(client, f"/invitation/{first}/with/staff", "nurse-nina")
    client.post("/logout")
    second = invite(app, Role.NURSE, "nina.again@example.org")
    response = login_at_provider(client, f"/invitation/{second}/with/staff", "nurse-nina")
    assert response.status_code == 409
    assert account(app, "nina.again@example.org") is None


def test_a_deactivated_account_cannot_log_in_at_the_provider(app, client):
    token = invite(app, Role.NURSE, "nina@example.org")
    login_at_provider(client, f"/invitation/{token}/with/staff", "nurse-nina")
    client.post("/logout")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nina@example.org"))
        user.active = False
        db.session.commit()
    assert login_at_provider(client, "/login/with/staff", "nurse-nina").status_code == 403


def test_logout_ends_the_provider_session_too(app, client, identity_providers):
    token = invite(app, Role.NURSE, "nina@example.org")
    login_at_provider(client, f"/invitation/{token}/with/staff", "nurse-nina")
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.location.startswith(identity_providers.staff.issuer + "/session/end")
    assert "id_token_hint=" in response.location
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Flogin" in response.location
    assert client.get("/today").status_code == 302  # our session is over whatever it says


def test_a_callback_without_our_state_is_refused(app, client):
    response = client.get("/login/with/staff/callback?code=forged&state=forged")
    assert response.status_code == 400
    assert client.get("/today").status_code == 302
