"""Quality indicators per unit and period, on SQLite and PostgreSQL: the figures of both
families on a hand-built unit, the edges of the last week of life, exactly 90 %, who may see
them, the patient lists behind each figure, the CSV export, the Swedish page and a constant
query count.

The unit "Team" (a specialised palliative team) has these patients; the period is the last 30
days (today - 29 .. today). Orders are written with limits and s.c. unless said otherwise.

    A  early phase. ESAS-r 5 days ago, ROAG 5 days ago, care plan, orders for all four
       indications (nausea by mouth), serious illness conversation held 10 days ago.
    B  IPOS (staff) 3 days ago, care plan, orders for pain and anxiety only, serious illness
       conversation offered, brytpunktssamtal 10 days ago (-> end-of-life phase).
    C  never rated, no care plan, no orders, end-of-life phase without a brytpunktssamtal.
    D  ROAG 25 days ago, complete Abbey 7 days ago, care plan, orders for pain, nausea and death
       rattle s.c. and anxiety i.v., brytpunktssamtal 15 days ago; died 5 days ago, an expected
       death, free of pressure ulcers; bereavement conversation offered yesterday.
    E  ESAS-r 12 days ago; IPOS (staff) 4 days ago with pain "cannot assess" and the rest
       answered; orders for pain by mouth and anxiety s.c.; died 2 days ago, an expected death,
       with pressure ulcers.
    G  died 3 days ago, an unexpected death (brytpunktssamtal and all four orders: not counted).
    H  died 4 days ago; whether expected is not recorded (a death from before the question).
    F  died 40 days ago: before the period, not counted.
    X  in another unit only: not counted (and not visible to the unit's manager).
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from pallapp.careplan import common as careplan_common
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import AuditEvent, Milestone, Phase, Role, UnitKind
from pallapp.timeutil import STOCKHOLM, today_local
from tests.app.review.test_overview import ABBEY_ITEMS, IPOS_ITEMS, ROAG_ITEMS, count_queries
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import link_relative, make_patient, make_unit, make_user

DRUGS = {"pain": "Morfin", "nausea": "Haloperidol", "anxiety": "Midazolam",
         "death_rattle": "Glykopyrron"}
ALL_FOUR = tuple(DRUGS)


def details(indication, route="sc"):
    return OrderDetails(
        indication=indication, drug=DRUGS[indication], dose="1", dose_unit="mg", route=route,
        min_interval_minutes=60, max_doses_per_24h=6,
    )


def days_ago(days: int):
    return today_local() - timedelta(days=days)


def order(physician, patient, indications=ALL_FOUR, routes=None):
    for indication in indications:
        order_service.create_order(
            physician, patient.public_id, details(indication, (routes or {}).get(indication, "sc")),
            start_at=careplan_common.utcnow() - timedelta(days=20),
        )


def plan(nurse, patient):
    plan_service.save_care_plan(
        nurse, patient.public_id, {"contacts": "Team, 010-123 45 67"}, based_on=None
    )


def milestone(physician, patient, kind, days, **kwargs):
    milestone_service.record_milestone(
        physician, patient.public_id, kind=kind, occurred_on=days_ago(days), **kwargs
    )


def death(physician, patient, days, *, expected=True, free=True):
    milestone(physician, patient, "death", days, place="home", death_expected=expected,
              free_of_pressure_ulcers=free)


def forget_whether_expected(patient):
    """As the migration leaves a death recorded before the question existed."""
    stored = db.session.scalar(
        select(Milestone).where(Milestone.patient_id == patient.id, Milestone.kind == "death")
    )
    stored.death_expected = stored.free_of_pressure_ulcers = None


@pytest.fixture
def unit_world(app):
    with app.app_context():
        unit = make_unit("Team")
        other = make_unit("Elsewhere")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit, other], language="en")
        manager = make_user(Role.MANAGER, units=[unit], language="en")
        swedish_manager = make_user(Role.MANAGER, units=[unit], language="sv")
        other_nurse = make_user(Role.NURSE, units=[other], language="en")
        admin = make_user(Role.ADMIN, language="en")

        a = make_patient([unit], family_name="Anderson")
        submit(nurse, a, "esas_r", ESAS_CALM, days_ago=5)
        submit(nurse, a, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=5)
        plan(nurse, a)
        order(physician, a, routes={"nausea": "po"})
        milestone(physician, a, "svas_held", 10)

        b = make_patient([unit], family_name="Berg")
        submit(nurse, b, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 1), days_ago=3)
        plan(nurse, b)
        order(physician, b, ("pain", "anxiety"))
        milestone(physician, b, "svas_offered", 12)
        milestone(physician, b, "brytpunktssamtal", 10)

        c = make_patient([unit], family_name="Carlsson")
        c.phase = Phase.END_OF_LIFE.value

        d = make_patient([unit], family_name="Dahl")
        submit(nurse, d, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=25)
        submit(nurse, d, "abbey", dict.fromkeys(ABBEY_ITEMS, 0), days_ago=7)
        plan(nurse, d)
        order(physician, d, routes={"anxiety": "iv"})
        milestone(physician, d, "brytpunktssamtal", 15)
        death(physician, d, 5, expected=True, free=True)
        milestone(physician, d, "efterlevandesamtal_offered", 1)

        e = make_patient([unit], family_name="Ek")
        submit(nurse, e, "esas_r", ESAS_CALM, days_ago=12)
        submit(nurse, e, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 1) | {"pain": "cannot_assess"},
               days_ago=4)
        order(physician, e, ("pain", "anxiety"), routes={"pain": "po"})
        death(physician, e, 2, expected=True, free=False)

        g = make_patient([unit], family_name="Gustafsson")
        order(physician, g)
        milestone(physician, g, "brytpunktssamtal", 6)
        death(physician, g, 3, expected=False)

        h = make_patient([unit], family_name="Holm")
        death(physician, h, 4)
        forget_whether_expected(h)

        f = make_patient([unit], family_name="Fors")
        death(physician, f, 40)

        x = make_patient([other], family_name="Xenakis")
        submit(physician, x, "esas_r", ESAS_CALM, days_ago=1)

        self_user = make_user(Role.PATIENT, patient=a)
        relative = make_user(Role.RELATIVE)
        link_relative(relative, a, history=True)
        db.session.commit()
        return {
            "unit": unit.public_id,
            "other": other.public_id,
            "emails": {
                "nurse": nurse.email, "physician": physician.email, "manager": manager.email,
                "swedish_manager": swedish_manager.email,
                "other_nurse": other_nurse.email, "admin": admin.email,
                "patient": self_user.email, "relative": relative.email,
            },
        }


def figures(page: str) -> dict[str, str]:
    """indicator code -> 'n of m' as shown."""
    rows = re.findall(
        r'<tr class="indicator" data-indicator="([a-z_]+)">.*?<a [^>]*>(\d+ (?:of|av) \d+)<',
        page, re.S,
    )
    return dict(rows)


def row(page: str, code: str) -> str:
    """One indicator's row as text: cells separated by " | ", markup dropped, entities decoded
    ("> 90 %"), spaces collapsed."""
    markup = re.search(rf'data-indicator="{code}">(.*?)</tr>', page, re.S).group(1)
    cells = re.split(r"</t[dh]>", markup)
    text = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells]
    return " | ".join(cell for cell in text if cell)


IN_LIFE = {
    # 7 patients in the unit in the period: A, B, C, D, E, G, H (F died before it; X is
    # elsewhere). The dead are in this denominator too.
    "symptom_rated": "4 of 7",  # A ESAS-r, B IPOS, D Abbey, E ESAS-r and IPOS
    "care_plan": "3 of 7",  # A, B, D
    # In force on the last day (A, B, C) or the day of death (D, E, G, H), any route: A (nausea
    # by mouth still counts in life), D and G have all four.
    "orders_all_four": "3 of 7",
    "roag": "2 of 7",  # A 5 days ago, D 25 days ago (both in the period)
    "svas_offered": "2 of 7",  # A (held, so offered), B (offered)
    "svas_held": "1 of 7",  # A
}
END_OF_LIFE = {
    # Expected deaths in the period: D (5 days ago) and E (2 days ago). G (unexpected) and H
    # (not recorded) are not in this denominator.
    "pain_rated_last_week": "1 of 2",  # D: complete Abbey 2 days before death; E: "cannot assess"
    "other_symptoms_rated_last_week": "1 of 2",  # E: IPOS items other than pain; D: Abbey only
    "roag_last_week": "0 of 2",  # D's ROAG was 20 days before death
    "parenteral_pain": "1 of 2",  # D s.c.; E's pain order was by mouth
    "parenteral_anxiety": "2 of 2",  # D i.v., E s.c.
    "parenteral_nausea": "1 of 2",  # D
    "parenteral_death_rattle": "1 of 2",  # D
    "brytpunktssamtal": "1 of 2",  # D (15 days ago); E none
    "free_of_pressure_ulcers": "1 of 2",  # D; E had pressure ulcers
    "efterlevandesamtal_offered": "1 of 2",  # D
}
EXPECTED = IN_LIFE | END_OF_LIFE


def period_args() -> str:
    return f"start={days_ago(29).isoformat()}&end={today_local().isoformat()}"


def period_form() -> dict[str, str]:
    """The same period for the posted CSV download."""
    return {"start": days_ago(29).isoformat(), "end": today_local().isoformat()}


def test_the_figures_of_both_families_on_a_hand_built_unit(unit_world, client, auth):
    auth.login(unit_world["emails"]["manager"])
    page = client.get(f"/quality?unit={unit_world['unit']}&{period_args()}").get_data(as_text=True)
    assert figures(page) == EXPECTED
    assert "Patients in the unit during the period: 7." in page
    assert ("Deaths in the period: 4. Expected: 2 (counted below). Unexpected: 1. "
            "Not recorded whether expected: 1.") in page
    # Each family says who it counts.
    assert "In life: all patients with palliative care needs" in page
    assert "End of life: expected deaths" in page
    assert "the day of death and the six days before it" in page
    # Anxiety s.c./i.v. 2 of 2 = 100 % meets "≥ 98 %" (Socialstyrelsen).
    anxiety = row(page, "parenteral_anxiety")
    assert anxiety.endswith("| 100 % | ≥ 98 % Socialstyrelsen | ✓ Meets target | 96–98 % all kinds of care")
    # Nausea is shown without a national target.
    assert row(page, "parenteral_nausea").endswith("| 50 % | – | No national target | –")
    # The 2021 regional figures for a specialised palliative team, beside the end-of-life rows.
    assert row(page, "pain_rated_last_week").endswith("| ≈ 70 % specialised palliative care")
    assert row(page, "other_symptoms_rated_last_week").endswith(
        "| 50 % | 100 % regional target | ✗ Below target | ≈ 60 % specialised palliative care"
    )
    assert row(page, "roag_last_week").endswith("| ≈ 82 % specialised palliative care")
    assert row(page, "parenteral_pain").endswith("| 96–98 % all kinds of care")
    # 4 of 7 = 57.1 % (57.14...), below 100 %; the in-life rows have no regional column (the
    # plan has no figures for them).
    assert row(page, "symptom_rated").endswith("| 57.1 % | 100 % regional target | ✗ Below target")


def test_the_default_period_is_the_last_90_days(unit_world, client, auth):
    auth.login(unit_world["emails"]["nurse"])
    page = client.get("/quality").get_data(as_text=True)
    # F died 40 days ago: within the last 90 days, so 8 patients and 3 expected deaths.
    assert "Patients in the unit during the period: 8." in page
    assert figures(page)["efterlevandesamtal_offered"] == "1 of 3"


def test_a_figure_lists_the_patients_it_counts_and_misses(unit_world, client, auth, app):
    auth.login(unit_world["emails"]["physician"])
    response = client.get(f"/quality/{unit_world['unit']}/symptom_rated?{period_args()}")
    page = response.get_data(as_text=True)
    missed = page.split('patients-missed">')[1].split("</ul>")[0]
    counted = page.split('patients-counted">')[1].split("</ul>")[0]
    for name in ("Carlsson", "Gustafsson", "Holm"):
        assert name in missed
    for name in ("Anderson", "Berg", "Dahl", "Ek"):
        assert name in counted
    assert "Xenakis" not in page
    assert "Fors" not in page
    assert "In life: all patients with palliative care needs" in page

    def logged():
        with app.app_context():
            return db.session.scalars(
                select(AuditEvent.object_id).where(AuditEvent.object_type == "quality_patients")
            ).all()

    assert len(logged()) == 7
    # An end-of-life figure lists (and logs) only the expected deaths D and E.
    page = client.get(f"/quality/{unit_world['unit']}/parenteral_pain?{period_args()}")
    text = page.get_data(as_text=True)
    assert "Ek" in text.split('patients-missed">')[1].split("</ul>")[0]
    assert "Dahl" in text.split('patients-counted">')[1].split("</ul>")[0]
    assert "Gustafsson" not in text
    assert len(logged()) == 7 + 2


def test_the_deaths_are_listed_by_whether_they_were_expected(unit_world, client, auth, app):
    auth.login(unit_world["emails"]["manager"])
    page = client.get(f"/quality/{unit_world['unit']}/deaths?{period_args()}").get_data(as_text=True)

    def listed(kind):
        return re.findall(r">([A-Z][a-z]+), ", page.split(f'deaths-{kind}">')[1].split("</ul>")[0])

    assert listed("expected") == ["Dahl", "Ek"]
    assert listed("unexpected") == ["Gustafsson"]
    assert listed("unknown") == ["Holm"]
    with app.app_context():
        details_logged = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.object_type == "quality_patients")
        ).all()
    assert len(details_logged) == 4
    assert all(detail.startswith("deaths ") for detail in details_logged)


def test_the_last_week_of_life_at_its_edges(app, client, auth):
    """Died on day D (3 days ago): a rating at 00:00 on D - 6 counts, one at 23:59 on D - 7
    does not; one at 23:59 on D counts, one at 00:00 on D + 1 does not (Swedish time)."""
    died = days_ago(3)

    def at(day, hour, minute):
        return datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM)

    moments = {
        "First": at(died - timedelta(days=6), 0, 0),
        "Before": at(died - timedelta(days=7), 23, 59),
        "Last": at(died, 23, 59),
        "After": at(died + timedelta(days=1), 0, 0),
    }
    with app.app_context():
        from pallapp.assessments.services import submit_assessment

        unit = make_unit("Edges", kind=UnitKind.MUNICIPAL_HOME_CARE)
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit])
        for number, (name, when) in enumerate(moments.items()):
            patient = make_patient([unit], family_name=name)
            for instrument, answers in (("esas_r", ESAS_CALM),
                                        ("roag", dict.fromkeys(ROAG_ITEMS, 1))):
                submit_assessment(nurse, patient.public_id, instrument=instrument,
                                  answers=answers, observed_at=when,
                                  client_token=f"edge-{instrument}-{number:020d}")
            death(physician, patient, 3)
        db.session.commit()
        unit_id, email = unit.public_id, nurse.email
    auth.login(email)
    url = f"/quality/{unit_id}/pain_rated_last_week?{period_args()}"
    page = client.get(url).get_data(as_text=True)
    counted = page.split('patients-counted">')[1].split("</ul>")[0]
    missed = page.split('patients-missed">')[1].split("</ul>")[0]
    assert "First" in counted
    assert "Last" in counted
    assert "Before" in missed
    assert "After" in missed
    report = client.get(f"/quality?unit={unit_id}&{period_args()}").get_data(as_text=True)
    found = figures(report)
    # ESAS-r rates pain and other symptoms; ROAG the mouth: each 2 of 4.
    assert found["pain_rated_last_week"] == "2 of 4"
    assert found["other_symptoms_rated_last_week"] == "2 of 4"
    assert found["roag_last_week"] == "2 of 4"
    # A municipal home care unit sees the municipal figures of 2021.
    assert row(report, "pain_rated_last_week").endswith("| ≈ 50 % municipal care")


def test_exactly_90_percent_meets_at_least_90_but_not_above_90(app, client, auth):
    """Ten expected deaths in a ward; nine with ROAG in the last week and free of pressure
    ulcers: 9 of 10 = 90.0 % meets "≥ 90 %" (end of life) but not "> 90 %" (ROAG in life,
    where the same nine are counted)."""
    with app.app_context():
        unit = make_unit("Ward 7", kind=UnitKind.WARD)
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit])
        for number in range(10):
            patient = make_patient([unit], family_name=f"Patient{number}")
            if number:
                submit(nurse, patient, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=2)
            death(physician, patient, 1, free=bool(number))
        db.session.commit()
        unit_id, email = unit.public_id, nurse.email
    auth.login(email)
    page = client.get(f"/quality?unit={unit_id}&{period_args()}").get_data(as_text=True)
    assert figures(page)["roag_last_week"] == "9 of 10"
    assert "90 %" in row(page, "roag_last_week")
    assert "Meets target" in row(page, "roag_last_week")
    assert "Meets target" in row(page, "free_of_pressure_ulcers")
    assert figures(page)["roag"] == "9 of 10"
    assert "> 90 %" in row(page, "roag")
    assert "Below target" in row(page, "roag")
    # A ward compares itself with the hospital figures.
    assert row(page, "roag_last_week").endswith("| ≈ 60 % hospital care")


def test_a_primary_care_unit_sees_every_settings_figure(app, client, auth):
    with app.app_context():
        unit = make_unit("Vårdcentralen", kind=UnitKind.PRIMARY_CARE)
        email = make_user(Role.MANAGER, units=[unit], language="en").email
        db.session.commit()
        unit_id = unit.public_id
    auth.login(email)
    page = client.get(f"/quality?unit={unit_id}").get_data(as_text=True)
    assert row(page, "pain_rated_last_week").endswith(
        "| ≈ 50 % municipal care ≈ 25 % hospital care ≈ 70 % specialised palliative care"
    )


def test_the_page_in_swedish(unit_world, client, auth):
    auth.login(unit_world["emails"]["swedish_manager"])
    page = client.get(f"/quality?unit={unit_world['unit']}&{period_args()}").get_data(as_text=True)
    assert figures(page)["pain_rated_last_week"] == "1 av 2"
    for words in (
        "Kvalitetsindikatorer",
        "I livet: alla patienter med palliativa vårdbehov",
        "I livets slutskede: väntade dödsfall",
        "dödsdagen och de sex dagarna före den",
        "Smärta skattad med validerat instrument sista veckan",
        "Vid behovsordination mot smärta (opioid), s.c. eller i.v., vid dödsfallet",
        "Fri från trycksår vid dödsfallet",
        "Inget nationellt mål",
        "Socialstyrelsen",
        "Region Dalarna 2021",
        "specialiserad palliativ vård",
    ):
        assert words in page, words
    assert "Når målet" in row(page, "parenteral_anxiety")


def test_an_unknown_indicator_or_a_bad_period_is_not_found(unit_world, client, auth):
    auth.login(unit_world["emails"]["manager"])
    assert client.get(f"/quality/{unit_world['unit']}/no_such?{period_args()}").status_code == 404
    future = (today_local() + timedelta(days=3)).isoformat()
    page = client.get(f"/quality?unit={unit_world['unit']}&start={days_ago(3)}&end={future}")
    assert page.status_code == 200
    assert "The period cannot end in the future." in page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["patient", "relative", "admin"])
def test_patients_relatives_and_admins_get_404(unit_world, client, auth, who):
    auth.login(unit_world["emails"][who])
    unit = unit_world["unit"]
    assert client.get("/quality").status_code == 404
    assert client.get(f"/quality/{unit}/care_plan?{period_args()}").status_code == 404
    assert client.get(f"/quality/{unit}/deaths?{period_args()}").status_code == 404
    assert client.post(f"/exports/{unit}/quality.csv", data=period_form()).status_code == 404


def test_a_nurse_of_another_unit_sees_nothing_of_this_unit(unit_world, client, auth):
    auth.login(unit_world["emails"]["other_nurse"])
    unit = unit_world["unit"]
    assert client.get(f"/quality?unit={unit}&{period_args()}").status_code == 404
    assert client.get(f"/quality/{unit}/care_plan?{period_args()}").status_code == 404
    assert client.get(f"/quality/{unit}/deaths?{period_args()}").status_code == 404
    assert client.post(f"/exports/{unit}/quality.csv", data=period_form()).status_code == 404
    # Their own unit: only X, rated yesterday.
    page = client.get(f"/quality?{period_args()}").get_data(as_text=True)
    assert "Patients in the unit during the period: 1." in page
    assert figures(page)["symptom_rated"] == "1 of 1"


def test_the_csv_export_has_both_families_and_is_audited(unit_world, client, auth, app):
    auth.login(unit_world["emails"]["manager"])
    response = client.post(f"/exports/{unit_world['unit']}/quality.csv", data=period_form())
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    by_code = {r["indicator"]: r for r in rows}
    shown = {code: f"{r['numerator']} of {r['denominator']}" for code, r in by_code.items()}
    assert shown == EXPECTED | {
        # The deaths of the period by whether they were expected, out of all 4.
        "deaths_expected": "2 of 4", "deaths_unexpected": "1 of 4",
        "deaths_expected_unknown": "1 of 4",
    }
    rated = by_code["symptom_rated"]
    assert (rated["unit"], rated["unit_kind"], rated["period_start"], rated["period_end"]) == (
        "Team", "specialised_palliative", days_ago(29).isoformat(), today_local().isoformat(),
    )
    assert (rated["family"], rated["percent"], rated["target"], rated["meets_target"]) == (
        "in_life", "57.1", "100 %", "no",
    )
    assert by_code["roag"]["target"] == "> 90 %"
    pain = by_code["pain_rated_last_week"]
    assert (pain["family"], pain["percent"], pain["target_source"], pain["regional_2021"]) == (
        "end_of_life", "50.0", "socialstyrelsen", "specialised: ≈ 70 %",
    )
    nausea = by_code["parenteral_nausea"]
    assert (nausea["target"], nausea["meets_target"]) == ("", "")
    assert by_code["deaths_expected_unknown"]["percent"] == "25.0"
    assert "Anderson" not in response.get_data(as_text=True)  # counts only
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent.object_type).where(AuditEvent.action == "export")
        ).all()
    # One event per patient counted (7) and one for the unit.
    assert exported.count("quality_indicators") == 7
    assert exported.count("care_unit") == 1


def test_the_csv_leaves_the_percentage_empty_without_patients(app, client, auth):
    with app.app_context():
        unit = make_unit("Empty")
        manager = make_user(Role.MANAGER, units=[unit])
        db.session.commit()
        unit_id, email = unit.public_id, manager.email
    auth.login(email)
    text = client.post(f"/exports/{unit_id}/quality.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 16 + 3  # the indicators of both families, then the three death rows
    assert {r["family"] for r in rows} == {"in_life", "end_of_life"}
    assert all(r["denominator"] == "0" for r in rows)
    assert all(r["percent"] == "" and r["meets_target"] == "" for r in rows)


def test_the_query_count_does_not_grow_with_patients(app, client, auth):
    with app.app_context():
        unit = make_unit("Counted unit")
        nurse = make_user(Role.NURSE, units=[unit])
        physician = make_user(Role.PHYSICIAN, units=[unit])
        manager = make_user(Role.MANAGER, units=[unit], language="en")  # the checks read English
        db.session.commit()
        ids = {"unit": unit.id, "nurse": nurse.id, "physician": physician.id}
        email = manager.email

    def add_patients(number):
        from pallapp.models import CareUnit, User

        with app.app_context():
            unit = db.session.get(CareUnit, ids["unit"])
            nurse = db.session.get(User, ids["nurse"])
            physician = db.session.get(User, ids["physician"])
            for index in range(number):
                patient = make_patient([unit], family_name="Counted")
                submit(nurse, patient, "esas_r", ESAS_CALM, days_ago=3)
                submit(nurse, patient, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=3)
                plan(nurse, patient)
                order(physician, patient)
                milestone(physician, patient, "brytpunktssamtal", 5)
                if index % 2 == 0:
                    death(physician, patient, 1, expected=index % 4 == 0)
                    milestone(physician, patient, "efterlevandesamtal_offered", 0)
            db.session.commit()

    auth.login(email)
    add_patients(3)
    queries_3, page_3 = count_queries(app, client, "/quality")
    add_patients(9)
    queries_12, page_12 = count_queries(app, client, "/quality")
    assert "Patients in the unit during the period: 3." in page_3
    assert "Patients in the unit during the period: 12." in page_12
    assert queries_3 == queries_12


def test_the_demo_gives_figures_with_shortfalls_to_look_at(app, client, auth):
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    auth.login("manager@example.org", "pallapp-demo")
    client.post("/language", data={"language": "en"})  # the checks read the English page
    page = client.get("/quality").get_data(as_text=True)
    found = figures(page)
    # The palliative team: 20 patients (12 own, 8 shared), 6 of them without a care plan.
    assert found["care_plan"] == "14 of 20"
    # Two expected deaths in the last 90 days, both rated in their last week (IPOS staff and
    # Abbey); one without ROAG then, one without a nausea order, one with a pressure ulcer, and
    # the bereavement conversation offered for one of them.
    assert found["pain_rated_last_week"] == "2 of 2"
    assert found["roag_last_week"] == "1 of 2"
    assert found["parenteral_nausea"] == "1 of 2"
    assert found["free_of_pressure_ulcers"] == "1 of 2"
    assert found["efterlevandesamtal_offered"] == "1 of 2"
    assert "Below target" in page
    assert "Meets target" in page
