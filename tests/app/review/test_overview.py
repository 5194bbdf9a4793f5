"""The unit overview: order, overdue ratings, key scores, filters, and a constant query count.

Expected values are worked out by hand from INSTRUMENTS.md.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pallapp.careplan import doses as dose_service
from pallapp.careplan import orders as order_service
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import AuditEvent, PatientUnit, Phase, Role, utcnow
from pallapp.timeutil import today_local
from tests.app.review.test_views import ESAS_CALM, ESAS_ITEMS, submit
from tests.factories import make_patient, make_unit, make_user
from tests.sql_log import statements_sent

MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=60, max_doses_per_24h=6,
)
MIDAZOLAM = OrderDetails(
    indication="anxiety", drug="Midazolam", strength="5 mg/ml", dose="2,5", dose_unit="mg",
    route="sc", min_interval_minutes=60, max_doses_per_24h=6,
)

IPOS_ITEMS = (
    "pain", "shortness_of_breath", "weakness", "nausea", "vomiting", "poor_appetite",
    "constipation", "sore_dry_mouth", "drowsiness", "poor_mobility", "patient_anxiety",
    "family_anxiety", "depression", "at_peace", "sharing_feelings", "information",
    "practical_problems",
)
ABBEY_ITEMS = (
    "vocalisation", "facial_expression", "body_language", "behaviour", "physiological", "physical",
)
ROAG_ITEMS = (
    "voice", "lips", "mucous_membranes", "tongue", "gums", "teeth", "dentures", "saliva",
    "swallowing",
)


ESAS_ITEMS_ALL = ESAS_ITEMS


def rate_fully(nurse, patient):
    """ESAS-r, IPOS (staff), Abbey and ROAG, a day ago; 1 high and 3 medium open flags."""
    # ESAS-r pain 8 (severe_item, high), nausea 5 (moderate_item, medium);
    # total = 8 + 1 + 1 + 5 + 1 + 1 + 1 + 1 + 1 = 20.
    submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=8, nausea=5), days_ago=1)
    # IPOS: all 17 items 1 -> total 17; no item >= 3, no flag.
    submit(nurse, patient, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 1), days_ago=1)
    # Abbey: 2 + 1 = 3 -> band mild (3-7), pain_behaviour medium.
    abbey = dict.fromkeys(ABBEY_ITEMS, 0) | {"vocalisation": 2, "facial_expression": 1}
    submit(nurse, patient, "abbey", abbey, days_ago=1)
    # ROAG: saliva 2, all else 1 -> max grade 2, band moderate, oral_health medium.
    submit(nurse, patient, "roag", dict.fromkeys(ROAG_ITEMS, 1) | {"saliva": 2}, days_ago=1)


def give_pain_and_anxiety_doses(team, patient):
    """Orders for pain and anxiety; pain doses 2 and 5 hours ago and 30 hours ago, anxiety 1 hour
    ago: in the last 24 hours, pain 2 and anxiety 1."""
    now = utcnow()
    for details, hours in ((MORPHINE, (2, 5, 30)), (MIDAZOLAM, (1,))):
        order = order_service.create_order(
            team["physician"], patient.public_id, details, start_at=now - timedelta(days=3)
        )
        for hours_ago in hours:
            dose_service.record_dose(
                team["nurse"], patient.public_id, order.public_id,
                given_at=now - timedelta(hours=hours_ago), dose=details.dose,
                dose_unit=details.dose_unit, route=details.route,
                client_token=f"overview-{patient.public_id}-{details.indication}-{hours_ago}",
            )


def names_in_order(page: str) -> list[str]:
    return re.findall(r'<li class="card overview-row"[^>]*>\s*<h2><a [^>]*>([^<]+)</a>', page)


class Team:
    """Ids of two units and their staff; `load` gives the records in the current context."""

    def __init__(self, ids: dict[str, tuple[type, int]], emails: dict[str, str]) -> None:
        self.ids = ids
        self.emails = emails

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        model, record_id = self.ids[name]
        return db.session.get(model, record_id)


@pytest.fixture
def team(app):
    with app.app_context():
        unit = make_unit("Team A")
        other = make_unit("Home care B")
        nurse = make_user(Role.NURSE, units=[unit, other], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit, other], language="en")
        db.session.commit()
        records = {"unit": unit, "other": other, "nurse": nurse, "physician": physician}
        return Team(
            {name: (type(record), record.id) for name, record in records.items()},
            {"nurse": nurse.email, "physician": physician.email},
        )


def test_order_by_clinical_need_in_a_hand_built_unit(app, team, client, auth):
    """Eight patients whose correct order is written here, one rule of the order at a time:
    most severe open flag, worst current item band, newest rise, overdue, longest since."""
    with app.app_context():
        nurse, unit = team["nurse"], team["unit"]
        # Ceder: a mild Abbey (2 + 1 = 3, band mild, pain_behaviour medium) and ROAG saliva 2
        # (oral_health medium) at three visits: many medium flags, worst band mild.
        ceder = make_patient([unit], family_name="Ceder")
        for days_ago in (5, 3, 1):
            abbey = dict.fromkeys(ABBEY_ITEMS, 0) | {"vocalisation": 2, "facial_expression": 1}
            submit(nurse, ceder, "abbey", abbey, days_ago=days_ago)
            submit(nurse, ceder, "roag", dict.fromkeys(ROAG_ITEMS, 1) | {"saliva": 2}, days_ago=days_ago)
        # Björk: eight ESAS-r items at 7 or more (one severe_item, high), first rating: no rise.
        bjork = make_patient([unit], family_name="Björk")
        submit(nurse, bjork, "esas_r", dict.fromkeys(ESAS_ITEMS_ALL, 8) | {"wellbeing": 1}, days_ago=1)
        # Alm: pain 3 -> 8 (severe_item high; item_rise +5 and total_rise +5, medium): also high
        # and severe, but a newest rise puts her before Björk.
        alm = make_patient([unit], family_name="Alm")
        submit(nurse, alm, "esas_r", dict(ESAS_CALM, pain=3), days_ago=2)
        submit(nurse, alm, "esas_r", dict(ESAS_CALM, pain=8), days_ago=1)
        # Dahl: nausea 5 (moderate_item, medium), band moderate: before Ceder's mild.
        dahl = make_patient([unit], family_name="Dahl")
        submit(nurse, dahl, "esas_r", dict(ESAS_CALM, nausea=5), days_ago=1)
        # Ek and Fura: no flag, every item 1 (band mild); Ek rated 10 days ago is overdue (7).
        ek = make_patient([unit], family_name="Ek")
        submit(nurse, ek, "esas_r", ESAS_CALM, days_ago=10)
        fura = make_patient([unit], family_name="Fura")
        submit(nurse, fura, "esas_r", ESAS_CALM, days_ago=1)
        # Gran: never rated (no known symptom, like band none) and overdue; Hassel: every item 0
        # (band none) a day ago, not overdue.
        make_patient([unit], family_name="Gran")
        hassel = make_patient([unit], family_name="Hassel")
        submit(nurse, hassel, "esas_r", dict.fromkeys(ESAS_ITEMS_ALL, 0), days_ago=1)
        db.session.commit()
    auth.login(team.emails["physician"])
    page = client.get("/overview").get_data(as_text=True)
    correct = ["Alm", "Björk", "Dahl", "Ceder", "Ek", "Fura", "Gran", "Hassel"]
    assert [name.split(",")[0] for name in names_in_order(page)] == correct
    # The table shows the same order.
    table = re.findall(r'<tr class="overview-line"[^>]*>\s*<th scope="row"><a [^>]*>([^<]+)</a>', page)
    assert [name.split(",")[0] for name in table] == correct
    assert "Order: most severe open flag, then worst current symptom" in page
    assert page.count("Rating overdue") == 2  # Ek and Gran
    ceder_row = re.search(r'<tr class="overview-line"[^>]*>\s*<th scope="row"><a [^>]*>Ceder.*?</tr>', page, re.S)
    # Repeats of one rule are one group, with since when (the first visit, 5 days ago) and how
    # many times; the worst current band in words beside the items at it.
    row = ceder_row.group(0)
    # In the table: "Oral health problem: Saliva (3×, 5 d)", "Signs of pain (3×, 5 d)".
    assert "Oral health problem: Saliva" in row
    assert "Signs of pain" in row
    assert row.count("(3×, 5 d)") == 2
    # The same in words: a tooltip and a screen-reader text for each of the two groups.
    assert row.count("for 5 days · 3 times") == 4
    assert ">mild</span> Abbey Pain Scale: Total score 3" in row
    # The phone cards name every item of every group.
    card = re.search(r'<li class="card overview-row"[^>]*>\s*<h2><a [^>]*>Ceder.*?(?=<li class="card|</ol>)', page, re.S)
    assert "Signs of pain (Medium priority): Vocalisation, Facial expression · for 5 days · 3 times" in card.group(0)


def test_overdue_follows_the_units_interval_and_the_end_of_life_phase(app, team, client, auth):
    with app.app_context():
        nurse, unit = team["nurse"], team["unit"]
        unit.assessment_interval_days = 14
        unit.end_of_life_interval_days = 2
        weekly = make_patient([unit], family_name="Tendays")
        submit(nurse, weekly, "esas_r", ESAS_CALM, days_ago=10)  # 10 < 14: not overdue
        dying = make_patient([unit], family_name="Threedays")
        dying.phase = Phase.END_OF_LIFE.value
        submit(nurse, dying, "esas_r", ESAS_CALM, days_ago=3)  # 3 >= 2: overdue
        db.session.commit()
    auth.login(team.emails["nurse"])
    page = client.get("/overview").get_data(as_text=True)
    assert [name.split(",")[0] for name in names_in_order(page)] == ["Threedays", "Tendays"]
    assert page.count("Rating overdue") == 1
    assert "interval 14 days" in page
    assert "interval 2 days" in page


def test_key_scores_and_open_flags(app, team, client, auth):
    with app.app_context():
        patient = make_patient([team["unit"]], family_name="Scored")
        rate_fully(team["nurse"], patient)
        db.session.commit()
    auth.login(team.emails["physician"])
    page = client.get("/overview").get_data(as_text=True)
    assert "High flags: 1" in page
    assert "Medium flags: 3" in page
    assert "Symptom distress score: 20/90" in page  # ESAS-r
    assert "Total score: 17/68" in page  # IPOS
    assert "Total score: 3/18" in page  # Abbey
    assert "Mild pain" in page
    assert "Highest grade: 2/3" in page  # ROAG
    assert "Moderate oral problems" in page
    assert "1 days since" in page


def test_filters_by_unit_and_phase(app, team, client, auth):
    with app.app_context():
        make_patient([team["unit"]], family_name="Inteam")
        at_home = make_patient([team["other"]], family_name="Athome")
        at_home.phase = Phase.END_OF_LIFE.value
        gone = make_patient([team["unit"]], family_name="Gone")
        gone.phase = Phase.DECEASED.value
        db.session.commit()
        team_id, other_id = team["unit"].public_id, team["other"].public_id
    auth.login(team.emails["nurse"])

    def shown(query):
        page = client.get(f"/overview{query}").get_data(as_text=True)
        return sorted(name.split(",")[0] for name in names_in_order(page))

    assert shown("") == ["Athome", "Inteam"]  # deceased not shown by default
    assert shown(f"?unit={team_id}") == ["Inteam"]
    assert shown(f"?unit={other_id}") == ["Athome"]
    assert shown("?phase=end_of_life") == ["Athome"]
    assert shown("?phase=deceased") == ["Gone"]
    assert client.get("/overview?unit=nope").status_code == 404
    assert client.get("/overview?phase=nope").status_code == 404


def count_queries(app, client, path) -> tuple[int, str]:
    with statements_sent(app) as sent:
        response = client.get(path)
    assert response.status_code == 200
    return len(sent), response.get_data(as_text=True)


def test_overview_and_today_query_counts_do_not_grow_with_patients(app, team, client, auth):
    def add_patients(number):
        with app.app_context():
            for _index in range(number):
                patient = make_patient([team["unit"]], family_name="Counted")
                rate_fully(team["nurse"], patient)
                give_pain_and_anxiety_doses(team, patient)
            db.session.commit()

    auth.login(team.emails["physician"])
    add_patients(3)
    overview_3, page_3 = count_queries(app, client, "/overview")
    today_3, today_page_3 = count_queries(app, client, "/today")
    add_patients(12)
    overview_15, page_15 = count_queries(app, client, "/overview")
    today_15, today_page_15 = count_queries(app, client, "/today")

    assert len(names_in_order(page_3)) == 3
    assert len(names_in_order(page_15)) == 15
    assert today_page_3.count("Open flags: 1 high, 3 medium") == 3
    assert today_page_15.count("Open flags: 1 high, 3 medium") == 15
    # Pain 2 doses and anxiety 1 in the last 24 hours (the one 30 hours ago is older).
    assert page_3.count("As-needed doses in the last 24 hours: Pain 2, Anxiety 1") == 3
    assert page_15.count("As-needed doses in the last 24 hours: Pain 2, Anxiety 1") == 15
    assert overview_3 == overview_15
    assert today_3 == today_15
    with app.app_context():
        # Every patient shown is still audit-logged: 3 on the first overview, 15 on the second.
        logged = db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.object_type == "unit_overview")
        ).all()
    assert len(logged) == 3 + 15
    assert len(set(logged)) == 15


def test_a_page_in_seven_statements(app, team, client, auth):
    """The user, the patients in order, their latest ratings, the page's patients with their
    care-plan details, their open flags, their doses and the audit events: each statement built
    once (counted: twelve before, each built anew at every request)."""
    with app.app_context():
        for _index in range(3):
            patient = make_patient([team["unit"], team["other"]], family_name="Counted")
            rate_fully(team["nurse"], patient)
            give_pain_and_anxiety_doses(team, patient)
        db.session.commit()
    auth.login(team.emails["physician"])
    count_queries(app, client, "/overview")  # the first request of the process builds them
    statements, page = count_queries(app, client, "/overview")
    assert len(names_in_order(page)) == 3
    assert statements == 7


def test_units_are_named_in_the_order_their_episodes_began(app, team, client, auth):
    """A patient followed by two units: their names in the order of the episodes' start, then
    of the episodes' creation (as the patient page lists them), on either database."""
    with app.app_context():
        unit, other = team["unit"], team["other"]
        today = today_local()
        later_first = make_patient([], family_name="Later")
        db.session.add(PatientUnit(patient_id=later_first.id, unit_id=unit.id, start=today - timedelta(days=3)))
        db.session.add(PatientUnit(patient_id=later_first.id, unit_id=other.id, start=today - timedelta(days=9)))
        same_day = make_patient([], family_name="Same")
        db.session.add(PatientUnit(patient_id=same_day.id, unit_id=other.id, start=today - timedelta(days=5)))
        db.session.add(PatientUnit(patient_id=same_day.id, unit_id=unit.id, start=today - timedelta(days=5)))
        db.session.commit()
    auth.login(team.emails["nurse"])
    page = client.get("/overview").get_data(as_text=True)
    units = dict(re.findall(r'<h2><a [^>]*>(\w+), [^<]*</a></h2>\s*<p class="meta">[^·]*·[^·]*</span> · ([^<]*)</p>', page))
    assert units == {"Later": "Home care B · Team A", "Same": "Home care B · Team A"}


