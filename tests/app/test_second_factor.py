"""The built-in second factor through the real pages: staff who must have one are held at its
setup page, enrol with a code, then log in with password and code; a wrong code, a replayed
code, a recovery code used once, the throttle; and units that allow a password alone."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AuditEvent, RecoveryCode, Role, User
from pallapp.timeutil import today_local
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def app_config():  # type: ignore[no-untyped-def]
    # What production requires by default (pallapp/config.py), and a low throttle.
    return {"SECOND_FACTOR_ROLES": "nurse,physician,manager,admin", "SECOND_FACTOR_LIMIT": "3 per 15 minutes"}


def nurse(app, *, allowed: bool = False) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        unit = make_unit(password_alone_allowed=allowed)
        email = make_user(Role.NURSE, units=[unit]).email
        db.session.commit()
    return email


def enrol(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Set the second factor up through the page; returns the secret and the recovery codes."""
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    assert "<svg" in page  # the QR code, drawn inline
    shown = client.post("/account/second-factor", data={"code": pyotp.TOTP(secret).now()})
    assert shown.status_code == 200
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", shown.get_data(as_text=True))
    return secret, codes


def code_for_next_step(secret: str) -> str:
    """A code of the next time step (accepted: one step of drift), unused so far."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_staff_who_need_a_second_factor_reach_only_its_setup_until_it_is_on(app, client, auth):
    email = nurse(app)
    assert auth.login(email).status_code == 302
    held = client.get("/today")
    assert held.status_code == 302
    assert held.location == "/account/second-factor"
    assert client.get("/start").location == "/account/second-factor"

    secret, codes = enrol(client)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert client.get("/today").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        stored = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
        assert user.totp_secret == secret
        assert len(stored) == 10
        assert not any(code in stored for code in codes)


def test_login_with_password_then_code_and_a_wrong_code_refused(app, client, auth):
    email = nurse(app)
    auth.login(email)
    secret, _ = enrol(client)
    auth.logout()

    response = auth.login(email)
    assert response.status_code == 302
    assert response.location == "/login/second-factor"
    assert client.get("/today").status_code == 302  # not logged in yet

    wrong = client.post("/login/second-factor", data={"code": "000000"})
    assert wrong.status_code == 200
    assert client.get("/today").status_code == 302

    code = code_for_next_step(secret)
    right = client.post("/login/second-factor", data={"code": code})
    assert right.status_code == 302
    assert right.location == "/start"
    assert client.get("/today").status_code == 200

    auth.logout()
    auth.login(email)
    replayed = client.post("/login/second-factor", data={"code": code})
    assert replayed.status_code == 200  # a code is accepted once
    with app.app_context():
        details = list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login")))
        failures = db.session.scalar(
            select(db.func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "login_failed", AuditEvent.detail == "second factor"
            )
        )
    assert "password+totp" in details
    assert failures == 2  # the wrong code and the replay


def test_a_recovery_code_stands_in_once(app, client, auth):
    email = nurse(app)
    auth.login(email)
    _, codes = enrol(client)
    auth.logout()

    auth.login(email)
    used = client.post("/login/second-factor", data={"code": codes[0].lower()})
    assert used.status_code == 302
    auth.logout()
    auth.login(email)
    again = client.post("/login/second-factor", data={"code": codes[0]})
    assert again.status_code == 200
    assert client.get("/today").status_code == 302


def test_wrong_codes_are_throttled_per_account(app, client, auth):
    email = nurse(app)
    auth.login(email)
    secret, _ = enrol(client)
    auth.logout()
    auth.login(email)
    for _ in range(3):
        assert client.post("/login/second-factor", data={"code": "000000"}).status_code == 200
    refused = client.post("/login/second-factor", data={"code": code_for_next_step(secret)})
    assert refused.status_code == 429


def test_the_code_page_needs_the_password_first(app, client):
    response = client.get("/login/second-factor")
    assert response.status_code == 302
    assert response.location == "/login"


def test_a_unit_that_allows_password_alone_lets_its_staff_in(app, client, auth):
    email = nurse(app, allowed=True)
    auth.login(email)
    assert client.get("/today").status_code == 200


def test_an_administrator_always_needs_the_second_factor_where_the_role_requires_it(app, client, auth):
    with app.app_context():
        email = make_user(Role.ADMIN).email
        db.session.commit()
    auth.login(email)
    assert client.get("/admin/units").location == "/account/second-factor"


def test_patients_are_not_held_when_their_role_needs_none(app, client, auth):
    with app.app_context():
        patient = make_patient([make_unit()])
        email = make_user(Role.PATIENT, patient=patient).email
        db.session.commit()
    auth.login(email)
    assert client.get("/start").status_code == 200


def test_withdrawing_a_units_allowance_holds_a_session_begun_with_a_password(app, client, auth):
    email = nurse(app, allowed=True)
    auth.login(email)
    assert client.get("/today").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        for unit in user.active_units(today_local()):
            unit.password_alone_allowed = False
        db.session.commit()
    assert client.get("/today").location == "/account/second-factor"


def test_the_units_allowance_is_set_by_an_administrator_and_audited(app, client, auth):
    with app.app_context():
        admin = make_user(Role.ADMIN)
        unit = make_unit(password_alone_allowed=True)
        email, unit_id = admin.email, unit.public_id
        db.session.commit()
    app.config["SECOND_FACTOR_ROLES"] = frozenset({"nurse"})  # the admin without a factor here
    auth.login(email)
    form = {
        "name": "Team Lösen", "kind": "ward", "phone": "010-1", "assessment_interval_days": "7",
        "end_of_life_interval_days": "2", "ipos_recall_period": "7d",
    }
    assert client.post(f"/admin/units/{unit_id}", data=form).status_code == 302  # box unticked
    page = client.get("/admin/units").get_data(as_text=True)
    assert "Second factor required" in page or "Andra faktor krävs" in page
    with app.app_context():
        details = list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_id == unit_id)))
    assert "password alone not allowed" in details


def test_an_administrator_removes_a_lost_second_factor(app, client, auth):
    email = nurse(app)
    auth.login(email)
    enrol(client)
    auth.logout()
    with app.app_context():
        admin = make_user(Role.ADMIN)
        target = db.session.scalar(select(User).where(User.email == email)).public_id
        admin_email = admin.email
        db.session.commit()
    app.config["SECOND_FACTOR_ROLES"] = frozenset({"nurse"})  # the admin without one here
    auth.login(admin_email)
    staff_page = client.get("/admin/staff").get_data(as_text=True)
    assert f"/admin/staff/{target}/second-factor" in staff_page
    assert client.post(f"/admin/staff/{target}/second-factor").status_code == 302
    auth.logout()
    # Password alone again, and held at the setup page until a new factor is on.
    assert auth.login(email).location == "/start"
    assert client.get("/today").location == "/account/second-factor"
    with app.app_context():
        details = list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_id == target)))
    assert "second factor removed" in details
