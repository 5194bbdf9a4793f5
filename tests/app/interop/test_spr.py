"""Svenska palliativregistret pre-fill, on SQLite and PostgreSQL: the suggested answer to each
question for hand-built deceased patients (the expected answer written beside its reason),
the unit's list of deaths not yet registered with the share registered, who may see it, the
audit trail and the CSV.

The unit "Team" is a specialised palliative team. Its patients:

    Dahl   care plan wishing to die "Hemma, i sitt eget hus"; brytpunktssamtal 15 days ago
           with "patienten och dottern"; ROAG 5 days ago, complete Abbey 6 days ago; orders for
           all four indications, s.c. (anxiety i.v.); died 2 days ago at home, an expected
           death, free of pressure ulcers; bereavement conversation offered yesterday.
    Ek     ESAS-r 12 days ago; IPOS (staff) 2 days ago with pain "cannot assess" and the rest
           answered; orders for pain by mouth and anxiety s.c.; died yesterday in hospital, an
           unexpected death, with pressure ulcers; marked registered in SPR today.
    Alm    alive: not a death, not listed.
    Xenakis  died yesterday, in another unit only: not visible to the team.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.common import Refused
from pallapp.extensions import db
from pallapp.interop import spr, spr_service
from pallapp.models import CARE_PLAN_FIELDS, AuditEvent, Role, User
from pallapp.timeutil import today_local
from tests.app.review.test_overview import ABBEY_ITEMS, IPOS_ITEMS, ROAG_ITEMS
from tests.app.review.test_quality import death, milestone, order, submit
from tests.app.review.test_views import ESAS_CALM
from tests.factories import make_patient, make_unit, make_user

V = spr.Value


@pytest.fixture
def team(app):
    with app.app_context():
        unit = make_unit("Team")
        other = make_unit("Elsewhere")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        manager = make_user(Role.MANAGER, units=[unit], language="sv")
        other_nurse = make_user(Role.NURSE, units=[other], language="en")
        admin = make_user(Role.ADMIN, language="en")

        dahl = make_patient([unit], family_name="Dahl")
        plan_service.save_care_plan(
            nurse, dahl.public_id,
            {"contacts": "Team, 010-123 45 67", "preferred_place_of_death": "Hemma, i sitt eget hus"},
            based_on=None,
        )
        milestone(physician, dahl, "brytpunktssamtal", 15, participants="patienten och dottern")
        submit(nurse, dahl, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=5)
        submit(nurse, dahl, "abbey", dict.fromkeys(ABBEY_ITEMS, 0), days_ago=6)
        order(physician, dahl, routes={"anxiety": "iv"})
        death(physician, dahl, 2, expected=True, free=True)
        milestone(physician, dahl, "efterlevandesamtal_offered", 1)

        ek = make_patient([unit], family_name="Ek")
        submit(nurse, ek, "esas_r", ESAS_CALM, days_ago=12)
        submit(nurse, ek, "ipos_staff",
               dict.fromkeys(IPOS_ITEMS, 1) | {"pain": "cannot_assess"}, days_ago=2)
        order(physician, ek, ("pain", "anxiety"), routes={"pain": "po"})
        milestone_service.record_milestone(
            physician, ek.public_id, kind="death", occurred_on=today_local() - timedelta(days=1),
            place="hospital", death_expected=False, free_of_pressure_ulcers=False,
        )
        milestone(nurse, ek, "spr_registered", 0)

        alm = make_patient([unit], family_name="Alm")
        xenakis = make_patient([other], family_name="Xenakis")
        other_physician = make_user(Role.PHYSICIAN, units=[other])
        death(other_physician, xenakis, 1)
        db.session.commit()
        return {
            "unit": unit.public_id, "other": other.public_id,
            "dahl": dahl.public_id, "ek": ek.public_id, "alm": alm.public_id,
            "xenakis": xenakis.public_id,
            "emails": {"nurse": nurse.email, "physician": physician.email,
                       "manager": manager.email, "other_nurse": other_nurse.email,
                       "admin": admin.email},
        }


def answers_of(app, team, email, patient):
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == email))
        prefill = spr_service.patient_prefill(user, team["unit"], team[patient])
        db.session.commit()
        return {a.question.code: a for a in prefill.answers}


def test_prefill_of_an_expected_death_at_home(app, team):
    found = answers_of(app, team, team["emails"]["nurse"], "dahl")
    expected = {
        # Q6: died at home under a specialised palliative team: advanced home health care.
        "place_of_death": V.HOME_ADVANCED,
        # Q9: recorded on the death milestone as expected.
        "death_expected": V.YES,
        # The wish is written as text only ("Hemma, i sitt eget hus"): no suggestion.
        "preferred_place": None,
        # A brytpunktssamtal 15 days before the death, participants written as text: no
        # suggestion for either; the participants are shown.
        "brytpunktssamtal_patient": None,
        "brytpunktssamtal_relatives": None,
        # Last week of life = the day of death (2 days ago) and the six days before: 2..8 days
        # ago. The Abbey 6 days ago is complete, so pain was rated.
        "pain_rated": V.YES,
        # The Abbey rates pain only and the ROAG is oral health: no other symptom was rated.
        "other_symptoms_rated": V.NO,
        # ROAG 5 days ago lies in 2..8 days ago.
        "oral_health_assessed": V.YES,
        # All four orders s.c. or i.v., in force on the day of death (the death stopped them).
        "prn_injection_pain": V.YES,
        "prn_injection_nausea": V.YES,
        "prn_injection_anxiety": V.YES,
        "prn_injection_death_rattle": V.YES,
        # Recorded free of pressure ulcers: the question asks about ulcers, so No.
        "pressure_ulcers": V.NO,
        "efterlevandesamtal_offered": V.YES,
        # Dates are copied, not chosen.
        "date_of_death": None,
        "enrolled_on": None,
    }
    assert {code: answer.value for code, answer in found.items()} == expected
    assert found["date_of_death"].detail == (today_local() - timedelta(days=2)).isoformat()
    assert found["enrolled_on"].detail == (today_local() - timedelta(days=30)).isoformat()
    assert found["preferred_place"].detail == "Hemma, i sitt eget hus"
    assert "patienten och dottern" in found["brytpunktssamtal_patient"].detail
    # Every answer names its records: the pain rating is the Abbey, the orders are four.
    assert [s.label for s in found["pain_rated"].sources] == ["Abbey Pain Scale"]
    assert [s.kind for s in found["oral_health_assessed"].sources] == [spr.SourceKind.ASSESSMENT]
    assert len(found["prn_injection_anxiety"].sources) == 1
    assert found["death_expected"].sources[0].kind is spr.SourceKind.MILESTONE


def test_prefill_of_an_unexpected_death_in_hospital(app, team):
    found = answers_of(app, team, team["emails"]["physician"], "ek")
    expected = {
        "place_of_death": V.HOSPITAL_WARD,  # Q6: hospital
        "death_expected": V.NO,  # recorded as unexpected
        "preferred_place": None,  # no care plan
        # No brytpunktssamtal before the death: No for both.
        "brytpunktssamtal_patient": V.NO,
        "brytpunktssamtal_relatives": V.NO,
        # Last week: yesterday .. 7 days ago. The ESAS-r 12 days ago is outside it; the IPOS 2
        # days ago has pain "cannot assess", which is not a rating ...
        "pain_rated": V.NO,
        # ... but its other symptoms are answered with numbers.
        "other_symptoms_rated": V.YES,
        "oral_health_assessed": V.NO,  # no ROAG
        "prn_injection_pain": V.NO,  # by mouth: not an injection
        "prn_injection_nausea": V.NO,  # no order
        "prn_injection_anxiety": V.YES,  # s.c.
        "prn_injection_death_rattle": V.NO,  # no order
        "pressure_ulcers": V.YES,  # recorded as not free of them
        "efterlevandesamtal_offered": V.NO,
        "date_of_death": None,
        "enrolled_on": None,
    }
    assert {code: answer.value for code, answer in found.items()} == expected
    # The one source is the IPOS of 2 days ago (the ESAS-r is outside the week).
    [source] = found["other_symptoms_rated"].sources
    assert source.kind is spr.SourceKind.ASSESSMENT
    assert source.on == (today_local() - timedelta(days=2)) or source.on == today_local() - timedelta(days=3)


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_unit_list_shows_deaths_not_registered_and_the_share(app, team, client, auth):
    auth.login(team["emails"]["nurse"])
    page = client.get(f"/spr/{team['unit']}").get_data(as_text=True)
    # Two deaths in the unit (Dahl, Ek; Xenakis is elsewhere, Alm alive), one registered:
    # 1 / 2 = 50 %.
    assert "1 of 2 deaths marked registered: 50 %." in page
    assert "Below target" in page
    # Names are compared in the text, without tags: a random public id in a link ("oCEkW…")
    # may contain a family name's letters.
    todo = text_of(page.split('class="plain patient-list spr-not-registered"')[1].split("</ul>")[0])
    done = text_of(page.split('class="plain patient-list spr-registered"')[1].split("</ul>")[0])
    assert "Dahl" in todo
    assert "Ek" not in todo
    assert "Ek" in done
    assert "registered" in done
    assert "Alm" not in text_of(page)
    assert "Xenakis" not in text_of(page)


def test_who_may_see_the_prefill(app, team, client, auth):
    unit, dahl = team["unit"], team["dahl"]
    for who in ("nurse", "physician", "manager"):
        auth.login(team["emails"][who])
        assert client.get(f"/spr/{unit}/patients/{dahl}").status_code == 200, who
        # A patient of another unit, an alive patient: not found.
        assert client.get(f"/spr/{unit}/patients/{team['xenakis']}").status_code == 404
        # A living patient of the unit: the page says there is no death to register.
        alive = client.get(f"/spr/{unit}/patients/{team['alm']}")
        assert alive.status_code == 200
        assert 'class="spr-not-deceased"' in alive.get_data(as_text=True)
        auth.logout()
    for who in ("other_nurse", "admin"):
        auth.login(team["emails"][who])
        assert client.get(f"/spr/{unit}").status_code == 404, who
        assert client.get(f"/spr/{unit}/patients/{dahl}").status_code == 404, who
        assert client.post(f"/spr/{unit}/prefill.csv").status_code == 404, who
        auth.logout()


def test_every_prefill_is_audited(app, team, client, auth):
    auth.login(team["emails"]["nurse"])
    client.get(f"/spr/{team['unit']}/patients/{team['dahl']}")
    client.get(f"/spr/{team['unit']}")
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type.like("spr_%"))
        ).all()
        kinds = sorted((e.action, e.object_type, e.object_id) for e in events if e.patient_id)
    # The pre-fill page: one view of Dahl; the list: one view each of Dahl and Ek.
    assert kinds == sorted([
        ("view", "spr_prefill", None),
        ("view", "spr_registrations", team["dahl"]),
        ("view", "spr_registrations", team["ek"]),
    ])


def test_the_csv_holds_the_deaths_not_yet_registered(app, team, client, auth):
    auth.login(team["emails"]["nurse"])
    response = client.post(f"/spr/{team['unit']}/prefill.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    # Only Dahl (Ek is registered): every answered question and every unanswerable one.
    answerable = len(spr.prefill_questions())
    assert {row["patient"] for row in rows} == {next(r["patient"] for r in rows)}
    assert "Dahl" in rows[0]["patient"]
    assert len(rows) == answerable + len(spr.UNANSWERABLE)
    by_code = {row["question"]: row for row in rows}
    assert by_code["place_of_death"]["answer"] == "eget_hem_avancerad"
    assert by_code["place_of_death"]["spr_number"] == "6"
    # The journal codes of the records behind an answer (docs/fhir.md).
    assert by_code["brytpunktssamtal_patient"]["codes"] == "KVÅ XV018"
    assert by_code["enrolled_on"]["codes"] == "ICD-10-SE Z51.5"
    assert by_code["pain_rated"]["codes"] == ""
    assert by_code["autopsy"]["answer"] == ""
    assert by_code["autopsy"]["reason"]
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export")
        ).all()
    assert sorted(e.object_type for e in exported) == ["care_unit", "spr_prefill"]


def test_swedish_page(app, team, client, auth):
    auth.login(team["emails"]["manager"])  # language sv
    page = client.get(f"/spr/{team['unit']}/patients/{team['dahl']}").get_data(as_text=True)
    assert "Eget hem, med stöd av avancerad hemsjukvård" in page
    assert "Frågor som pallapp inte kan besvara" in page


def test_place_of_death_at_home_depends_on_the_home_care():
    assert spr.place_value("home", "specialised_palliative") is V.HOME_ADVANCED
    assert spr.place_value("home", "municipal_home_care") is V.HOME_OTHER
    assert spr.place_value("home", "primary_care") is V.HOME_OTHER
    assert spr.place_value("home", "ward") is None
    assert spr.place_value(None, "ward") is None


def test_the_preference_chosen_in_the_care_plan_answers_the_question(app, team):
    # The nurse chooses "At home" as the preferred place in Dahl's care plan; Dahl died at
    # home: Yes. Then "Hospital": No.
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == team["emails"]["nurse"]))
        patient = team["dahl"]
        current = plan_service.read_care_plan(nurse, patient)[1]
        values = {name: getattr(current, name) for name in CARE_PLAN_FIELDS}
        plan_service.save_care_plan(
            nurse, patient, values | {"preferred_place_of_death_code": "home"},
            based_on=current.version,
        )
        db.session.commit()
    assert answers_of(app, team, team["emails"]["nurse"], "dahl")["preferred_place"].value is V.YES
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == team["emails"]["nurse"]))
        current = plan_service.read_care_plan(nurse, patient)[1]
        values = {name: getattr(current, name) for name in CARE_PLAN_FIELDS}
        plan_service.save_care_plan(
            nurse, patient, values | {"preferred_place_of_death_code": "hospital"},
            based_on=current.version,
        )
        db.session.commit()
    assert answers_of(app, team, team["emails"]["nurse"], "dahl")["preferred_place"].value is V.NO


def test_an_unknown_place_is_refused(app, team):
    with app.test_request_context():
        nurse = db.session.scalar(select(User).where(User.email == team["emails"]["nurse"]))
        current = plan_service.read_care_plan(nurse, team["dahl"])[1]
        with pytest.raises(Refused, match="unknown_place"):
            plan_service.save_care_plan(
                nurse, team["dahl"], {"preferred_place_of_death_code": "moon"},
                based_on=current.version,
            )