def test_long_lists_come_a_page_at_a_time_in_one_order(app, team, client, auth):
    """30 patients: page 1 shows the 25 most in need, page 2 the last 5; the order runs across
    pages (the sort covers everyone), each patient is on one page, and only the patients
    shown are audit-logged."""
    from pallapp.review.overview import OVERVIEW_PAGE_SIZE

    assert OVERVIEW_PAGE_SIZE == 25
    with app.app_context():
        nurse, unit = team["nurse"], team["unit"]
        # Patients 00-04 get pain 8 (1 high flag each) and must lead page 1; 05-29 are calm,
        # rated 1 day ago (not overdue), so they follow by name: Calm 05 ... Calm 29.
        for index in range(30):
            name = f"{'High' if index < 5 else 'Calm'} {index:02d}"
            patient = make_patient([unit], family_name=name)
            pain = 8 if index < 5 else 1
            submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=pain), days_ago=1)
        db.session.commit()
    auth.login(team.emails["physician"])
    first = client.get("/overview").get_data(as_text=True)
    second = client.get("/overview?page=2").get_data(as_text=True)
    shown = [name.split(",")[0] for name in names_in_order(first) + names_in_order(second)]
    assert len(names_in_order(first)) == 25
    assert shown == [f"High {i:02d}" for i in range(5)] + [f"Calm {i:02d}" for i in range(5, 30)]
    assert "Patients 1–25 of 30" in first
    assert "Patients 26–30 of 30" in second
    assert 'rel="next"' in first
    assert "More patients" in first
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    assert '<ol class="overview-list" start="26"' in second
    # The filters travel with the page links.
    with app.app_context():
        unit_id = team["unit"].public_id
    filtered = client.get(f"/overview?unit={unit_id}&phase=early").get_data(as_text=True)
    assert f"unit={unit_id}" in re.search(r'rel="next" href="([^"]+)"', filtered).group(1)
    assert client.get("/overview?page=3").status_code == 404
    with app.app_context():
        logged = db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.object_type == "unit_overview")
        ).all()
    assert len(logged) == 25 + 5 + 25  # page 1, page 2, the filtered page 1


