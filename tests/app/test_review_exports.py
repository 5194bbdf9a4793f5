"""Exports of a unit's assessments: CSV (named and pseudonymised) and FHIR R4B, validated with
fhir.resources. Expected values are worked out by hand from INSTRUMENTS.md."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AuditEvent, Role
from tests.app.test_review import ESAS_CALM, submit
from tests.app.test_review_overview import ABBEY_ITEMS, IPOS_ITEMS, ROAG_ITEMS
from tests.factories import make_patient, make_unit, make_user

RESOURCE_TYPES = {
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Observation": Observation,
    "Patient": FhirPatient,
}
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
    # 5 instruments; Alma and Bertil; 4 assessments; observations: ESAS-r total, physical,
    # emotional (3) + ROAG max grade (1) + Abbey total (1) + IPOS emotional and communication
    # (2; total and physical are incomplete) = 7.
    assert {k: len(v) for k, v in by_type.items()} == {
        "Questionnaire": 5, "Patient": 2, "QuestionnaireResponse": 4, "Observation": 7,
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
    assert values["esas_r.total"]["valueInteger"] == 20
    assert values["esas_r.physical"]["valueInteger"] == 17
    assert values["ipos_staff.emotional"]["valueInteger"] == 4
    assert values["roag.max_grade"]["valueInteger"] == 2
    assert values["abbey.total"]["interpretation"][0]["coding"][0]["code"] == "mild"
    ipos_answer = next(r for r in by_type["QuestionnaireResponse"] if "ipos_staff" in r["questionnaire"])
    pain = next(item for item in ipos_answer["item"] if item["linkId"] == "pain")
    assert pain["answer"][0]["valueCoding"]["code"] == "cannot_assess"
    esas_q = next(q for q in by_type["Questionnaire"] if q["url"].endswith(":esas_r"))
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
