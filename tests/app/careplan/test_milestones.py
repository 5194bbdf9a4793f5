"""The death milestone asks whether the death was expected and whether the patient was free of
pressure ulcers: required for a new death (form and service), stored as booleans, ignored for
other milestones, shown in the milestone list; deaths recorded before the question show
"not recorded"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pallapp.careplan import milestones as milestone_service
from pallapp.careplan.common import Refused
from pallapp.extensions import db
from pallapp.models import Milestone, Patient, Phase, Role, User
from pallapp.timeutil import today_local
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def ward(app):
    with app.app_context():
        unit = make_unit("Team Rättvik")
        patient = make_patient([unit], given_name="Greta", family_name="Ek")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        swedish = make_user(Role.NURSE, units=[unit], language="sv")
        db.session.commit()
        return {"pid": patient.public_id, "nurse": nurse.email, "swedish": swedish.email}


def _nurse(email):
    return db.session.scalar(select(User).where(User.email == email))


def _milestones():
    return db.session.scalars(select(Milestone).order_by(Milestone.id)).all()


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({"free_of_pressure_ulcers": True}, "expected_required"),
        ({"death_expected": False}, "pressure_ulcers_required"),
    ],
)
def test_the_service_refuses_a_death_without_both_answers(app, ward, answers, reason):
    with app.app_context():
        with pytest.raises(Refused, match=reason):
            milestone_service.record_milestone(
                _nurse(ward["nurse"]), ward["pid"], kind="death", occurred_on=today_local(),
                place="home", **answers,
            )
        assert _milestones() == []
        patient = db.session.scalar(select(Patient).where(Patient.public_id == ward["pid"]))
        assert (patient.phase, patient.died_on) == (Phase.EARLY, None)


def test_the_answers_are_stored_for_a_death_and_dropped_for_other_milestones(app, ward):
    with app.app_context():
        nurse = _nurse(ward["nurse"])
        milestone_service.record_milestone(
            nurse, ward["pid"], kind="sip", occurred_on=today_local(),
            death_expected=True, free_of_pressure_ulcers=False,
        )
        death = milestone_service.record_milestone(
            nurse, ward["pid"], kind="death", occurred_on=today_local(), place="home",
            death_expected=False, free_of_pressure_ulcers=False,
        )
        patient = db.session.get(Patient, death.patient_id)
        assert (patient.phase, patient.died_on) == (Phase.DECEASED, today_local())
        db.session.commit()
        rows = [(m.kind, m.death_expected, m.free_of_pressure_ulcers) for m in _milestones()]
    assert rows == [("sip", None, None), ("death", False, False)]


def test_the_form_requires_both_answers_for_a_death(app, ward, client, auth):
    auth.login(ward["nurse"])
    url = f"/patients/{ward['pid']}/milestones/new"
    today = today_local().isoformat()
    page = client.post(url, data={"kind": "death", "occurred_on": today, "place": "home"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Answer whether the death was expected." in text
    assert "Answer whether the patient was free of pressure ulcers at death." in text
    # A value that is not one of the choices is refused, not read as "no".
    page = client.post(url, data={"kind": "death", "occurred_on": today, "place": "home",
                                  "death_expected": "maybe", "free_of_pressure_ulcers": "yes"})
    assert "Not a valid choice." in page.get_data(as_text=True)
    with app.app_context():
        assert _milestones() == []

    response = client.post(url, data={"kind": "death", "occurred_on": today, "place": "home",
                                      "death_expected": "yes", "free_of_pressure_ulcers": "no"})
    assert response.status_code == 302
    with app.app_context():
        (death,) = _milestones()
        assert (death.death_expected, death.free_of_pressure_ulcers) == (True, False)
    listing = client.get(f"/patients/{ward['pid']}/milestones").get_data(as_text=True)
    assert "Expected death · Pressure ulcers at death" in listing


def test_other_milestones_need_no_answers(app, ward, client, auth):
    auth.login(ward["nurse"])
    response = client.post(
        f"/patients/{ward['pid']}/milestones/new",
        data={"kind": "svas_held", "occurred_on": today_local().isoformat()},
    )
    assert response.status_code == 302


def test_a_death_recorded_before_the_question_shows_not_recorded_in_swedish(app, ward, client, auth):
    with app.app_context():
        death = milestone_service.record_milestone(
            _nurse(ward["nurse"]), ward["pid"], kind="death", occurred_on=today_local(),
            place="home", death_expected=True, free_of_pressure_ulcers=True,
        )
        # As the migration leaves a death stored before the two questions existed.
        death.death_expected = death.free_of_pressure_ulcers = None
        db.session.commit()
    auth.login(ward["swedish"])
    page = client.get(f"/patients/{ward['pid']}/milestones").get_data(as_text=True)
    assert "Ej registrerat om dödsfallet var väntat" in page
    assert "Ej registrerat om patienten hade trycksår vid dödsfallet" in page
    form = client.get(f"/patients/{ward['pid']}/milestones/new")
    # The patient has died: the form still opens (for bereavement milestones) and asks in Swedish.
    assert "Var dödsfallet väntat?" in form.get_data(as_text=True)