# The key_scores macro before its texts were made once per request (`key_score_words`): the
# macro must still write the same HTML for every instrument, band and language.
_KEY_SCORES_WITH_GETTEXT = """{% for score in scores %}
  <li><span class="ks-title">{{ _(score.title) }}</span>
    <span class="ks-value">{{ _(score.label) }}: {% if score.value is none %}{{ _("incomplete") }}{% else %}{{ score.value }}/{{ score.maximum }}{% endif %}</span>
    {% if score.band_label %}<span class="band band-{{ score.band }}">{{ _(score.band_label) }}</span>{% endif %}
    <span class="meta">{{ score.observed_on|local_date }}</span></li>{% endfor %}"""
_KEY_SCORES_WITH_WORDS = """{% for score in scores|key_score_words %}
  <li><span class="ks-title">{{ score.title }}</span>
    <span class="ks-value">{{ score.label }}: {{ score.value }}</span>
    {% if score.band_label %}<span class="band band-{{ score.band }}">{{ score.band_label }}</span>{% endif %}
    <span class="meta">{{ score.observed_on|local_date }}</span></li>{% endfor %}"""


@pytest.mark.parametrize("language", ["sv", "en"])
def test_key_score_words_write_what_gettext_wrote(app, language):
    from flask import render_template_string
    from flask_babel import force_locale

    from pallapp import scoring
    from pallapp.review.common import KeyScore

    observed_at = utcnow()
    scores = []
    for definition in scoring.in_display_order():
        labels = {definition.total_label or "Total score", "Total score", "Highest grade"}
        bands = [(band.name, band.label) for band in definition.bands] + [(None, None)]
        for label in sorted(labels):
            for band, band_label in bands:
                for value in (None, 0, 7):
                    scores.append(KeyScore(
                        instrument=definition.code, title=definition.title, label=label,
                        value=value, maximum=definition.total_max, band=band,
                        band_label=band_label, observed_at=observed_at, assessment=None,
                    ))
    with app.test_request_context(), force_locale(language):
        # Twice: the second time the texts come from this request's cache.
        for _round in range(2):
            assert render_template_string(_KEY_SCORES_WITH_WORDS, scores=scores) == (
                render_template_string(_KEY_SCORES_WITH_GETTEXT, scores=scores)
            )
