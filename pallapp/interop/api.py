"""The read-only FHIR API for an EHR integration (`/fhir`).

Patient, QuestionnaireResponse and Observation (search by patient and date), `$everything` for
one patient, behind a bearer credential a manager issued for one unit (`api_clients`): a client
sees only that unit's patients (`access.unit_client_patients`), every read is audit-logged as
that client, and every client is rate-limited. The Questionnaires, CodeSystems and the
CapabilityStatement are definitions without patient data, served to anyone so that the
canonical URLs in the resources resolve.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from pallapp import scoring
from pallapp.access import unit_client_patients
from pallapp.extensions import db, limiter
from pallapp.interop import api_clients, fhir, fhir_service
from pallapp.models import ApiClient, AuditAction, Patient, utcnow
from pallapp.timeutil import STOCKHOLM

bp = Blueprint("fhir_api", __name__, url_prefix="/fhir")

FHIR_JSON = "application/fhir+json"


def _json(resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(resource, ensure_ascii=False), status=status, mimetype=FHIR_JSON,
        headers=headers or {},
    )


def _outcome(status: int, code: str, text: str, headers: dict[str, str] | None = None) -> Response:
    return _json(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
        },
        status,
        headers,
    )


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(_Refused)
def _refused(error: _Refused) -> Response:
    return error.response


def too_many_requests() -> Response:
    """The app's 429 handler answers the API's requests with this (an EHR reads JSON)."""
    return _outcome(429, "throttled", "too many requests for this credential; wait a minute")


def _rate_key() -> str:
    """Per credential (its digest, never the token), else per address."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "fhir:" + api_clients.token_digest(header.removeprefix("Bearer ").strip())[:32]
    return "fhir-address:" + (request.remote_addr or "")


def _rate_limit() -> str:
    return str(current_app.config["FHIR_API_RATE_LIMIT"])


limited = limiter.limit(_rate_limit, key_func=_rate_key)


def _client() -> ApiClient:
    try:
        client = api_clients.authenticate(request.headers.get("Authorization"))
    except api_clients.Unauthenticated as refusal:
        db.session.commit()  # the denied event of an expired or revoked credential stays
        raise _Refused(
            _outcome(401, "login", f"authentication required ({refusal.reason})",
                     {"WWW-Authenticate": 'Bearer realm="pallapp-fhir"'})
        ) from None
    g.api_client = client
    return client


def _patients(client: ApiClient) -> list[Patient]:
    return list(db.session.scalars(unit_client_patients(client.unit_id).order_by(Patient.id)))


def _patient(client: ApiClient, resource_id: str) -> Patient:
    """The unit's patient with this FHIR id; another unit's patient is not found, as one that
    does not exist (and the attempt is logged)."""
    for patient in _patients(client):
        if fhir.resource_id("Patient", patient.public_id) == resource_id:
            return patient
    api_clients.record(client, AuditAction.DENIED, object_type="patient",
                       object_id=resource_id[:64], outcome="denied", detail=request.path)
    db.session.commit()
    raise _Refused(_outcome(404, "not-found", "no such patient"))


def _reference_id(value: str) -> str:
    """`Patient/<id>`, a full URL ending in it, or the bare id."""
    return value.rstrip("/").rsplit("/", 1)[-1]


def _moment(value: str, *, end_of_day: bool) -> datetime:
    """A FHIR date or dateTime; a date is a Swedish calendar day."""
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).date()
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), tzinfo=STOCKHOLM)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused(_outcome(400, "invalid", f"not a date: {value}")) from None
    if moment.tzinfo is None:
        raise _Refused(_outcome(400, "invalid", "a dateTime needs a time zone"))
    return moment


def _date_range(parameter: str) -> tuple[datetime | None, datetime | None]:
    """`ge`/`gt` and `le`/`lt` prefixes (FHIR search, "date"), as [since, until)."""
    since = until = None
    for value in request.args.getlist(parameter):
        prefix, rest = value[:2], value[2:]
        if prefix in ("ge", "gt"):
            since = _moment(rest, end_of_day=prefix == "gt" and len(rest) == 10)
        elif prefix in ("le", "lt"):
            until = _moment(rest, end_of_day=prefix == "le")
        else:
            day = _moment(value, end_of_day=False)
            since, until = day, _moment(value, end_of_day=True)
    return since, until


