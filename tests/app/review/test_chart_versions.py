"""Chart validators: every kind of change to what a chart is drawn from changes the ETag at
once (a new rating, a correction, a dose, a dose's correction, an evaluation, a back-dated
evaluation, a milestone); without a change the chart stays 304.

The data version is counted (review.chartcache), not kept: these run on SQLite and, with
PALLAPP_TEST_POSTGRES_URL, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from pallapp.access import NotVisible
from pallapp.assessments import services as assessment_services
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.extensions import db
from pallapp.models import Assessment, Patient, PrnAdministration, Role, User, utcnow
from pallapp.review import chartcache
from tests.app.review.test_overview import IPOS_ITEMS
from tests.app.review.test_trend_lanes import both_versions  # noqa: F401  (a fixture)
from tests.app.review.test_views import ESAS_ITEMS, submit
from tests.factories import make_patient, make_unit, make_user

CHARTS = ("ipos_staff.svg?range=3m", "doses.svg?range=all")


class Charts:
    """The patient's charts as a browser keeps them: each with its last ETag."""

    def __init__(self, client, patient: str) -> None:
        self.client = client
        self.urls = [f"/patients/{patient}/trends/{chart}" for chart in CHARTS]
        self.etags = {}
        for url in self.urls:
            response = client.get(url)
            assert response.status_code == 200
            self.etags[url] = response.headers["ETag"]

    def unchanged(self) -> None:
        for url in self.urls:
            assert self.client.get(url, headers={"If-None-Match": self.etags[url]}).status_code == 304

    def changed(self) -> None:
        """Every chart is drawn again with a new ETag on the very next request."""
        for url in self.urls:
            response = self.client.get(url, headers={"If-None-Match": self.etags[url]})
            assert response.status_code == 200, url
            assert response.headers["ETag"] != self.etags[url]
            self.etags[url] = response.headers["ETag"]
        self.unchanged()


def _people(both_versions):  # noqa: F811  (the fixture's value)
    nurse = db.session.scalar(select(User).where(User.email == both_versions["nurse"]))
    physician = db.session.scalar(select(User).where(User.email == both_versions["physician"]))
    patient = db.session.scalar(select(Patient).where(Patient.public_id == both_versions["patient"]))
    return nurse, physician, patient


def _dose(public_id: str) -> PrnAdministration:
    return db.session.scalar(select(PrnAdministration).where(PrnAdministration.public_id == public_id))


def test_every_kind_of_change_changes_the_chart_etag(app, both_versions, client, auth):  # noqa: F811
    auth.login(both_versions["nurse"])
    charts = Charts(client, both_versions["patient"])
    charts.unchanged()
    pid = both_versions["patient"]

    # A new rating.
    with app.app_context():
        nurse, _, patient = _people(both_versions)
        rating = submit(nurse, patient, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 0), days_ago=0.5)
        db.session.commit()
        rating_id = rating.public_id
    charts.changed()

    # Its correction.
    with app.app_context():
        nurse, _, _ = _people(both_versions)
        assessment_services.correct_assessment(
            nurse, pid, rating_id, answers=dict.fromkeys(IPOS_ITEMS, 1), reason="Wrong item",
            client_token=uuid4().hex,
        )
        db.session.commit()
    charts.changed()

    # A new dose, 1 hour ago (the fixture's was 3 hours ago).
    with app.app_context():
        nurse, _, _ = _people(both_versions)
        newer = dose_service.record_dose(
            nurse, pid, both_versions["order"], given_at=utcnow() - timedelta(hours=1),
            dose="2,5", dose_unit="mg", route="sc", client_token=uuid4().hex,
        ).administration
        db.session.commit()
        newer_id = newer.public_id
        older_id = db.session.scalar(
            select(PrnAdministration.public_id).where(PrnAdministration.client_token == "lanes-dose-1")
        )
    charts.changed()

    # The newer dose evaluated 30 minutes ago.
    with app.app_context():
        nurse, _, _ = _people(both_versions)
        dose_service.evaluate_dose(
            nurse, pid, newer_id, effect="better", evaluated_at=utcnow() - timedelta(minutes=30)
        )
        db.session.commit()
    charts.changed()

    # The older one evaluated afterwards, back-dated before that evaluation: neither the newest
    # dose nor the newest evaluation time changes, the chart does.
    with app.app_context():
        nurse, _, _ = _people(both_versions)
        given_at = _dose(older_id).given_at
        dose_service.evaluate_dose(
            nurse, pid, older_id, effect="unchanged", evaluated_at=given_at + timedelta(minutes=20)
        )
        db.session.commit()
    charts.changed()

    # A dose's correction (another time).
    with app.app_context():
        nurse, _, _ = _people(both_versions)
        dose_service.correct_dose(
            nurse, pid, newer_id,
            dose_service.DoseEntry(utcnow() - timedelta(minutes=90), "2,5", "mg", "sc"),
            reason="Wrong time", client_token=uuid4().hex,
        )
        db.session.commit()
    charts.changed()

    # A milestone.
    with app.app_context():
        _, physician, _ = _people(both_versions)
        milestone_service.record_milestone(
            physician, pid, kind="svas_offered", occurred_on=utcnow().date() - timedelta(days=1)
        )
        db.session.commit()
    charts.changed()


