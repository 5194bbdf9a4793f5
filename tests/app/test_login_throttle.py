"""Login throttling: failed attempts per account and per address (Flask-Limiter).

The limits are lowered here (3 per account, 5 per address, 3 per known device, 3 wrong current
passwords) so each boundary is reached in a few posts; production defaults are in
pallapp/config.py.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from pallapp.extensions import db, limiter
from pallapp.models import AuditEvent, Role
from tests.conftest import _empty_all_tables, make_app
from tests.factories import PASSWORD, make_unit, make_user

LIMITS = {
    "LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_DEVICE": "3 per 15 minutes",
    "PASSWORD_CHANGE_LIMIT": "3 per 15 minutes",
}


@pytest.fixture
def app_config() -> dict[str, object]:
    return dict(LIMITS)


@pytest.fixture
def emails(app):
    with app.app_context():
        unit = make_unit()
        found = [make_user(Role.NURSE, units=[unit]).email for _ in range(3)]
        db.session.commit()
        return found


def login(client, email, password="wrong password"):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password})


def test_the_fourth_failure_for_an_account_is_refused_even_with_the_right_password(
    app, client, emails
):
    for _ in range(3):  # the limit: 3 failed tries are answered normally
        assert login(client, emails[0]).status_code == 200
    refused = login(client, emails[0], PASSWORD)
    assert refused.status_code == 429
    # The same words whether or not the account exists: nothing to learn from the refusal.
    assert "Inloggningen har misslyckats för många gånger" in refused.get_data(as_text=True)
    # Another account from the same address is not affected (3 failures < 5 per address).
    assert login(client, emails[1], PASSWORD).status_code == 302
    with app.app_context():
        outcomes = [e.outcome for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert outcomes.count("failed") == 3
    assert outcomes.count("throttled") == 1


def test_successful_logins_do_not_count(app, client, emails):
    for _ in range(4):  # more than the per-account limit of 3
        assert login(client, emails[0], PASSWORD).status_code == 302
        client.post("/logout")
    assert login(client, emails[0]).status_code == 200  # a first failure, answered normally


def test_unknown_accounts_count_per_address(app, client, emails):
    for number in range(5):  # five different, unknown accounts: 5 failures from one address
        assert login(client, f"nobody{number}@example.org").status_code == 200
    assert login(client, emails[2], PASSWORD).status_code == 429


def test_the_account_key_ignores_case_and_spaces(app, client, emails):
    for variant in (emails[0], emails[0].upper(), f"  {emails[0]} "):
        assert login(client, variant).status_code == 200
    assert login(client, emails[0].title()).status_code == 429


REDIS_URL = os.environ.get("PALLAPP_TEST_REDIS_URL", "")
NEEDS_REDIS = pytest.mark.skipif(
    not REDIS_URL, reason="set PALLAPP_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)"
)


def third_try_then_other_worker(database_url: str, storage: str) -> int:
    """Three failures on one app instance, then the status of a fourth try on a new instance.

    Two instances stand for two Gunicorn workers: each starts its own storage connection. The
    counts of earlier runs are cleared first (the test Redis database holds nothing else).
    """
    config = dict(LIMITS, RATELIMIT_STORAGE_URI=storage)
    first = make_app(database_url, **config)
    limiter.reset()
    with first.app_context():
        email = make_user(Role.NURSE, units=[make_unit()]).email
        db.session.commit()
    for _ in range(3):
        assert login(first.test_client(), email).status_code == 200
    with first.app_context():
        db.engine.dispose()
    second = make_app(database_url, **config)
    try:
        return int(login(second.test_client(), email, PASSWORD).status_code)
    finally:
        _empty_all_tables(second)


@NEEDS_REDIS
@pytest.mark.xdist_group("redis")  # clears the test Redis database: one such test at a time
def test_workers_share_counts_through_redis(database_url):
    assert third_try_then_other_worker(database_url, REDIS_URL) == 429


def test_memory_counts_are_per_worker(database_url):
    # Why production with several workers needs Redis: in memory, a new worker starts at zero.
    assert third_try_then_other_worker(database_url, "memory://") == 302


# --- throttling that keeps guessers out without handing them a lock --------------------------


def test_item06_guessing_the_current_password_is_throttled(app, client, emails):
    assert login(client, emails[0], PASSWORD).status_code == 302
    answers = [
        client.post(
            "/account/password",
            data={"current": f"guess {number}", "password": "x" * 12, "confirm": "x" * 12},
        ).status_code
        for number in range(25)
    ]
    # PASSWORD_CHANGE_LIMIT is 3 per 15 minutes here: three wrong guesses answered, then none.
    assert answers == [200] * 3 + [429] * 22
    refused = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "y" * 12, "confirm": "y" * 12},
    )
    assert refused.status_code == 429  # not even the right one gets through now
    assert "fel nuvarande lösenord för många gånger" in refused.get_data(as_text=True)
    client.post("/logout")
    assert login(client, emails[0], PASSWORD).status_code == 302  # the password is unchanged
    with app.app_context():
        outcomes = [
            (e.action, e.outcome)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert outcomes.count(("update", "failed")) == 3
    assert outcomes.count(("update", "throttled")) == 23


def test_item06_mistyped_new_passwords_are_not_counted(app, client, emails):
    assert login(client, emails[0], PASSWORD).status_code == 302
    for _ in range(5):  # the new password and its repetition differ: no guess was made
        page = client.post(
            "/account/password",
            data={"current": PASSWORD, "password": "x" * 12, "confirm": "z" * 12},
        )
        assert page.status_code == 200
    changed = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "x" * 12, "confirm": "x" * 12},
    )
    assert changed.status_code == 302


def test_item07_the_owner_logs_in_from_a_known_device_while_the_account_is_attacked(
    app, emails
):
    owner, attacker = app.test_client(), app.test_client()
    assert login(owner, emails[0], PASSWORD).status_code == 302  # the device cookie is set
    owner.post("/logout")
    for _ in range(3):
        assert login(attacker, emails[0]).status_code == 200
    assert login(attacker, emails[0], PASSWORD).status_code == 429  # the attacker is stopped
    assert login(owner, emails[0], PASSWORD).status_code == 302  # the owner is not


def test_item07_a_clinic_behind_one_address_keeps_working(app, emails):
    known_tablet, stranger = app.test_client(), app.test_client()
    assert login(known_tablet, emails[1], PASSWORD).status_code == 302
    known_tablet.post("/logout")
    for number in range(5):  # the address limit (5 here) used up with unknown accounts
        assert login(stranger, f"nobody{number}@example.org").status_code == 200
    assert login(stranger, emails[2], PASSWORD).status_code == 429  # a new device: refused
    assert login(known_tablet, emails[1], PASSWORD).status_code == 302  # a known one: in


def test_item07_guessing_from_a_known_device_is_limited_per_device(app, emails):
    tablet = app.test_client()
    assert login(tablet, emails[0], PASSWORD).status_code == 302
    tablet.post("/logout")
    for _ in range(3):  # LOGIN_LIMIT_PER_DEVICE: 3 here
        assert login(tablet, emails[0]).status_code == 200
    assert login(tablet, emails[0], PASSWORD).status_code == 429
    # The device's failures are its own: the account can still be used from another device
    # that knows it, and a stranger still has the account's own budget.
    stranger = app.test_client()
    assert login(stranger, emails[0], PASSWORD).status_code == 302


def test_item07_a_device_cookie_of_another_account_or_forged_gives_nothing(app, emails):
    attacker = app.test_client()
    assert login(attacker, emails[1], PASSWORD).status_code == 302  # the attacker's own account
    attacker.post("/logout")
    for _ in range(3):
        assert login(attacker, emails[0]).status_code == 200
    assert login(attacker, emails[0], PASSWORD).status_code == 429
    forger = app.test_client()
    forger.set_cookie("pallapp_device", "eyJkIjoiYSIsImEiOltdfQ.forged.signature", path="/login")
    assert login(forger, emails[0], PASSWORD).status_code == 429


def test_item08_a_database_outage_is_not_counted_as_failed_logins(app, client, emails):
    from tests.app.outage import database_outage

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer with the 500 page, as in production
    with database_outage(app):
        for _ in range(6):  # twice the account limit of 3, more than the address limit of 5
            assert login(client, emails[0], PASSWORD).status_code == 503
    assert login(client, emails[0], PASSWORD).status_code == 302


def test_item08_an_invalid_form_is_not_counted(app, client, emails):
    for _ in range(6):  # no password sent: no credentials were checked
        assert client.post("/login", data={"email": emails[0], "password": ""}).status_code == 200
    assert login(client, emails[0], PASSWORD).status_code == 302


def test_item07_the_device_an_invitation_was_accepted_on_is_known(app, emails):
    from datetime import timedelta

    from pallapp.auth.services import issue_invitation
    from pallapp.models import User

    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == emails[0]))
        token = issue_invitation(
            created_by=nurse, email="new@example.org", name="New", role=Role.NURSE,
            valid_for=timedelta(hours=1),
        ).token
        db.session.commit()
    phone, attacker = app.test_client(), app.test_client()
    new_password = "a long new password"
    accepted = phone.post(f"/invitation/{token}", data={"password": new_password, "confirm": new_password})
    assert accepted.status_code == 302
    phone.post("/logout")
    for _ in range(3):
        assert login(attacker, "new@example.org").status_code == 200
    assert login(attacker, "new@example.org", new_password).status_code == 429
    assert login(phone, "new@example.org", new_password).status_code == 302



def test_a_configured_default_limit_still_applies_to_every_page(database_url, monkeypatch):
    # pallapp sets only limits on views, and skips Flask-Limiter's before-request check while
    # nothing else is set (pallapp/extensions.py); a default limit turns the check back on.
    # The limiter is shared by every app of the process: its defaults are put back afterwards.
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [])
    app = make_app(database_url, **LIMITS, RATELIMIT_DEFAULT="2 per minute")
    limiter.reset()
    client = app.test_client()
    try:
        assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        limiter.reset()
        with app.app_context():
            db.engine.dispose()
