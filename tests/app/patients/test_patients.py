"""Enrolling patients, the Today list and its search, the patient page, start pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pallapp.extensions import db
from pallapp.models import AuditEvent, Patient, PatientUnit, Role, User
from pallapp.timeutil import today_local
from tests.factories import link_relative, make_patient, make_unit, make_user


@pytest.fixture
def team(app):
    with app.app_context():
        unit = make_unit("Team Falun")
        other = make_unit("Team Mora")
        nurse = make_user(Role.NURSE, units=[unit])
        manager = make_user(Role.MANAGER, units=[unit])
        make_patient([unit], given_name="Ingrid", family_name="Ek")
        make_patient([unit], given_name="Sune", family_name="Mark")
        make_patient([other], given_name="Vera", family_name="Lo")
        db.session.commit()
        return {
            "nurse": nurse.email,
            "manager": manager.email,
            "unit": unit.public_id,
            "other": other.public_id,
        }


def enrol_form(team, **changes):
    form = {
        "personnummer": "19121212-1212",
        "given_name": "Tolvan",
        "family_name": "Tolvansson",
        "main_diagnosis": "Lungcancer",
        "enrolled_on": today_local().isoformat(),
        "unit": team["unit"],
    }
    form.update(changes)
    return form


def listed(page) -> bytes:
    """Only the patient list of the Today page (the search box echoes the query)."""
    start = page.data.find(b'<ul class="patient-list">')
    return b"" if start < 0 else page.data[start : page.data.index(b"</ul>", start)]


def patient_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Patient.id)))


def test_enrol_a_patient(app, client, auth, team):
    auth.login(team["nurse"])
    response = client.post("/patients/new", data=enrol_form(team))
    assert response.status_code == 302
    page = client.get(response.location)
    assert b"Tolvan Tolvansson" in page.data
    assert b"19121212-1212" in page.data  # staff see the full number on the patient page
    with app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.given_name == "Tolvan"))
        assert [e.unit.name for e in patient.episodes] == ["Team Falun"]
        assert patient.birth_date.isoformat() == "1912-12-12"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"personnummer": "19121212-1213"}, "inte ett giltigt personnummer"),
        ({"personnummer": "1912"}, "ÅÅÅÅMMDD-NNNN"),
        ({"given_name": ""}, None),
        ({"enrolled_on": (today_local() + timedelta(days=1)).isoformat()}, "framtiden"),
    ],
)
def test_bad_enrolment_keeps_the_answers_and_stores_nothing(
    app, client, auth, team, changes, message
):
    auth.login(team["nurse"])
    before = patient_count(app)
    page = client.post("/patients/new", data=enrol_form(team, **changes))
    assert page.status_code == 200
    assert patient_count(app) == before
    assert b'value="Tolvansson"' in page.data  # nothing the nurse typed is lost
    if message:
        assert message.encode() in page.data


def test_enrolling_in_a_unit_i_am_not_in_is_refused(app, client, auth, team):
    auth.login(team["nurse"])
    page = client.post("/patients/new", data=enrol_form(team, unit=team["other"]))
    assert page.status_code == 200
    assert patient_count(app) == 3


def test_the_same_person_cannot_be_enrolled_twice(app, client, auth, team):
    auth.login(team["nurse"])
    client.post("/patients/new", data=enrol_form(team))
    page = client.post("/patients/new", data=enrol_form(team, given_name="Again"))
    assert page.status_code == 200
    # The nurse's own unit follows the patient: nothing to hide, and the record is a link away.
    assert "Patienten är redan inskriven i din enhet." in page.get_data(as_text=True)
    with app.app_context():
        tolvan = db.session.scalar(select(Patient.public_id).where(Patient.given_name == "Tolvan"))
    assert f'href="/patients/{tolvan}"' in page.get_data(as_text=True)
    assert patient_count(app) == 4


def test_managers_do_not_enrol(client, auth, team):
    auth.login(team["manager"])
    assert client.get("/patients/new").status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {b"Ingrid", b"Sune"}),
        ("ingr", {b"Ingrid"}),
        ("ek", {b"Ingrid"}),
        ("Sune Mark", {b"Sune"}),
        ("Vera", set()),
    ],
)
def test_today_search_by_name(client, auth, team, query, expected):
    auth.login(team["nurse"])
    page = client.post("/today", data={"q": query})
    shown = {name for name in (b"Ingrid", b"Sune", b"Vera") if name in listed(page)}
    assert shown == expected


def test_today_search_by_personnummer_and_masking(app, client, auth, team):
    with app.app_context():
        ingrid = db.session.scalar(select(Patient).where(Patient.given_name == "Ingrid"))
        digits = ingrid.personnummer
    auth.login(team["nurse"])
    page = client.post("/today", data={"q": f"{digits[:8]}-{digits[8:]}"})
    assert b"Ingrid" in listed(page)
    assert b"Sune" not in listed(page)
    assert f"{digits[:8]}-****".encode() in listed(page)
    assert digits[8:].encode() not in listed(page)


def test_episode_that_ended_hides_the_patient(app, client, auth, team):
    with app.app_context():
        episode = db.session.scalar(
            select(PatientUnit).join(Patient).where(Patient.given_name == "Sune")
        )
        episode.end = today_local()
        db.session.commit()
    auth.login(team["nurse"])
    assert b"Sune" not in client.get("/today").data


def test_patient_start_page_shows_whom_to_call(app, client, auth):
    with app.app_context():
        unit = make_unit("Team Ludvika")
        patient = make_patient([unit], given_name="Elsa")
        email = make_user(Role.PATIENT, patient=patient).email
        db.session.commit()
    auth.login(email)
    page = client.get(client.get("/").location)
    page = client.get("/start")
    assert b"Team Ludvika" in page.data
    assert b'href="tel:010123' in page.data


def test_relative_start_page_lists_linked_patients_only(app, client, auth):
    with app.app_context():
        unit = make_unit()
        mine = make_patient([unit], given_name="Elsa")
        make_patient([unit], given_name="Other")
        relative = make_user(Role.RELATIVE)
        link_relative(relative, mine)
        db.session.commit()
        email = relative.email
    auth.login(email)
    page = client.get("/start")
    assert b"Elsa" in page.data
    assert b"Other" not in page.data


def test_admin_start_goes_to_units(app, client, auth):
    with app.app_context():
        email = make_user(Role.ADMIN).email
        db.session.commit()
    auth.login(email)
    assert client.get("/start").location == "/admin/units"


def test_today_search_is_posted_and_a_query_string_is_ignored(client, auth, team):
    auth.login(team["nurse"])
    page = client.get("/today")
    # The form posts: nothing typed in it lands in a URL, a proxy log or the browser history.
    assert re.search(r'<form class="search" method="post"', page.get_data(as_text=True))
    # An old bookmark with ?q= shows the whole list rather than searching.
    filtered = client.get("/today", query_string={"q": "Sune"})
    assert b"Ingrid" in listed(filtered)


GENERIC_REFUSAL = (
    "Personnumret kan inte skrivas in från din enhet. Om en annan enhet följer patienten: be "
    "den enheten att dela journalen med din enhet."
)


def test_item11_enrolment_does_not_reveal_another_units_patient(app, client, auth, team):
    with app.app_context():
        vera = db.session.scalar(select(Patient).where(Patient.given_name == "Vera"))
        nurse_id = db.session.scalar(select(User.id).where(User.email == team["nurse"]))
        number, vera_id = vera.formatted_personnummer, vera.id
    auth.login(team["nurse"])  # Team Falun; Vera is followed by Team Mora only
    page = client.post("/patients/new", data=enrol_form(team, personnummer=number))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert patient_count(app) == 3  # nothing stored
    assert GENERIC_REFUSAL in text
    for hint in ("registrerad", "redan", "Team Mora", "Vera"):
        assert hint not in text, hint
    # The probe is in the log, naming the patient: Team Mora's access review and Vera's own
    # access list show it.
    with app.app_context():
        probes = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "enrolment_check")
        ).all()
    assert [(e.action, e.user_id, e.patient_id) for e in probes] == [("view", nurse_id, vera_id)]
