"""One-time, expiring invitations for patients, relatives and staff."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pallapp.extensions import db
from pallapp.models import AuditEvent, Invitation, RelativeLink, Role, User, utcnow
from tests.factories import PASSWORD, make_patient, make_unit, make_user

NEW_PASSWORD = "a long enough password"


@pytest.fixture
def setting(app):
    with app.app_context():
        unit = make_unit()
        nurse = make_user(Role.NURSE, units=[unit])
        patient = make_patient([unit], given_name="Greta")
        db.session.commit()
        return {"nurse": nurse.email, "patient": patient.public_id, "patient_id": patient.id}


def create_link(client, auth, setting, who="relative", email="daughter@example.org", **extra):
    auth.login(setting["nurse"])
    form = {"who": who, "name": "Karin Test", "email": email, "relation": "dotter", **extra}
    page = client.post(f"/patients/{setting['patient']}/invite", data=form)
    assert page.status_code == 200
    link = re.search(rb'id="invitation-link"[^>]*value="([^"]+)"', page.data).group(1).decode()
    auth.logout()
    return link.replace("http://localhost", "")


def test_relative_invitation_creates_account_and_link(app, client, auth, setting):
    path = create_link(client, auth, setting, may_answer_as_proxy="y")
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/start").status_code == 200  # logged in as the new relative
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "daughter@example.org"))
        assert user.role == Role.RELATIVE
        link = db.session.scalar(select(RelativeLink).where(RelativeLink.relative_id == user.id))
        assert link.patient_id == setting["patient_id"]
        assert link.may_answer_as_proxy is True
        assert link.may_view_history is False
        invitation = db.session.scalar(select(Invitation))
        assert invitation.used_at is not None
        assert invitation.user_id == user.id
    assert client.get(f"/patients/{setting['patient']}").status_code == 200


def test_patient_invitation_links_the_account_to_the_record(app, client, auth, setting):
    path = create_link(client, auth, setting, who="patient", email="greta@example.org")
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "greta@example.org"))
        assert user.role == Role.PATIENT
        assert user.patient_id == setting["patient_id"]
        assert db.session.scalar(select(func.count(RelativeLink.id))) == 0


def test_link_works_only_once(client, auth, setting):
    path = create_link(client, auth, setting)
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    auth.logout()
    again = client.get(path)
    assert again.status_code == 410
    assert "redan använts".encode() in again.data  # "has already been used"
    second = client.post(
        path, data={"password": "another password 123", "confirm": "another password 123"}
    )
    assert second.status_code == 410


def test_expired_link_says_so(app, client, auth, setting):
    path = create_link(client, auth, setting)
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        invitation.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 410
    assert "slutat gälla".encode() in page.data  # "has expired"
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "daughter@example.org")) is None


def test_wrong_token_is_not_found(client, auth, setting):
    path = create_link(client, auth, setting)
    page = client.get(path[:-3] + "xyz")
    assert page.status_code == 404
    assert b"inte giltig" in page.data  # "is not valid"


def test_short_or_mismatched_password_keeps_the_link_open(app, client, auth, setting):
    path = create_link(client, auth, setting)
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 200
    mismatch = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Invitation)).used_at is None
    assert (
        client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 302
    )


def test_only_a_hash_of_the_token_is_stored(app, client, auth, setting):
    path = create_link(client, auth, setting)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert token not in invitation.token_hash
        assert len(invitation.token_hash) == 64


def test_invitation_to_an_existing_email_is_refused(app, client, auth, setting):
    auth.login(setting["nurse"])
    page = client.post(
        f"/patients/{setting['patient']}/invite",
        data={"who": "relative", "name": "X", "email": setting["nurse"], "relation": "vän"},
    )
    assert page.status_code == 200
    assert b"invitation-link" not in page.data
    with app.app_context():
        assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_relative_invitation_needs_a_relation(app, client, auth, setting):
    auth.login(setting["nurse"])
    page = client.post(
        f"/patients/{setting['patient']}/invite",
        data={"who": "relative", "name": "X", "email": "x@example.org", "relation": ""},
    )
    assert b"invitation-link" not in page.data
    with app.app_context():
        assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_staff_invitation_from_admin(app, client, auth):
    with app.app_context():
        unit = make_unit("Team X")
        admin = make_user(Role.ADMIN)
        db.session.commit()
        admin_email, unit_id = admin.email, unit.public_id
    auth.login(admin_email)
    page = client.post(
        "/admin/staff/new",
        data={"name": "Ny Kollega", "email": "ny@example.org", "role": "nurse", "units": [unit_id]},
    )
    link = re.search(rb'id="invitation-link"[^>]*value="([^"]+)"', page.data).group(1).decode()
    auth.logout()
    path = link.replace("http://localhost", "")
    assert (
        client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 302
    )
    assert client.get("/today").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ny@example.org"))
        assert [m.unit.name for m in user.memberships] == ["Team X"]
        actions = {e.action for e in db.session.scalars(select(AuditEvent))}
        assert {"invite", "create", "login"} <= actions


def test_withdrawn_invitation_cannot_be_used(app, client, auth, setting):
    path = create_link(client, auth, setting)
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.public_id))
    # A relative's invitation is withdrawn by the care team, on the patient page.
    auth.login(setting["nurse"])
    withdraw = f"/patients/{setting['patient']}/invitations/{invitation_id}/withdraw"
    assert client.post(withdraw).status_code == 302
    auth.logout()
    assert client.get(path).status_code == 410


# --- account lifecycle: an invitation never brings back a deactivated account ----------------


def admin_creates_nurse(app, client, auth) -> tuple[str, str, str]:
    """An administrator creates a nurse with an invitation; returns (admin e-mail, the nurse's
    public id, the invitation path)."""
    with app.app_context():
        unit = make_unit()
        admin = make_user(Role.ADMIN)
        db.session.commit()
        admin_email, unit_id = admin.email, unit.public_id
    auth.login(admin_email)
    page = client.post(
        "/admin/staff/new",
        data={"name": "Sara Sjuk", "email": "sara@example.org", "role": "nurse", "units": [unit_id]},
    )
    link = re.search(rb'id="invitation-link"[^>]*value="([^"]+)"', page.data).group(1).decode()
    with app.app_context():
        nurse_id = db.session.scalar(
            select(User.public_id).where(User.email == "sara@example.org")
        )
    return admin_email, nurse_id, link.replace("http://localhost", "")


def test_item01_deactivation_withdraws_invitations(app, client, auth):
    admin_email, nurse_id, path = admin_creates_nurse(app, client, auth)
    assert client.post(f"/admin/staff/{nurse_id}/active", data={"active": "0"}).status_code == 302
    auth.logout()
    page = client.get(path)
    assert page.status_code == 410
    assert "har återkallats".encode() in page.data  # "has been withdrawn"
    used = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert used.status_code == 410
    assert client.get("/today").status_code == 302  # nobody logged in
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.public_id == nurse_id))
        assert nurse.active is False
        assert nurse.password_hash is None
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == nurse.email))
        assert invitation.revoked_at is not None
        assert invitation.used_at is None
        revoked = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "revoke", AuditEvent.object_id == invitation.public_id
            )
        )
        assert revoked is not None


def test_item01_an_inactive_account_cannot_accept_an_invitation(app, client, auth):
    # Belt and braces: even an invitation left open (deactivated some other way) is refused.
    admin_email, nurse_id, path = admin_creates_nurse(app, client, auth)
    auth.logout()
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.public_id == nurse_id))
        nurse.active = False
        db.session.commit()
    refused = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 409
    assert b"inaktiverat" in refused.data  # "deactivated"
    assert client.get("/today").status_code == 302
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.public_id == nurse_id))
        assert (nurse.active, nurse.password_hash) == (False, None)
        assert db.session.scalar(select(Invitation)).used_at is None
    # The same account, reactivated by the administrator, can use an open link again.
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.public_id == nurse_id))
        nurse.active = True
        db.session.commit()
    accepted = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert accepted.status_code == 302
    assert client.get("/today").status_code == 200


# --- invitation links name the configured site, never the request's Host header --------------


def link_from(page) -> str:  # type: ignore[no-untyped-def]
    return re.search(rb'id="invitation-link"[^>]*value="([^"]+)"', page.data).group(1).decode()


@pytest.mark.parametrize("app_config", [{"BASE_URL": "https://pallapp.example.se"}])
def test_item17_invitation_links_use_the_configured_base_url(app, client, setting, app_config):
    forged = "http://evil.example"  # every request below names this host
    with app.app_context():
        admin = make_user(Role.ADMIN)
        unit_id = make_unit().public_id
        db.session.commit()
        admin_email = admin.email
    login = {"email": setting["nurse"], "password": PASSWORD}
    assert client.post("/login", data=login, base_url=forged).status_code == 302
    page = client.post(
        f"/patients/{setting['patient']}/invite",
        data={"who": "relative", "name": "K", "email": "k@example.org", "relation": "dotter"},
        base_url=forged,
    )
    assert page.status_code == 200
    link = link_from(page)
    assert link.startswith("https://pallapp.example.se/invitation/"), link
    assert "evil.example" not in page.get_data(as_text=True)
    client.post("/logout", base_url=forged)
    login = {"email": admin_email, "password": PASSWORD}
    assert client.post("/login", data=login, base_url=forged).status_code == 302
    staff_page = client.post(
        "/admin/staff/new",
        data={"name": "N", "email": "n@example.org", "role": "nurse", "units": [unit_id]},
        base_url=forged,
    )
    assert link_from(staff_page).startswith("https://pallapp.example.se/invitation/")
    client.post("/logout", base_url=forged)
    # The link works on the real site: its path is the invitation page.
    path = link.removeprefix("https://pallapp.example.se")
    assert client.get(path).status_code == 200


def test_item17_without_a_base_url_testing_uses_the_request_host(app, client, auth, setting):
    # Development and tests: the address the browser used (127.0.0.1:5000 with `make run`).
    path = create_link(client, auth, setting)
    assert path.startswith("/invitation/")
