"""Exports of a unit's assessments: CSV (named and pseudonymised) and FHIR R4B, validated with
fhir.resources. Expected values are worked out by hand from INSTRUMENTS.md."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, time, timedelta
from html.parser import HTMLParser

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from pallapp.assessments import services as assessment_services
from pallapp.extensions import db
from pallapp.models import AuditEvent, Role
from pallapp.timeutil import STOCKHOLM, today_local
from tests.app.interop.test_fhir import RESOURCE_TYPES
from tests.app.review.test_overview import ABBEY_ITEMS, IPOS_ITEMS, ROAG_ITEMS
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user

SECRET = "Oro för dottern Karin"


@pytest.fixture
def unit_data(app):
    with app.app_context():
        unit = make_unit("Team A")
        unit_b = make_unit("Team B")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        nurse_b = make_user(Role.NURSE, units=[unit_b], language="en")
        manager = make_user(Role.MANAGER, units=[unit], language="en")
        alma = make_patient([unit], given_name="Alma", family_name="Andersson")
        bertil = make_patient([unit], given_name="Bertil", family_name="Berglund")
        cecilia = make_patient([unit_b], given_name="Cecilia", family_name="Carlsson")
        # Alma: ESAS-r total 8 + 5 + 7 * 1 = 20, physical 8 + 1 + 1 + 5 + 1 + 1 = 17,
        # emotional 1 + 1 = 2; ROAG max grade 2 (moderate); Abbey 2 + 1 = 3 (mild).
        submit(nurse, alma, "esas_r", dict(ESAS_CALM, pain=8, nausea=5), days_ago=2)
        submit(nurse, alma, "roag", dict.fromkeys(ROAG_ITEMS, 1) | {"saliva": 2}, days_ago=2)
        abbey = dict.fromkeys(ABBEY_ITEMS, 0) | {"vocalisation": 2, "facial_expression": 1}
        submit(nurse, alma, "abbey", abbey, days_ago=1)
        # Bertil: IPOS with pain "cannot_assess": total and physical None (no imputation),
        # emotional 4 * 1 = 4, communication and practical 3 * 1 = 3. Free text never exported.
        ipos = dict.fromkeys(IPOS_ITEMS, 1) | {"pain": "cannot_assess", "main_problems": [SECRET]}
        submit(nurse, bertil, "ipos_staff", ipos, days_ago=1)
        submit(nurse_b, cecilia, "esas_r", ESAS_CALM, days_ago=1)
        db.session.commit()
        return {
            "unit": unit.public_id,
            "nurse": nurse.email,
            "nurse_b": nurse_b.email,
            "manager": manager.email,
            "manager_id": manager.id,
            "alma_id": alma.id,
            "bertil_id": bertil.id,
            "identities": [
                alma.personnummer, alma.formatted_personnummer,
                bertil.personnummer, bertil.formatted_personnummer,
                cecilia.personnummer,
            ],
        }


def read_csv(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_has_one_row_per_assessment_of_the_unit(unit_data, client, auth):
    auth.login(unit_data["manager"])
    response = client.post(f"/exports/{unit_data['unit']}/assessments.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert sorted((row["patient"], row["instrument"]) for row in rows) == [
        ("Alma Andersson", "abbey"),
        ("Alma Andersson", "esas_r"),
        ("Alma Andersson", "roag"),
        ("Bertil Berglund", "ipos_staff"),
    ]  # Cecilia is in Team B: not exported
    by_instrument = {row["instrument"]: row for row in rows}
    esas = by_instrument["esas_r"]
    assert (esas["total"], esas["subscale.physical"], esas["subscale.emotional"]) == ("20", "17", "2")
    assert (esas["esas_r.pain"], esas["esas_r.nausea"], esas["ipos.pain"]) == ("8", "5", "")
    assert (by_instrument["roag"]["max_grade"], by_instrument["roag"]["band"]) == ("2", "moderate")
    assert (by_instrument["abbey"]["total"], by_instrument["abbey"]["band"]) == ("3", "mild")
    ipos = by_instrument["ipos_staff"]
    assert (ipos["total"], ipos["subscale.physical"], ipos["subscale.emotional"]) == ("", "", "4")
    assert ipos["subscale.communication_practical"] == "3"
    assert ipos["ipos.pain"] == "cannot_assess"
    assert SECRET not in response.get_data(as_text=True)


def test_pseudonymised_csv_has_no_names_or_identity_numbers(unit_data, client, auth):
    auth.login(unit_data["nurse"])
    url = f"/exports/{unit_data['unit']}/assessments.csv"
    response = client.post(url, data={"pseudonymised": "1"})
    text = response.get_data(as_text=True)
    for secret in ("Alma", "Andersson", "Bertil", "Berglund", "Cecilia", SECRET):
        assert secret not in text
    for identity in unit_data["identities"]:
        assert identity not in text
    rows = read_csv(response)
    assert "patient" not in rows[0]
    assert "personnummer" not in rows[0]
    assert "assessment_id" not in rows[0]
    pseudonyms = {}
    for row in rows:
        assert re.fullmatch(r"P-[0-9a-f]{12}", row["pseudonym"])
        pseudonyms.setdefault(row["instrument"], row["pseudonym"])
    # Alma's three ratings share one pseudonym; Bertil has another.
    assert pseudonyms["esas_r"] == pseudonyms["roag"] == pseudonyms["abbey"]
    assert pseudonyms["ipos_staff"] != pseudonyms["esas_r"]
    # A new export gets new pseudonyms: exports cannot be linked with each other.
    again = read_csv(client.post(url, data={"pseudonymised": "1"}))
    assert {row["pseudonym"] for row in again}.isdisjoint(set(pseudonyms.values()))


def test_fhir_export_validates_and_links_scores_to_responses(app, unit_data, client, auth):
    auth.login(unit_data["nurse"])
    response = client.post(f"/exports/{unit_data['unit']}/fhir.json")
    assert response.mimetype == "application/fhir+json"
    bundle = json.loads(response.get_data(as_text=True))
    Bundle.model_validate(bundle)
    by_type: dict[str, list[dict]] = {}
    full_urls = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        RESOURCE_TYPES[resource["resourceType"]].model_validate(resource)
        by_type.setdefault(resource["resourceType"], []).append(resource)
        full_urls[entry["fullUrl"]] = resource
    # 5 instruments; CodeSystems: scores, special answers and the answer options of the four
    # instruments whose every value has a label (not ESAS-r) = 6; Alma and Bertil, each with an
    # episode in Team A (one Organization); 4 assessments, all by the one nurse (one
    # Practitioner); observations: ESAS-r total, physical, emotional (3) + ROAG max grade (1) +
    # Abbey total (1) + IPOS emotional and communication (2; total and physical are
    # incomplete) = 7.
    assert {k: len(v) for k, v in by_type.items()} == {
        "Questionnaire": 5, "CodeSystem": 6, "Patient": 2, "Practitioner": 1,
        "Organization": 1, "EpisodeOfCare": 2, "QuestionnaireResponse": 4, "Observation": 7,
    }
    canonicals = {f"{q['url']}|{q['version']}" for q in by_type["Questionnaire"]}
    for answer in by_type["QuestionnaireResponse"]:
        assert answer["questionnaire"] in canonicals
        assert full_urls[answer["subject"]["reference"]]["resourceType"] == "Patient"
    for observation in by_type["Observation"]:
        source = full_urls[observation["derivedFrom"][0]["reference"]]
        assert source["resourceType"] == "QuestionnaireResponse"
        assert observation["subject"] == source["subject"]
    values = {o["code"]["coding"][0]["code"]: o for o in by_type["Observation"]}
    assert values["esas_r.total"]["valueQuantity"]["value"] == 20
    assert values["esas_r.physical"]["valueQuantity"]["value"] == 17
    assert values["ipos_staff.emotional"]["valueQuantity"]["value"] == 4
    assert values["roag.max_grade"]["valueQuantity"]["value"] == 2
    assert {o["valueQuantity"]["code"] for o in by_type["Observation"]} == {"{score}"}
    # Every score code is defined in the project CodeSystem the coding names.
    scores = next(c for c in by_type["CodeSystem"] if c["id"] == "pallapp-scores")
    defined = {concept["code"] for concept in scores["concept"]}
    for observation in by_type["Observation"]:
        coding = observation["code"]["coding"][0]
        assert coding["system"] == scores["url"]
        assert coding["code"] in defined
    assert values["abbey.total"]["interpretation"][0]["coding"][0]["code"] == "mild"
    ipos_answer = next(r for r in by_type["QuestionnaireResponse"] if "ipos-staff" in r["questionnaire"])
    pain = next(item for item in ipos_answer["item"] if item["linkId"] == "pain")
    assert pain["answer"][0]["valueCoding"]["code"] == "cannot_assess"
    esas_q = next(q for q in by_type["Questionnaire"] if q["url"].endswith("/Questionnaire/esas-r"))
    esas_pain = next(item for item in esas_q["item"] if item["linkId"] == "pain")
    assert esas_pain["type"] == "integer"
    text = response.get_data(as_text=True)
    assert SECRET not in text
    assert "Cecilia" not in text


def test_exports_are_audited_per_patient(app, unit_data, client, auth):
    auth.login(unit_data["manager"])
    client.post(f"/exports/{unit_data['unit']}/assessments.csv", data={"pseudonymised": "1"})
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.patient_id.is_not(None))
        ).all()
    assert sorted((e.patient_id, e.user_id, e.detail) for e in events) == sorted(
        [
            (unit_data["alma_id"], unit_data["manager_id"], "csv pseudonymised"),
            (unit_data["bertil_id"], unit_data["manager_id"], "csv pseudonymised"),
        ]
    )


def test_another_units_staff_cannot_export_this_unit(unit_data, client, auth):
    auth.login(unit_data["nurse_b"])
    assert client.post(f"/exports/{unit_data['unit']}/assessments.csv").status_code == 404
    assert client.post(f"/exports/{unit_data['unit']}/fhir.json").status_code == 404
    page = client.get("/exports").get_data(as_text=True)
    assert unit_data["unit"] not in page


# --- Exports are started by a form, never by a link -------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: action, method and the values of their hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": attributes.get("action"), "method": attributes.get("method"), "data": {}}
            )
        elif tag == "input" and self.forms and attributes.get("type") == "hidden":
            self.forms[-1]["data"][attributes["name"]] = attributes.get("value", "")


def page_forms(page) -> list[dict]:
    parser = _Forms()
    parser.feed(page.get_data(as_text=True))
    return parser.forms


def export_events(app) -> int:
    with app.app_context():
        return len(
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
        )


def test_item18_exports_need_post_with_csrf(app, unit_data, client, auth):
    auth.login(unit_data["manager"])
    app.config["WTF_CSRF_ENABLED"] = True  # as in production, from here on
    unit = unit_data["unit"]
    paths = [
        f"/exports/{unit}/assessments.csv",
        f"/exports/{unit}/assessments.csv?pseudonymised=1",
        f"/exports/{unit}/fhir.json",
        f"/exports/{unit}/quality.csv",
    ]
    # What a link or an image on another site can do: a GET, or a POST without the token.
    for path in paths:
        assert client.get(path).status_code == 405, path
        assert client.post(path, data={"pseudonymised": "1"}).status_code == 400, path
    assert export_events(app) == 0
    # The exports page starts each of them with a posted form that carries the token.
    forms = [
        form
        for form in page_forms(client.get("/exports"))
        if form["action"] and form["action"].startswith("/exports/")
    ]
    assert sorted(form["action"] for form in forms) == sorted(
        [
            f"/exports/{unit}/assessments.csv",
            f"/exports/{unit}/assessments.csv",
            f"/exports/{unit}/fhir.json",
            f"/exports/{unit}/quality.csv",
        ]
    )
    for form in forms:
        assert form["method"] == "post"
        assert form["data"]["csrf_token"]
        response = client.post(form["action"], data=form["data"])
        assert response.status_code == 200, form
        assert "attachment" in response.headers["Content-Disposition"]
    assert sum(form["data"].get("pseudonymised") == "1" for form in forms) == 1
    # ... and so does the quality report's download for the period shown.
    report = client.get(f"/quality?unit={unit}&start=2026-01-01&end=2026-01-31")
    (download,) = [form for form in page_forms(report) if form["action"] == paths[3]]
    assert download["method"] == "post"
    assert (download["data"]["start"], download["data"]["end"]) == ("2026-01-01", "2026-01-31")
    response = client.post(download["action"], data=download["data"])
    assert response.status_code == 200
    assert 'filename="quality-indicators-2026-01-01-2026-01-31.csv"' in (
        response.headers["Content-Disposition"]
    )


# --- The pseudonymised CSV cannot be joined back to the named one -----------------------------


def time_join(
    named: list[dict[str, str]], pseudonymised: list[dict[str, str]], *, width: int
) -> dict[str, set[str]]:
    """The join an attacker holding both files would try: for each pseudonym, the patients of
    the named file whose rating times (the first `width` characters: 19 the second, 10 the
    day) appear among the values of its rows."""
    by_time: dict[str, set[str]] = {}
    for row in named:
        by_time.setdefault(row["observed_at"][:width], set()).add(row["personnummer"])
    candidates: dict[str, set[str]] = {}
    for row in pseudonymised:
        found = candidates.setdefault(row["pseudonym"], set())
        for value in row.values():
            found |= by_time.get(value[:width], set())
    return candidates


def test_item14_pseudonymised_times_do_not_join_the_named_export(app, client, auth):
    with app.app_context():
        unit = make_unit("Team J")
        nurse = make_user(Role.NURSE, units=[unit])
        manager = make_user(Role.MANAGER, units=[unit], language="en")
        today = today_local()
        for number in range(8):
            patient = make_patient([unit], given_name=f"Person{number}")
            patient.enrolled_on = today - timedelta(days=40 + number)
            # 1 to 3 ratings each, at local noon minus `number` minutes: no two at one time.
            for days in (2 + number, 6 + 2 * number, 11 + 3 * number)[: 1 + number % 3]:
                noon = datetime.combine(today - timedelta(days=days), time(12), STOCKHOLM)
                assessment_services.submit_assessment(
                    nurse, patient.public_id, instrument="esas_r", answers=ESAS_CALM,
                    client_token=f"join-{number}-{days}".ljust(32, "x"),
                    observed_at=noon - timedelta(minutes=number),
                )
        db.session.commit()
        unit_id, email = unit.public_id, manager.email
    auth.login(email)
    url = f"/exports/{unit_id}/assessments.csv"
    named = read_csv(client.post(url))
    pseudonymised = read_csv(client.post(url, data={"pseudonymised": "1"}))
    assert len(named) == len(pseudonymised) == 1 + 2 + 3 + 1 + 2 + 3 + 1 + 2  # 15 ratings

    for width in (19, 10):  # to the second, and by the day
        candidates = time_join(named, pseudonymised, width=width)
        assert len(candidates) == 8
        unique = [pseudonym for pseudonym, found in candidates.items() if len(found) == 1]
        assert unique == [], width  # no pseudonym is tied to one patient by its times
    assert "observed_at" not in pseudonymised[0]
    # What the file gives instead: whole local days since enrolment. Person n was enrolled
    # 40 + n days ago and rated 2 + n, 6 + 2n and 11 + 3n days ago (its first 1 + n % 3):
    # n=0: 40-2 = 38 | n=1: 41-3 = 38, 41-8 = 33 | n=2: 42-4 = 38, 42-10 = 32, 42-17 = 25 |
    # n=3: 43-5 = 38 | n=4: 44-6 = 38, 44-14 = 30 | n=5: 45-7 = 38, 45-16 = 29, 45-26 = 19 |
    # n=6: 46-8 = 38 | n=7: 47-9 = 38, 47-20 = 27.
    days = sorted(int(row["days_since_enrolment"]) for row in pseudonymised)
    assert days == sorted([38] * 8 + [33, 32, 25, 30, 29, 19, 27])
    # The rows come in the order of the random pseudonyms, not in the named file's order.
    keys = [(row["pseudonym"], int(row["days_since_enrolment"])) for row in pseudonymised]
    assert keys == sorted(keys)