def test_the_data_version_counts_what_it_says(app, both_versions):  # noqa: F811
    """The version's parts: ratings (count, newest id), doses (count, newest id, evaluated),
    milestones (count, newest id)."""
    with app.app_context():
        _, physician, patient = _people(both_versions)
        ratings = db.session.scalars(select(Assessment.id).where(Assessment.patient_id == patient.id)).all()
        doses = db.session.scalars(
            select(PrnAdministration.id).where(PrnAdministration.patient_id == patient.id)
        ).all()
        found, version, viewed = chartcache.find_chart_patient(
            physician, patient.public_id, "trends", timedelta(minutes=10)
        )
    assert found is patient
    assert version == f"{len(ratings)}|{max(ratings)}|{len(doses)}|{max(doses)}|0|0|"
    assert viewed is False  # the physician has not opened the trends page


def test_the_chart_statement_counts_only_its_patient_and_keeps_the_access_rules(
    app, both_versions, client, auth  # noqa: F811
):
    """The patient, the data version and whether the trends page was viewed come in one
    statement (`find_chart_patient`): another patient's ratings in the same unit do not move
    the version; the viewer's own view of the page, and no one else's, is seen; a nurse of
    another unit and a patient's own account are refused as the access rules say."""
    within = timedelta(minutes=10)
    with app.app_context():
        nurse, physician, patient = _people(both_versions)
        other = make_patient(list(nurse.active_units(utcnow().date())), given_name="Olle")
        submit(nurse, other, "esas_r", dict.fromkeys(ESAS_ITEMS, 1), days_ago=0.1)
        stranger = make_user(Role.NURSE, units=[make_unit("Team B")])
        own_account = make_user(Role.PATIENT, patient=patient)
        db.session.commit()
        _, before, _ = chartcache.find_chart_patient(nurse, patient.public_id, "trends", within)
        # One rating of the patient: two in the fixture, so three now.
        submit(nurse, patient, "esas_r", dict.fromkeys(ESAS_ITEMS, 1), days_ago=0.1)
        db.session.commit()
        _, after, _ = chartcache.find_chart_patient(nurse, patient.public_id, "trends", within)
        assert before.split("|")[0] == "2"
        assert after.split("|")[0] == "3"
        for refused in (stranger, own_account):
            with pytest.raises(NotVisible):
                chartcache.find_chart_patient(refused, patient.public_id, "trends", within)
        stranger_email = stranger.email

    auth.login(both_versions["nurse"])
    assert client.get(f"/patients/{both_versions['patient']}/trends?range=3m").status_code == 200
    with app.app_context():
        nurse, physician, patient = _people(both_versions)
        assert chartcache.find_chart_patient(nurse, patient.public_id, "trends", within)[2] is True
        # The nurse's view is not the physician's.
        assert chartcache.find_chart_patient(physician, patient.public_id, "trends", within)[2] is False
    auth.logout()
    auth.login(stranger_email)
    assert client.get(f"/patients/{both_versions['patient']}/trends/esas_total.svg").status_code == 404
