"""Administration of care units and staff accounts (no clinical data)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import CareUnit, Role, UnitMembership, User
from pallapp.timeutil import today_local
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def admin_email(app):
    with app.app_context():
        email = make_user(Role.ADMIN).email
        db.session.commit()
        return email


UNIT = {
    "name": "Hemsjukvården Mora",
    "kind": "municipal_home_care",
    "phone": "0250-260 00",
    "assessment_interval_days": "7",
    "end_of_life_interval_days": "2",
    "ipos_recall_period": "7d",
}


def test_admin_creates_and_edits_a_unit(app, client, auth, admin_email):
    auth.login(admin_email)
    assert client.post("/admin/units/new", data=UNIT).status_code == 302
    with app.app_context():
        unit = db.session.scalar(select(CareUnit))
        assert (unit.name, unit.phone, unit.assessment_interval_days) == (
            "Hemsjukvården Mora",
            "0250-260 00",
            7,
        )
        public_id = unit.public_id
    changed = dict(
        UNIT, phone="0250-999 99", end_of_life_interval_days="1", ipos_recall_period="3d"
    )
    assert client.post(f"/admin/units/{public_id}", data=changed).status_code == 302
    with app.app_context():
        unit = db.session.scalar(select(CareUnit))
        assert (unit.phone, unit.end_of_life_interval_days, unit.ipos_recall_period) == (
            "0250-999 99",
            1,
            "3d",
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"assessment_interval_days": "0"},
        {"end_of_life_interval_days": "31"},
        {"phone": ""},
        {"ipos_recall_period": "14d"},  # IPOS exists with 3- and 7-day recall only
        {"assessment_interval_days": "9" * 400},  # found by fuzzing: was a server error
    ],
)
def test_invalid_unit_is_not_saved(app, client, auth, admin_email, changes):
    auth.login(admin_email)
    page = client.post("/admin/units/new", data=dict(UNIT, **changes))
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(CareUnit)) is None


def test_duplicate_unit_name_is_refused(app, client, auth, admin_email):
    auth.login(admin_email)
    client.post("/admin/units/new", data=UNIT)
    page = client.post("/admin/units/new", data=UNIT)
    assert page.status_code == 200
    with app.app_context():
        assert len(db.session.scalars(select(CareUnit)).all()) == 1


def test_ending_a_membership_hides_the_units_patients(app, client, auth, admin_email):
    with app.app_context():
        unit = make_unit()
        nurse = make_user(Role.NURSE, units=[unit])
        patient = make_patient([unit], given_name="Hilda")
        db.session.commit()
        nurse_email, nurse_id, patient_id = nurse.email, nurse.public_id, patient.public_id
        membership_id = db.session.scalar(select(UnitMembership.id))
    auth.login(admin_email)
    assert (
        client.post(f"/admin/staff/{nurse_id}/units", data={"end": str(membership_id)}).status_code
        == 302
    )
    auth.logout()
    auth.login(nurse_email)
    assert client.get(f"/patients/{patient_id}").status_code == 404
    with app.app_context():
        membership = db.session.get(UnitMembership, membership_id)
        assert membership.end == today_local()  # kept, with an end date


def test_admin_pages_show_no_patients(app, client, auth, admin_email):
    with app.app_context():
        unit = make_unit()
        make_user(Role.NURSE, units=[unit])
        make_patient([unit], given_name="Hemliga")
        db.session.commit()
    auth.login(admin_email)
    for path in ("/admin/units", "/admin/staff", "/admin/invitations"):
        page = client.get(path)
        assert page.status_code == 200
        assert b"Hemliga" not in page.data


@pytest.mark.parametrize(
    "role", [Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.PATIENT, Role.RELATIVE]
)
def test_admin_pages_are_for_admins_only(app, client, auth, role):
    with app.app_context():
        email = make_user(role, units=[make_unit()] if role.is_staff else []).email
        db.session.commit()
    auth.login(email)
    for path in ("/admin/units", "/admin/staff", "/admin/invitations", "/admin/staff/new"):
        assert client.get(path).status_code == 403


def test_admin_cannot_deactivate_themselves(app, client, auth, admin_email):
    auth.login(admin_email)
    with app.app_context():
        own_id = db.session.scalar(select(User.public_id).where(User.email == admin_email))
    client.post(f"/admin/staff/{own_id}/active", data={"active": "0"})
    with app.app_context():
        assert db.session.scalar(select(User.active).where(User.email == admin_email)) is True


COVERAGE = {
    "coverage_days": ["1", "2", "3", "4", "5"],
    "coverage_start": "08:00",
    "coverage_end": "16:30",
    "alert_response_minutes": "45",
    "alert_email": "team@example.org",
    "escalation_email": "jour@example.org",
}


def test_admin_sets_coverage_hours_and_alert_addresses(app, client, auth, admin_email):
    from datetime import time

    auth.login(admin_email)
    assert client.post("/admin/units/new", data=dict(UNIT, **COVERAGE)).status_code == 302
    with app.app_context():
        unit = db.session.scalar(select(CareUnit))
        assert (unit.coverage_weekdays, unit.coverage_start, unit.coverage_end) == (
            "12345", time(8, 0), time(16, 30),
        )
        assert (unit.alert_response_minutes, unit.alert_email, unit.escalation_email) == (
            45, "team@example.org", "jour@example.org",
        )
        public_id = unit.public_id
    page = client.get(f"/admin/units/{public_id}").get_data(as_text=True)
    friday = page.split('value="5"')[0].rsplit("<input", 1)[1] + page.split('value="5"')[1].split(">")[0]
    assert "checked" in friday
    # No days: no coverage at all, whatever times were left in the form.
    client.post(
        f"/admin/units/{public_id}",
        data=dict(UNIT, coverage_start="08:00", coverage_end="16:00", alert_response_minutes=""),
    )
    with app.app_context():
        unit = db.session.scalar(select(CareUnit))
        assert (unit.coverage_weekdays, unit.coverage_start, unit.alert_response_minutes) == ("", None, 60)


@pytest.mark.parametrize(
    "changes",
    [
        {"coverage_end": ""},  # days without both times
        {"coverage_start": "17:00", "coverage_end": "08:00"},  # over midnight: not supported
        {"alert_response_minutes": "1"},
        {"alert_email": "not an address"},
    ],
)
def test_invalid_coverage_is_not_saved(app, client, auth, admin_email, changes):
    auth.login(admin_email)
    page = client.post("/admin/units/new", data={**UNIT, **COVERAGE, **changes})
    assert page.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(CareUnit)) is None
