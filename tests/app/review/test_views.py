"""Physician review over HTTP: flags and acknowledging them, the unit overview, trends, summary.

Expected values are worked out by hand from INSTRUMENTS.md in each test. Users see English
(language="en") so the assertions do not depend on the Swedish catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

from pallapp.assessments import services as assessment_services
from pallapp.extensions import db
from pallapp.models import AuditEvent, Flag, Role, User, utcnow
from pallapp.timeutil import today_local
from tests.factories import PASSWORD, link_relative, make_patient, make_unit, make_user

ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
ESAS_CALM = dict.fromkeys(ESAS_ITEMS, 1)
_tokens = count(1)


def submit(user, patient, instrument, answers, *, days_ago=0.0):
    return assessment_services.submit_assessment(
        user,
        patient.public_id,
        instrument=instrument,
        answers=answers,
        client_token=f"review-{next(_tokens):026d}",
        observed_at=utcnow() - timedelta(days=days_ago),
    ).assessment


@dataclass
class Ward:
    unit: str
    patient: str
    flag_high: str
    flag_medium: str
    emails: dict[str, str]
    ids: dict[str, int]


@pytest.fixture
def ward(app):
    """Unit A with a patient rated ESAS-r pain 8, nausea 5 (one high, one medium flag), and
    unit B whose staff must see nothing of it."""
    with app.app_context():
        unit_a = make_unit("Team A")
        unit_b = make_unit("Team B")
        patient = make_patient([unit_a], given_name="Alma", family_name="Andersson")
        people = {
            "nurse": make_user(Role.NURSE, units=[unit_a], language="en"),
            "physician": make_user(Role.PHYSICIAN, units=[unit_a], language="en"),
            "manager": make_user(Role.MANAGER, units=[unit_a], language="en"),
            "self": make_user(Role.PATIENT, patient=patient, language="en"),
            "relative": make_user(Role.RELATIVE, language="en"),
            "nurse_b": make_user(Role.NURSE, units=[unit_b], language="en"),
            "physician_b": make_user(Role.PHYSICIAN, units=[unit_b], language="en"),
            "manager_b": make_user(Role.MANAGER, units=[unit_b], language="en"),
        }
        link_relative(people["relative"], patient, proxy=True, history=True)
        assessment = submit(
            people["nurse"], patient, "esas_r", dict(ESAS_CALM, pain=8, nausea=5), days_ago=1
        )
        flags = {flag.severity: flag.public_id for flag in assessment.flags}
        # pain 8 >= 7: severe_item (high); nausea 5 in 4..6: moderate_item (medium).
        assert set(flags) == {"high", "medium"}
        ward = Ward(
            unit=unit_a.public_id,
            patient=patient.public_id,
            flag_high=flags["high"],
            flag_medium=flags["medium"],
            emails={name: user.email for name, user in people.items()},
            ids={name: user.id for name, user in people.items()},
        )
        db.session.commit()
    return ward


def flag_row(app, public_id):
    with app.app_context():
        flag = db.session.scalar(select(Flag).where(Flag.public_id == public_id))
        db.session.expunge(flag)
        return flag


def ack_url(ward, flag=None):
    return f"/patients/{ward.patient}/flags/{flag or ward.flag_high}/acknowledge"


# --- Flags ------------------------------------------------------------------------------------


def test_today_shows_open_flag_counts_per_patient(ward, client, auth):
    auth.login(ward.emails["nurse"])
    page = client.get("/today").get_data(as_text=True)
    assert "Open flags: 1 high, 1 medium" in page


def test_acknowledging_needs_a_note_and_keeps_the_flag_with_who_and_when(app, ward, client, auth):
    auth.login(ward.emails["physician"])
    form = client.get(ack_url(ward))
    assert form.status_code == 200
    assert b'name="note"' in form.data

    empty = client.post(ack_url(ward), data={"note": "   "})
    assert empty.status_code == 200
    assert b"Write what was done about the flag." in empty.data
    assert flag_row(app, ward.flag_high).closed_at is None

    done = client.post(ack_url(ward), data={"note": "Morphine dose raised, called at 14:00"})
    assert done.status_code == 302
    assert done.location == f"/patients/{ward.patient}/flags"
    flag = flag_row(app, ward.flag_high)
    assert flag.closed_at is not None
    assert flag.closed_by_id == ward.ids["physician"]
    assert flag.close_reason == "acknowledged"
    assert flag.note == "Morphine dose raised, called at 14:00"
    assert flag_row(app, ward.flag_medium).closed_at is None  # only the one acknowledged

    history = client.get(f"/patients/{ward.patient}/flags").get_data(as_text=True)
    assert "Acknowledged by Physician" in history
    assert "Morphine dose raised, called at 14:00" in history
    # Today now counts 0 high and 1 medium.
    assert "Open flags: 0 high, 1 medium" in client.get("/today").get_data(as_text=True)

    again = client.post(ack_url(ward), data={"note": "twice"})
    assert b"This flag has already been closed." in again.data
    assert flag_row(app, ward.flag_high).note == "Morphine dose raised, called at 14:00"

    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "flag", AuditEvent.action == "update"
            )
        ).all()
        assert [(e.user_id, e.object_id, e.detail) for e in events] == [
            (ward.ids["physician"], ward.flag_high, "acknowledged")
        ]


def test_a_nurse_of_the_unit_may_acknowledge(app, ward, client, auth):
    auth.login(ward.emails["nurse"])
    response = client.post(ack_url(ward, ward.flag_medium), data={"note": "Antiemetic given"})
    assert response.status_code == 302
    assert flag_row(app, ward.flag_medium).closed_by_id == ward.ids["nurse"]


@pytest.mark.parametrize("who", ["self", "relative", "manager", "nurse_b", "physician_b"])
def test_others_cannot_acknowledge(app, ward, client, auth, who):
    auth.login(ward.emails[who])
    assert client.get(ack_url(ward)).status_code == 404
    assert client.post(ack_url(ward), data={"note": "I did it"}).status_code == 404
    assert flag_row(app, ward.flag_high).closed_at is None


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_acknowledge_form_checks_csrf(app, ward, client, app_config):
    def token(page):
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))[1]

    client.post(
        "/login",
        data={"email": ward.emails["nurse"], "password": PASSWORD, "csrf_token": token(client.get("/login"))},
    )
    form = client.get(ack_url(ward))
    assert client.post(ack_url(ward), data={"note": "no token"}).status_code == 400
    assert flag_row(app, ward.flag_high).closed_at is None
    sent = client.post(ack_url(ward), data={"note": "with token", "csrf_token": token(form)})
    assert sent.status_code == 302
    assert flag_row(app, ward.flag_high).note == "with token"


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nurse_b", "physician_b", "manager_b"])
def test_staff_of_another_unit_see_nothing(ward, client, auth, who):
    auth.login(ward.emails[who])
    for path in (
        f"/patients/{ward.patient}/trends",
        f"/patients/{ward.patient}/trends/esas_items.svg",
        f"/patients/{ward.patient}/summary",
        f"/patients/{ward.patient}/flags",
    ):
        assert client.get(path).status_code == 404, path
    for path in (f"/exports/{ward.unit}/assessments.csv", f"/exports/{ward.unit}/fhir.json"):
        assert client.post(path).status_code == 404, path
    overview = client.get("/overview")
    if who == "manager_b":
        assert overview.status_code == 403
    else:
        assert overview.status_code == 200
        assert ward.patient not in overview.get_data(as_text=True)
        assert "Andersson" not in overview.get_data(as_text=True)


@pytest.mark.parametrize("who", ["self", "relative"])
def test_patients_and_relatives_have_no_review_pages(ward, client, auth, who):
    auth.login(ward.emails[who])
    assert client.get("/overview").status_code == 403
    assert client.get("/exports").status_code == 403
    for path in (f"/patients/{ward.patient}/trends", f"/patients/{ward.patient}/summary"):
        assert client.get(path).status_code == 404


def test_manager_exports_but_cannot_acknowledge_or_review(app, ward, client, auth):
    auth.login(ward.emails["manager"])
    assert client.post(f"/exports/{ward.unit}/assessments.csv").status_code == 200
    assert client.post(f"/exports/{ward.unit}/fhir.json").status_code == 200
    assert client.get(ack_url(ward)).status_code == 404
    assert client.get("/overview").status_code == 403
    # Managers read their units' records for quality work: trends and summary are readable.
    assert client.get(f"/patients/{ward.patient}/summary").status_code == 200
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.patient_id.is_not(None))
        ).all()
        assert [(e.user_id, e.detail) for e in exported] == [
            (ward.ids["manager"], "csv"),
            (ward.ids["manager"], "fhir"),
        ]


@pytest.mark.parametrize(
    ("source", "reason", "words"),
    [
        ("assessment", "superseded", "Closed by a correction of the assessment"),
        ("reminder", "superseded", "by a flag that names what still applies"),
        ("reminder", "resolved", "no longer applies"),
        ("reminder", "patient_deceased", "when the patient's death was recorded"),
    ],
)
def test_the_flag_history_says_why_a_flag_was_closed(app, ward, client, auth, source, reason, words):
    """Each way a flag closes has its own words: a reminder that stopped applying must not read
    as if an assessment had been corrected."""
    with app.app_context():
        patient_id = db.session.scalar(select(Flag.patient_id).where(Flag.public_id == ward.flag_high))
        flag = Flag(patient_id=patient_id, source=source, code="assessment_overdue",
                    severity="info", items=[], params={"interval_days": 7},
                    closed_at=utcnow(), close_reason=reason)
        db.session.add(flag)
        db.session.commit()
        public_id = flag.public_id
    auth.login(ward.emails["physician"])
    history = client.get(f"/patients/{ward.patient}/flags").get_data(as_text=True)
    entry = history[history.index(f'id="flag-{public_id}"'):]
    entry = entry[: entry.index("</li>")]
    assert words in entry
    if source == "reminder":
        assert "correction" not in entry


def test_a_flag_of_another_patient_cannot_be_acknowledged_through_this_one(app, ward, client, auth):
    with app.app_context():
        unit_b_nurse = db.session.get(User, ward.ids["nurse_b"])
        stranger = make_patient(unit_b_nurse.active_units(today_local()), given_name="Stina")
        foreign = submit(unit_b_nurse, stranger, "esas_r", dict(ESAS_CALM, pain=9)).flags[0]
        foreign_id = foreign.public_id
        db.session.commit()
    auth.login(ward.emails["physician"])
    # The patient in the URL is visible to the physician; the flag belongs to someone else.
    response = client.post(ack_url(ward, foreign_id), data={"note": "not mine"})
    assert response.status_code == 404
    assert flag_row(app, foreign_id).closed_at is None
