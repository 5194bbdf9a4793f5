"""A physician may land on the unit overview after login (PALLAPP_PHYSICIAN_START_PAGE)."""

from __future__ import annotations

import pytest

from pallapp.extensions import db
from pallapp.models import Role
from tests.factories import make_unit, make_user


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"PHYSICIAN_START_PAGE": "overview"}


def test_a_physician_lands_on_the_overview_when_the_setting_says_so(app, client, auth):
    with app.app_context():
        unit = make_unit("Team A")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        db.session.commit()
        physician_email, nurse_email = physician.email, nurse.email
    auth.login(physician_email)
    assert client.get("/start").location.endswith("/overview")
    client.post("/logout")
    auth.login(nurse_email)
    assert client.get("/start").location.endswith("/today")  # nurses keep Today
