"""The FHIR export as an EHR reads it, on SQLite and PostgreSQL: every resource validated with
fhir.resources (R4B), then the bundle read back into plain Python, without pallapp, to find who
answered each response: the patient, a relative answering as proxy (a RelatedPerson), or staff.
Also: Swedish texts beside the English ones, answer options as codings, the identifier systems
of Swedish FHIR profiles, the journal codes (ICD-10-SE Z51.5, KVÅ XV018), doses as
MedicationAdministration, and canonical URLs under the configured base.

Unit "Team A": Dagny with a relative, her son Sven (proxy link, relation "son").
    1. Dagny rates her own IPOS (patient version) from her account.
    2. Sven answers an IPOS (patient version) for her, as proxy.
    3. The nurse rates an IPOS (staff version): the nurse's own observation.
    4. The nurse enters Dagny's spoken ESAS-r answers: Dagny answered, the nurse is the author.
    A brytpunktssamtal recorded by the physician; a morphine dose given by the nurse.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.relatedperson import RelatedPerson

from pallapp.assessments import services as assessment_services
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.extensions import db
from pallapp.models import Respondent, Role, utcnow
from tests.app.review.test_overview import IPOS_ITEMS
from tests.app.review.test_views import ESAS_CALM
from tests.factories import link_relative, make_patient, make_unit, make_user

RESOURCE_TYPES = {
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Observation": Observation,
    "Patient": FhirPatient,
    "CodeSystem": CodeSystem,
    "Practitioner": Practitioner,
    "RelatedPerson": RelatedPerson,
    "Organization": Organization,
    "EpisodeOfCare": EpisodeOfCare,
    "Procedure": Procedure,
    "MedicationAdministration": MedicationAdministration,
}

@pytest.fixture
def app_config():
    return {"FHIR_BASE_URL": "https://pallapp.region.se/fhir"}


@pytest.fixture
def family(app):
    with app.app_context():
        unit = make_unit("Team A")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        dagny = make_patient([unit], given_name="Dagny", family_name="Dahlberg")
        dagny_account = make_user(Role.PATIENT, patient=dagny)
        sven = make_user(Role.RELATIVE)
        link_relative(sven, dagny, proxy=True)
        calm = dict.fromkeys(IPOS_ITEMS, 1)
        own = assessment_services.submit_assessment(
            dagny_account, dagny.public_id, instrument="ipos_patient", answers=calm,
            client_token="own-" + "0" * 28,
        ).assessment
        proxy = assessment_services.submit_assessment(
            sven, dagny.public_id, instrument="ipos_patient", answers=calm,
            client_token="proxy-" + "0" * 26, respondent=Respondent.RELATIVE,
        ).assessment
        staff = assessment_services.submit_assessment(
            nurse, dagny.public_id, instrument="ipos_staff", answers=calm,
            client_token="staff-" + "0" * 26, observed_at=utcnow() - timedelta(hours=1),
        ).assessment
        entered = assessment_services.submit_assessment(
            nurse, dagny.public_id, instrument="esas_r", answers=ESAS_CALM,
            client_token="entered-" + "0" * 24, observed_at=utcnow() - timedelta(hours=2),
        ).assessment
        milestone_service.record_milestone(
            physician, dagny.public_id, kind="brytpunktssamtal",
            occurred_on=utcnow().date() - timedelta(days=1),
        )
        order = order_service.create_order(
            physician, dagny.public_id,
            order_service.OrderDetails(
                indication="pain", drug="Morfin", dose="2.5", dose_unit="mg", route="sc",
                min_interval_minutes=60, max_doses_per_24h=6,
            ),
            start_at=utcnow() - timedelta(days=2),
        )
        dose_service.record_dose(
            nurse, dagny.public_id, order.public_id, given_at=utcnow() - timedelta(minutes=30),
            dose="2.5", dose_unit="mg", route="sc", client_token="d" * 32,
        )
        db.session.commit()
        return {
            "unit": unit.public_id, "nurse": nurse.email, "personnummer": dagny.personnummer,
            "own": own.public_id, "proxy": proxy.public_id, "staff": staff.public_id,
            "entered": entered.public_id,
            "nurse_name": nurse.name, "sven_name": sven.name,
        }


def export(client, auth, family):
    auth.login(family["nurse"])
    response = client.post(f"/exports/{family['unit']}/fhir.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def test_every_resource_validates(app, family, client, auth):
    bundle = export(client, auth, family)
    Bundle.model_validate(bundle)
    types = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        RESOURCE_TYPES[resource["resourceType"]].model_validate(resource)
        types.add(resource["resourceType"])
    assert types == set(RESOURCE_TYPES)


def read_back(bundle: dict) -> dict[str, tuple[str, str, str]]:
    """assessment id -> (source type, source name, relationship): from the bundle alone."""
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    found = {}
    for resource in by_url.values():
        if resource["resourceType"] != "QuestionnaireResponse":
            continue
        source = by_url[resource["source"]["reference"]]
        if source["resourceType"] == "Patient":
            name = " ".join([*source["name"][0]["given"], source["name"][0]["family"]])
        else:
            name = source["name"][0]["text"]
        relation = source.get("relationship", [{}])[0].get("text", "")
        found[resource["identifier"]["value"]] = (source["resourceType"], name, relation)
    return found


def test_who_answered_each_response_is_read_back(app, family, client, auth):
    bundle = export(client, auth, family)
    assert read_back(bundle) == {
        family["own"]: ("Patient", "Dagny Dahlberg", ""),
        # The relative's proxy answer is told from the patient's own.
        family["proxy"]: ("RelatedPerson", family["sven_name"], "son"),
        family["staff"]: ("Practitioner", family["nurse_name"], ""),
        family["entered"]: ("Patient", "Dagny Dahlberg", ""),
    }
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    responses = {r["identifier"]["value"]: r for r in by_url.values()
                 if r["resourceType"] == "QuestionnaireResponse"}
    entered = responses[family["entered"]]
    assert by_url[entered["author"]["reference"]]["name"][0]["text"] == family["nurse_name"]
    proxy = responses[family["proxy"]]
    # The relative typed the answers themself: author and source are the same RelatedPerson.
    assert proxy["author"] == proxy["source"]
    related = by_url[proxy["source"]["reference"]]
    assert by_url[related["patient"]["reference"]]["resourceType"] == "Patient"
    # The scores of the proxy answer name the relative as performer, and how.
    scores = [r for r in by_url.values() if r["resourceType"] == "Observation"
              and by_url[r["derivedFrom"][0]["reference"]] is proxy]
    assert scores
    assert {s["performer"][0]["reference"] for s in scores} == {proxy["source"]["reference"]}
    assert {s["method"]["text"] for s in scores} == {"Proxy report by a relative"}


def test_texts_in_both_languages_and_options_as_codings(app, family, client, auth):
    bundle = export(client, auth, family)
    resources = [entry["resource"] for entry in bundle["entry"]]
    ipos = next(r for r in resources if r["resourceType"] == "Questionnaire" and r["id"] == "ipos-patient")
    assert ipos["url"] == "https://pallapp.region.se/fhir/Questionnaire/ipos-patient"
    pain = next(item for item in ipos["item"] if item["linkId"] == "pain")
    assert pain["text"] == "Pain"
    [translation] = pain["_text"]["extension"]
    assert {e["url"]: e.get("valueCode") or e.get("valueString") for e in translation["extension"]} == {
        "lang": "sv", "content": "Smärta",
    }
    first = pain["answerOption"][0]["valueCoding"]
    assert (first["code"], first["display"]) == ("pain.0", "Not at all")
    assert first["system"] == "https://pallapp.region.se/fhir/CodeSystem/pallapp-ipos-patient-answers"
    canonicals = {r["questionnaire"] for r in resources if r["resourceType"] == "QuestionnaireResponse"}
    assert f"{ipos['url']}|{ipos['version']}" in canonicals


def test_identifiers_and_journal_codes(app, family, client, auth):
    bundle = export(client, auth, family)
    resources = [entry["resource"] for entry in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert {(i["system"], i["value"]) for i in patient["identifier"]} == {
        ("http://electronichealth.se/identifier/personnummer", family["personnummer"]),
        ("urn:oid:1.2.752.129.2.1.3.1", family["personnummer"]),
    }
    episode = next(r for r in resources if r["resourceType"] == "EpisodeOfCare")
    assert episode["type"][0]["coding"][0] == {
        "system": "urn:oid:1.2.752.116.1.1.1.1.3", "code": "Z51.5", "display": "Palliativ vård",
    }
    procedure = next(r for r in resources if r["resourceType"] == "Procedure")
    assert procedure["code"]["coding"][0]["code"] == "XV018"
    assert procedure["code"]["coding"][0]["system"] == "urn:oid:1.2.752.116.1.3.2.1.4"
    dose = next(r for r in resources if r["resourceType"] == "MedicationAdministration")
    assert dose["medicationCodeableConcept"]["text"] == "Morfin"
    assert dose["dosage"]["text"] == "2.5 mg"


def test_abbey_answers_keep_each_languages_words(app):
    """English display from the English form (absent, mild, ...), the Swedish translation from
    the Swedish version, whose words differ between how often (items 1-2) and how much."""
    from pallapp.interop import fhir, fhir_service

    with app.test_request_context():
        abbey = fhir.questionnaire(fhir_service.terms(), "abbey")

    def option(link_id: str, value: int) -> tuple[str, str]:
        item = next(item for item in abbey["item"] if item["linkId"] == link_id)
        coding = item["answerOption"][value]["valueCoding"]
        [translation] = coding["_display"]["extension"]
        swedish = next(e["valueString"] for e in translation["extension"] if e["url"] == "content")
        return coding["display"], swedish

    assert option("vocalisation", 1) == ("Mild", "Sällan")
    assert option("body_language", 1) == ("Mild", "Lite")
    assert option("facial_expression", 3) == ("Severe", "Ofta")
    assert option("physical", 3) == ("Severe", "Mycket")
