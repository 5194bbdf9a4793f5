"""Strong authentication in Chromium on a phone, in Swedish: invitations accepted at the two
test identity providers (tests/identity.py), an identity bound to no account refused, and the
built-in second factor: enrolment, login with a code, a wrong code, a recovery code used once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect

from pallapp import create_app
from pallapp.auth.services import issue_invitation
from pallapp.extensions import db
from pallapp.models import Role
from tests.e2e.conftest import serving
from tests.e2e.pages import (
    LoginPage,
    ProviderLoginPage,
    SecondFactorPage,
    SecondFactorSetupPage,
    TodayPage,
    log_out,
)
from tests.factories import PASSWORD, make_patient, make_unit, make_user
from tests.identity import CITIZEN_USERS

pytestmark = pytest.mark.e2e




@pytest.fixture(scope="module")
def strong_app(identity_providers, tmp_path_factory) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("e2e-strong") / "strong.db"
    app = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": f"sqlite:///{path}",
            # What production asks of staff by default.
            "SECOND_FACTOR_ROLES": "nurse,physician,manager,admin",
            **identity_providers.config(),
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def strong_server(strong_app: Flask) -> Iterator[str]:
    with serving(strong_app) as base_url:
        yield base_url


def invitation_link(app: Flask, base: str, role: Role, *, patient_number: str | None = None) -> tuple[str, str]:
    """An invitation for a new account; returns the link and the patient's name."""
    with app.app_context():
        unit = make_unit()
        nurse = make_user(Role.NURSE, units=[unit])
        patient = make_patient([unit], given_name="Alma", family_name="Nordin") if patient_number else None
        if patient is not None:
            patient.personnummer = patient_number
        issued = issue_invitation(
            created_by=nurse,
            email=f"{role.value}-{time.monotonic_ns()}@example.org",
            name="Inbjuden",
            role=role,
            valid_for=timedelta(hours=1),
            unit_id=None if patient else unit.id,
            patient_id=patient.id if patient else None,
        )
        if patient is None:
            make_patient([unit], given_name="Greta", family_name="Dalström")  # her patient
        db.session.commit()
        return f"{base}/invitation/{issued.token}", "Alma Nordin"


def no_sideways_scrolling(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth") <= 375)


def test_a_nurse_accepts_her_invitation_with_the_regions_login_and_reaches_her_patients(
    strong_app, strong_server, phone, tmp_path
):
    link, _ = invitation_link(strong_app, strong_server, Role.NURSE)
    phone.goto(link)
    assert no_sideways_scrolling(phone)
    phone.get_by_role("link", name="Personal: logga in med e-tjänstekort (SITHS)").click()
    ProviderLoginPage(phone).sign_in_as("nurse-nina")
    TodayPage(phone, strong_server).expect_loaded()
    expect(phone.locator(".patient-card", has_text="Dalström")).to_be_visible()
    assert no_sideways_scrolling(phone)
    phone.screenshot(path=str(tmp_path / "nurse-after-provider-login.png"), full_page=True)

    # Logging out ends the provider's session too; next time: from the login page, no password.
    log_out(phone)
    ProviderLoginPage(phone).confirm_logout()
    phone.get_by_role("link", name="Personal: logga in med e-tjänstekort (SITHS)").click()
    ProviderLoginPage(phone).sign_in_as("nurse-nina")
    TodayPage(phone, strong_server).expect_loaded()


def test_a_patient_accepts_her_invitation_with_e_identification(strong_app, strong_server, phone):
    number = CITIZEN_USERS["patient-alma"]["personnummer"]
    link, _ = invitation_link(strong_app, strong_server, Role.PATIENT, patient_number=number)
    phone.goto(link)
    phone.get_by_role("link", name="Logga in med e-legitimation (BankID, Freja eID)").click()
    ProviderLoginPage(phone).sign_in_as("patient-alma")
    # Her own start page: her care team, and the way to rate her symptoms.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hej Inbjuden")
    expect(phone.get_by_role("heading", name="Ditt vårdteam")).to_be_visible()
    assert no_sideways_scrolling(phone)


def test_an_identity_bound_to_no_account_is_refused(strong_server, phone):
    phone.goto(f"{strong_server}/login")
    phone.get_by_role("link", name="Personal: logga in med e-tjänstekort (SITHS)").click()
    ProviderLoginPage(phone).sign_in_as("stranger")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Inloggningen nekades")
    expect(phone.get_by_role("alert")).to_contain_text("inget konto i pallapp")


def test_totp_enrolment_login_wrong_code_and_a_recovery_code_once(strong_app, strong_server, phone, tmp_path):
    with strong_app.app_context():
        email = make_user(Role.NURSE, units=[make_unit()]).email
        db.session.commit()

    LoginPage(phone, strong_server).open().log_in(email, PASSWORD)
    setup = SecondFactorSetupPage(phone).expect_loaded()  # held here until it is on
    phone.screenshot(path=str(tmp_path / "enrolment.png"), full_page=True)
    assert no_sideways_scrolling(phone)
    secret = setup.secret()
    codes = setup.confirm(pyotp.TOTP(secret).now())
    assert len(codes) == 10
    phone.get_by_role("link", name="Fortsätt").click()
    TodayPage(phone, strong_server).expect_loaded()
    log_out(phone)

    # Password, then a wrong code, then a recovery code.
    LoginPage(phone, strong_server).open().log_in(email, PASSWORD)
    second = SecondFactorPage(phone)
    second.enter("000000")
    assert "Koden stämmer inte" in second.error()
    second.enter(codes[0])
    TodayPage(phone, strong_server).expect_loaded()
    expect(phone.get_by_text("Du använde en reservkod; 9 återstår.", exact=False)).to_be_visible()
    log_out(phone)

    # The same recovery code again: refused; the app's next code lets her in.
    LoginPage(phone, strong_server).open().log_in(email, PASSWORD)
    second.enter(codes[0])
    assert "Koden stämmer inte" in second.error()
    second.enter(pyotp.TOTP(secret).at(time.time() + 30))
    TodayPage(phone, strong_server).expect_loaded()
