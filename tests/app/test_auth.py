"""Logging in and out, the `next` parameter, idle timeouts and session cookies."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AuditEvent, Role, User
from tests.factories import PASSWORD, make_unit, make_user


@pytest.fixture
def nurse_email(app):
    with app.app_context():
        user = make_user(Role.NURSE, units=[make_unit()])
        db.session.commit()
        return user.email


def audit_actions(app):
    with app.app_context():
        return [
            (e.action, e.outcome)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_login_page_is_swedish_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert b'<html lang="sv">' in page.data
    assert b"Logga in" in page.data


def test_login_succeeds_and_goes_to_today(app, client, nurse_email):
    response = client.post("/login", data={"email": nurse_email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/start"
    assert client.get("/start").location == "/today"
    assert client.get("/today").status_code == 200
    assert ("login", "ok") in audit_actions(app)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == nurse_email))
        assert user.last_login_at is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [("nurse-unknown@example.org", PASSWORD), (None, "wrong password"), (None, "")],
)
def test_login_fails_with_one_generic_message(app, client, nurse_email, email, password):
    response = client.post("/login", data={"email": email or nurse_email, "password": password})
    assert response.status_code == 200
    assert client.get("/today").status_code == 302  # still anonymous
    if password:
        # the same words for an unknown e-mail and a wrong password
        assert "Fel e-postadress eller lösenord".encode() in response.data
        assert ("login_failed", "failed") in audit_actions(app)


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/today?q=Alma", "/today?q=Alma"),
        ("https://evil.example/steal", "/start"),
        ("//evil.example/steal", "/start"),
        ("/\\evil.example", "/start"),
        ("javascript:alert(1)", "/start"),
        ("today", "/start"),
        ("", "/start"),
    ],
)
def test_next_is_followed_only_for_local_paths(client, nurse_email, next_value, expected):
    response = client.post(
        "/login", data={"email": nurse_email, "password": PASSWORD, "next": next_value}
    )
    assert response.status_code == 302
    assert response.location == expected


def test_login_form_carries_next_from_the_query(client):
    page = client.get("/login?next=/today")
    assert b'value="/today"' in page.data


def test_logout_needs_post_and_ends_the_session(app, client, auth, nurse_email):
    auth.login(nurse_email)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.location == "/login"
    assert client.get("/today").status_code == 302
    assert ("logout", "ok") in audit_actions(app)


def test_staff_session_expires_after_idle_minutes(app, client, auth, nurse_email):
    auth.login(nurse_email)
    assert client.get("/today").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - (30 * 60 + 5)  # 30 minutes and 5 seconds idle
    response = client.get("/today")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/today")
    assert client.get("/today").status_code == 302  # logged out for good
    assert ("logout", "idle_timeout") in audit_actions(app)


def test_staff_session_survives_just_under_the_limit(client, auth, nurse_email):
    auth.login(nurse_email)
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - (30 * 60 - 30)  # 29.5 minutes idle
    assert client.get("/today").status_code == 200


@pytest.mark.parametrize("app_config", [{"STAFF_IDLE_MINUTES": 5}])
def test_idle_limit_is_configurable(client, auth, nurse_email, app_config):
    auth.login(nurse_email)
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - (5 * 60 + 5)
    assert client.get("/today").status_code == 302


def test_patients_are_not_logged_out_after_thirty_minutes(app, client, auth):
    with app.app_context():
        email = make_user(Role.PATIENT).email
        db.session.commit()
    auth.login(email)
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 45 * 60
    assert client.get("/start").status_code == 200


def test_session_cookie_is_httponly_and_samesite(client, nurse_email):
    response = client.post("/login", data={"email": nurse_email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_deactivating_an_account_ends_its_sessions(app, client, auth, nurse_email):
    auth.login(nurse_email)
    with app.app_context():
        from pallapp.admin.services import set_active

        admin = make_user(Role.ADMIN)
        user = db.session.scalar(select(User).where(User.email == nurse_email))
        set_active(admin, user, False)
        db.session.commit()
    assert client.get("/today").status_code == 302


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_login_without_csrf_token_is_refused(app, client, nurse_email, app_config):
    response = client.post("/login", data={"email": nurse_email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/today").status_code == 302


NEW_PASSWORD = "a brand new passphrase"


def test_password_change_ends_other_sessions_and_keeps_this_one(app, nurse_email):
    tablet, desk = app.test_client(), app.test_client()
    for device in (tablet, desk):
        assert device.post("/login", data={"email": nurse_email, "password": PASSWORD}).status_code == 302
    changed = desk.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert desk.get("/today").status_code == 200  # this device goes on
    assert tablet.get("/today").status_code == 302  # the other one must log in again
    assert tablet.post("/login", data={"email": nurse_email, "password": PASSWORD}).status_code == 200
    assert tablet.post("/login", data={"email": nurse_email, "password": NEW_PASSWORD}).status_code == 302


def test_password_change_needs_the_current_password(app, client, nurse_email):
    client.post("/login", data={"email": nurse_email, "password": PASSWORD})
    page = client.post(
        "/account/password",
        data={"current": "not it at all", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert page.status_code == 200
    assert "Det nuvarande lösenordet stämmer inte." in page.get_data(as_text=True)
    assert client.get("/today").status_code == 200  # nothing changed, still logged in
    assert ("update", "failed") in audit_actions(app)
    client.post("/logout")
    assert client.post("/login", data={"email": nurse_email, "password": PASSWORD}).status_code == 302


def test_password_change_page_needs_a_login(client):
    assert client.get("/account/password").status_code == 302


# --- sessions end on the server, expire when idle, and stay with their browser ---------------

COOKIE = "pallapp_session"


def replay(app, cookie_value: str, user_agent: str | None = None):  # type: ignore[no-untyped-def]
    """A new browser that sends a copied session cookie (and, if given, its own User-Agent)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie_value)
    headers = {"User-Agent": user_agent} if user_agent else {}
    return thief.get("/today", headers=headers)