def _search_bundle(resources: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": fhir.utc_iso(utcnow()),
        "total": len(resources),
        "entry": [{"fullUrl": url, "resource": r, "search": {"mode": "match"}} for url, r in resources],
    }


def _entries(
    patient: Patient, kind: str, since: datetime | None = None, until: datetime | None = None
) -> list[tuple[str, dict[str, Any]]]:
    [record] = fhir_service.patient_records([patient], since=since, until=until)
    return [(url, r) for url, r in fhir.patient_entries(fhir_service.terms(), record) if r["resourceType"] == kind]


# --- Definitions (public) ---------------------------------------------------------------------


@bp.route("/metadata")
@limited
def metadata() -> Response:
    searches = {
        "Patient": [("identifier", "token")],
        "QuestionnaireResponse": [("patient", "reference"), ("authored", "date")],
        "Observation": [("patient", "reference"), ("date", "date")],
    }
    return _json({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": fhir.utc_iso(utcnow()),
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "implementation": {"description": "pallapp read-only FHIR API", "url": fhir_service.fhir_base()},
        "rest": [{
            "mode": "server",
            "security": {"description": "Bearer credential issued per care unit by its manager"},
            "resource": [
                {"type": kind, "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [{"name": n, "type": t} for n, t in params]}
                for kind, params in searches.items()
            ] + [{"type": kind, "interaction": [{"code": "read"}]}
                 for kind in ("Questionnaire", "CodeSystem")],
            "operation": [{"name": "everything",
                           "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}],
        }],
    })


@bp.route("/Questionnaire/<questionnaire>")
@limited
def read_questionnaire(questionnaire: str) -> Response:
    code = next((c for c in scoring.INSTRUMENTS if fhir.slug(c) == questionnaire), None)
    if code is None:
        return _outcome(404, "not-found", "no such questionnaire")
    return _json(fhir.questionnaire(fhir_service.terms(), code))


@bp.route("/CodeSystem/<code_system>")
@limited
def read_code_system(code_system: str) -> Response:
    found = next((c for c in fhir.code_systems(fhir_service.terms()) if c["id"] == code_system), None)
    if found is None:
        return _outcome(404, "not-found", "no such code system")
    return _json(found)


# --- Patient data (a credential of the patient's unit) ----------------------------------------


@bp.route("/Patient")
@limited
def search_patients() -> Response:
    client = _client()
    identifier = request.args.get("identifier", "")
    value = identifier.rsplit("|", 1)[-1].replace("-", "")
    patients = [p for p in _patients(client) if not identifier or p.personnummer == value]
    api_clients.record_reads(client, patients, "Patient search")
    records = fhir_service.patient_records(patients, assessments=[])
    return _json(_search_bundle([(r.ref, fhir.patient_resource(r)) for r in records]))


@bp.route("/Patient/<resource_id>")
@limited
def read_patient(resource_id: str) -> Response:
    client = _client()
    patient = _patient(client, resource_id)
    api_clients.record_reads(client, [patient], "Patient read")
    [record] = fhir_service.patient_records([patient], assessments=[])
    return _json(fhir.patient_resource(record))


@bp.route("/Patient/<resource_id>/$everything")
@limited
def everything(resource_id: str) -> Response:
    client = _client()
    patient = _patient(client, resource_id)
    api_clients.record_reads(client, [patient], "Patient $everything")
    records = fhir_service.patient_records([patient])
    result = fhir.bundle(fhir_service.terms(), records, timestamp=utcnow(), bundle_type="searchset")
    return _json(result)


def _search(kind: str, date_parameter: str) -> Response:
    client = _client()
    reference = request.args.get("patient") or request.args.get("subject")
    if not reference:
        return _outcome(400, "required", "search by patient")
    patient = _patient(client, _reference_id(reference))
    since, until = _date_range(date_parameter)
    api_clients.record_reads(client, [patient], f"{kind} search")
    return _json(_search_bundle(_entries(patient, kind, since, until)))


@bp.route("/QuestionnaireResponse")
@limited
def search_responses() -> Response:
    return _search("QuestionnaireResponse", "authored")


@bp.route("/Observation")
@limited
def search_observations() -> Response:
    return _search("Observation", "date")
