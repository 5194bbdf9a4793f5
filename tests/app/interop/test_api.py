"""The read-only FHIR API, on SQLite and PostgreSQL: a manager issues a credential for one unit
(shown once, stored as a digest); the client reads that unit's patients and nothing else;
an expired or revoked credential is refused; every read is audit-logged as the client; the
client is rate-limited.

Team A: Alma (an ESAS-r yesterday and one 10 days ago). Team B: Bertil.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.interop import api_clients, fhir
from pallapp.models import ApiClient, AuditEvent, Patient, Role, User, utcnow
from tests.app.interop.test_fhir import RESOURCE_TYPES
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def app_config():
    return {"FHIR_API_RATE_LIMIT": "30 per minute"}


@pytest.fixture
def units(app):
    with app.app_context():
        a = make_unit("Team A")
        b = make_unit("Team B")
        manager = make_user(Role.MANAGER, units=[a], language="en")
        nurse = make_user(Role.NURSE, units=[a], language="en")
        alma = make_patient([a], given_name="Alma", family_name="Andersson")
        bertil = make_patient([b], given_name="Bertil", family_name="Berglund")
        submit(nurse, alma, "esas_r", ESAS_CALM, days_ago=1)
        submit(nurse, alma, "esas_r", ESAS_CALM, days_ago=10)
        db.session.commit()
        return {
            "a": a.public_id, "b": b.public_id, "manager": manager.email, "nurse": nurse.email,
            "alma": fhir.resource_id("Patient", alma.public_id),
            "bertil": fhir.resource_id("Patient", bertil.public_id),
            "alma_pnr": alma.personnummer, "alma_db": alma.id, "bertil_db": bertil.id,
        }


def issue_through_page(client, auth, units, name="Journal X", days="30"):
    auth.login(units["manager"])
    page = client.post(
        f"/units/{units['a']}/api-clients", data={"name": name, "valid_days": days},
        follow_redirects=True,
    ).get_data(as_text=True)
    token = re.search(r'<code class="token">([^<]+)</code>', page).group(1)
    # Shown once: the next visit of the page no longer has it.
    assert token not in client.get(f"/units/{units['a']}/api-clients").get_data(as_text=True)
    auth.logout()
    return token


def get(client, path, token):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_a_credential_is_shown_once_and_stored_as_a_digest(app, units, client, auth):
    token = issue_through_page(client, auth, units)
    with app.app_context():
        stored = db.session.scalar(select(ApiClient))
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in stored.token_hash
    auth.login(units["manager"])
    page = client.get(f"/units/{units['a']}/api-clients").get_data(as_text=True)
    assert "Journal X" in page
    assert token not in page


def test_only_the_units_managers_issue_credentials(app, units, client, auth):
    auth.login(units["nurse"])
    assert client.get(f"/units/{units['a']}/api-clients").status_code == 404
    auth.logout()
    auth.login(units["manager"])
    assert client.get(f"/units/{units['b']}/api-clients").status_code == 404


def test_the_client_reads_its_units_patient(app, units, client, auth):
    token = issue_through_page(client, auth, units)
    patient = get(client, f"/fhir/Patient/{units['alma']}", token)
    assert patient.status_code == 200
    assert patient.mimetype == "application/fhir+json"
    RESOURCE_TYPES["Patient"].model_validate(patient.json)
    found = get(client, f"/fhir/Patient?identifier={units['alma_pnr']}", token).json
    assert [e["resource"]["id"] for e in found["entry"]] == [units["alma"]]
    everything = get(client, f"/fhir/Patient/{units['alma']}/$everything", token).json
    Bundle.model_validate(everything)
    for entry in everything["entry"]:
        RESOURCE_TYPES[entry["resource"]["resourceType"]].model_validate(entry["resource"])
    # Search by patient and date: the ESAS-r of yesterday only (the other is 10 days old).
    since = (utcnow() - timedelta(days=3)).date().isoformat()
    responses = get(
        client, f"/fhir/QuestionnaireResponse?patient=Patient/{units['alma']}&authored=ge{since}",
        token,
    ).json
    assert responses["total"] == 1
    all_responses = get(client, f"/fhir/QuestionnaireResponse?patient={units['alma']}", token).json
    assert all_responses["total"] == 2
    # ESAS-r scores: total, physical, emotional per assessment; only yesterday's: 3.
    observations = get(client, f"/fhir/Observation?patient={units['alma']}&date=ge{since}", token).json
    assert observations["total"] == 3


def test_another_units_patient_is_not_found_and_logged(app, units, client, auth):
    token = issue_through_page(client, auth, units)
    assert get(client, f"/fhir/Patient/{units['bertil']}", token).status_code == 404
    assert get(client, f"/fhir/Patient/{units['bertil']}/$everything", token).status_code == 404
    assert get(client, f"/fhir/Observation?patient={units['bertil']}", token).status_code == 404
    assert get(client, "/fhir/Patient?identifier=x", token).json["total"] == 0
    everyone = get(client, "/fhir/Patient", token).json
    assert [e["resource"]["id"] for e in everyone["entry"]] == [units["alma"]]
    with app.app_context():
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "denied")).all()
    assert len(denied) == 3
    assert all(e.api_client_id is not None and e.user_id is None for e in denied)


def test_no_expired_or_revoked_or_unknown_credential(app, units, client, auth):
    token = issue_through_page(client, auth, units)
    path = f"/fhir/Patient/{units['alma']}"
    assert client.get(path).status_code == 401
    assert client.get(path).headers["WWW-Authenticate"].startswith("Bearer")
    assert get(client, path, "not-a-token").status_code == 401
    with app.app_context():
        stored = db.session.scalar(select(ApiClient))
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert get(client, path, token).status_code == 401

    fresh = issue_through_page(client, auth, units, name="Journal Y")
    assert get(client, path, fresh).status_code == 200
    with app.app_context():
        y = db.session.scalar(select(ApiClient).where(ApiClient.name == "Journal Y"))
        y_id = y.public_id
    auth.login(units["manager"])
    assert client.post(f"/units/{units['a']}/api-clients/{y_id}/revoke").status_code == 302
    assert get(client, path, fresh).status_code == 401
    with app.app_context():
        refusals = db.session.scalars(
            select(AuditEvent.outcome).where(AuditEvent.action == "denied")
        ).all()
        revoked = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "revoke"))
        manager = db.session.scalar(select(User).where(User.email == units["manager"]))
    assert sorted(refusals) == ["expired", "revoked"]
    assert revoked.user_id == manager.id


def test_every_read_is_audited_as_the_client(app, units, client, auth):
    token = issue_through_page(client, auth, units)
    get(client, f"/fhir/Patient/{units['alma']}", token)
    get(client, f"/fhir/Observation?patient={units['alma']}", token)
    with app.app_context():
        client_row = db.session.scalar(select(ApiClient))
        reads = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.api_client_id.is_not(None))
        ).all()
        assert [(e.patient_id, e.user_id, e.api_client_id) for e in reads] == [
            (units["alma_db"], None, client_row.id), (units["alma_db"], None, client_row.id),
        ]
        assert all(client_row.public_id in e.detail for e in reads)


def test_definitions_resolve_without_a_credential(app, units, client):
    questionnaire = client.get("/fhir/Questionnaire/esas-r")
    assert questionnaire.status_code == 200
    RESOURCE_TYPES["Questionnaire"].model_validate(questionnaire.json)
    assert questionnaire.json["url"].endswith("/fhir/Questionnaire/esas-r")
    scores = client.get("/fhir/CodeSystem/pallapp-scores").json
    assert scores["url"].endswith("/fhir/CodeSystem/pallapp-scores")
    assert client.get("/fhir/metadata").json["resourceType"] == "CapabilityStatement"


def test_the_client_is_rate_limited(app, units, client, auth):
    token = issue_through_page(client, auth, units)
    path = f"/fhir/Patient/{units['alma']}"
    responses = [get(client, path, token) for _ in range(31)]
    # 30 per minute (this module's setting): the 31st is refused, in FHIR's words.
    assert [r.status_code for r in responses[:30]] == [200] * 30
    assert responses[30].status_code == 429
    assert responses[30].json["resourceType"] == "OperationOutcome"


def test_tokens_are_random_and_long():
    assert api_clients.token_digest("a") != api_clients.token_digest("b")
    assert len(api_clients.token_digest("a")) == 64


def test_the_patient_sees_the_integrations_reads(app, units, client, auth):
    token = issue_through_page(client, auth, units)
    get(client, f"/fhir/Patient/{units['alma']}", token)
    with app.app_context():
        alma = db.session.get(Patient, units["alma_db"])
        account = make_user(Role.PATIENT, patient=alma, language="en")
        db.session.commit()
        email = account.email
    auth.login(email)
    page = client.get("/start/access-log").get_data(as_text=True)
    assert "Journal X" in page
    assert "through the unit" in page
    assert "EHR integration" in page