def test_item03_logout_ends_the_session_on_the_server(app, client, auth, nurse_email):
    auth.login(nurse_email)
    assert client.get("/today").status_code == 200
    copied = client.get_cookie(COOKIE).value
    assert replay(app, copied).status_code == 200  # a copy works while the session lives
    desk = app.test_client()
    assert desk.post("/login", data={"email": nurse_email, "password": PASSWORD}).status_code == 302
    auth.logout()
    refused = replay(app, copied)
    assert refused.status_code == 302
    assert refused.location.startswith("/login")
    # The token is the account's: logging out ends its sessions on every device.
    assert desk.get("/today").status_code == 302
    assert desk.post("/login", data={"email": nurse_email, "password": PASSWORD}).status_code == 302
    assert desk.get("/today").status_code == 200


class _Clock:
    """Stands in for the `time` module of pallapp.auth.session: now, plus `ahead` seconds."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def time(self) -> float:
        return time.time() + self.ahead


def test_item04_the_login_cookie_is_subject_to_the_idle_limit(
    app, client, nurse_email, monkeypatch
):
    import pallapp.auth.session as session_rules

    login = client.post("/login", data={"email": nurse_email, "password": PASSWORD})
    assert login.status_code == 302
    cookie = client.get_cookie(COOKIE).value  # as the login response set it, never used since
    monkeypatch.setattr(session_rules, "time", _Clock(30 * 60 - 30))  # 29.5 minutes later
    assert replay(app, cookie).status_code == 200
    monkeypatch.setattr(session_rules, "time", _Clock(30 * 60 + 5))  # 30 minutes 5 s later
    expired = replay(app, cookie)
    assert expired.status_code == 302
    assert expired.location.startswith("/login?next=/today")


def test_the_session_cookie_is_sent_again_only_when_it_changed(
    app, client, nurse_email, monkeypatch
):
    import pallapp.auth.session as session_rules

    assert client.post("/login", data={"email": nurse_email, "password": PASSWORD}).status_code
    assert client.get("/today").status_code == 200  # the first page may add its form token
    unchanged = client.get("/today")
    assert unchanged.status_code == 200
    assert "Set-Cookie" not in unchanged.headers
    before = client.get_cookie(COOKIE).value
    # A step later the last-seen time moves, and the cookie with it.
    monkeypatch.setattr(session_rules, "time", _Clock(session_rules.LAST_SEEN_STEP + 1))
    moved = client.get("/today")
    assert "Set-Cookie" in moved.headers
    assert client.get_cookie(COOKIE).value != before
    with client.session_transaction() as session:
        assert session["last_seen"] > time.time() + session_rules.LAST_SEEN_STEP
        assert session.permanent


def test_an_active_session_outlives_the_idle_limit(app, client, nurse_email, monkeypatch):
    import pallapp.auth.session as session_rules

    assert client.post("/login", data={"email": nurse_email, "password": PASSWORD}).status_code
    # A request every 20 minutes for an hour and a half: never 30 minutes idle.
    for minutes in range(20, 100, 20):
        monkeypatch.setattr(session_rules, "time", _Clock(minutes * 60))
        assert client.get("/today").status_code == 200, minutes


def test_item04_a_session_without_last_seen_is_expired(app, client, auth, nurse_email):
    auth.login(nurse_email)
    assert client.get("/today").status_code == 200
    with client.session_transaction() as session:
        del session["last_seen"]
    response = client.get("/today")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/today")
    assert client.get("/today").status_code == 302
    assert ("logout", "idle_timeout") in audit_actions(app)


def test_item05_a_cookie_replayed_with_another_user_agent_is_refused(app, nurse_email):
    tablet = app.test_client()
    tablet_agent = {"User-Agent": "Mozilla/5.0 (iPad; CPU OS 17_5) Safari/605.1.15"}
    login = tablet.post(
        "/login", data={"email": nurse_email, "password": PASSWORD}, headers=tablet_agent
    )
    assert login.status_code == 302
    # The cookie as it is after the first page (Flask-Login's own check caught only the cookie
    # of the login response: every later one was "permanent", which it lets through).
    assert tablet.get("/today", headers=tablet_agent).status_code == 200
    copied = tablet.get_cookie(COOKIE).value
    assert replay(app, copied, tablet_agent["User-Agent"]).status_code == 200  # same browser
    other = replay(app, copied, "curl/8.5.0")
    assert other.status_code == 302
    assert other.location.startswith("/login")
    assert ("logout", "other_browser") in audit_actions(app)
    # The owner's session is not disturbed by the refused copy.
    assert tablet.get("/today", headers=tablet_agent).status_code == 200
