"""Exports of a unit's assessments: CSV (named or pseudonymised) and FHIR R4 (R4B) JSON.

Only care staff export, and only the patients of one of their own units that access lets them
see (managers included: they export for quality work). Every patient in an export gets an
`export` audit event. Free-text answers (main problems, other symptoms) are never exported:
they may name people.

FHIR: a `Questionnaire` per instrument generated from `pallapp.scoring.INSTRUMENTS`, a
`QuestionnaireResponse` per assessment, and each score as an `Observation` `derivedFrom` the
response, in a `collection` Bundle.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from pallapp import audit, flags, scoring
from pallapp.access import Need, visible_patients
from pallapp.csvout import csv_text
from pallapp.extensions import db
from pallapp.models import Assessment, AuditAction, CareUnit, Patient, User, utcnow
from pallapp.review import quality
from pallapp.review.common import in_units, reviewer_units
from pallapp.review.quality_service import QualityReport, quality_indicators
from pallapp.timeutil import STOCKHOLM, today_local

FHIR_BASE = "urn:pallapp"
# Swedish national identifier systems (Inera/eHälsomyndigheten OIDs).
PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER_SYSTEM = "http://electronichealth.se/identifier/samordningsnummer"
SCORE_SYSTEM = f"{FHIR_BASE}:score"
SPECIAL_VALUE_SYSTEM = f"{FHIR_BASE}:special-value"
# A stable namespace, so the same record gets the same resource id in every export.
_NAMESPACE = uuid.UUID("1d0b7f0e-4a39-5b6f-9c57-6a1f1f3f6b12")


@dataclass
class UnitExport:
    unit: CareUnit
    patients: dict[int, Patient]
    assessments: list[Assessment]


def export_units(user: User) -> list[CareUnit]:
    """The units `user` may export: their own active units (care staff only)."""
    return reviewer_units(user) if user.is_staff else []


def unit_assessments(user: User, unit_public_id: str, kind: str) -> UnitExport:
    """The current assessments of the unit's patients that `user` may see; every exported
    patient is audit-logged as `export` (detail: `kind`). LookupError for a unit that is not
    one of the user's."""
    unit = next((u for u in export_units(user) if u.public_id == unit_public_id), None)
    if unit is None:
        raise LookupError(unit_public_id)
    in_unit = in_units([unit.id], today_local())
    patient_ids = visible_patients(user, Need.VIEW).where(in_unit).with_only_columns(Patient.id)
    patients = {
        patient.id: patient
        for patient in db.session.scalars(visible_patients(user, Need.VIEW).where(in_unit))
    }
    assessments = list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.patient_id.in_(patient_ids), flags.current_versions())
            .order_by(Assessment.patient_id, Assessment.observed_at, Assessment.id)
        )
    )
    audit.record_for_patients(
        AuditAction.EXPORT, patients.values(), user=user, object_type="assessments", detail=kind
    )
    audit.record(AuditAction.EXPORT, user=user, obj=unit, detail=f"{kind}: {len(patients)} patients")
    return UnitExport(unit, patients, assessments)


# --- CSV --------------------------------------------------------------------------------------


def _item_columns() -> list[tuple[str, str]]:
    """(column, item code) for every scored item, by instrument family (both IPOS versions
    share their items), generated from the definitions."""
    columns: dict[str, str] = {}
    for definition in scoring.INSTRUMENTS.values():
        for item in definition.items:
            columns.setdefault(f"{definition.family}.{item.code}", item.code)
    return list(columns.items())


def _subscale_codes() -> list[str]:
    codes: dict[str, None] = {}
    for definition in scoring.INSTRUMENTS.values():
        codes.update(dict.fromkeys(definition.subscales))
    return list(codes)


def pseudonymiser() -> Any:
    """A function patient -> pseudonym, stable within one export and unlinkable across exports
    (a fresh random key each time)."""
    key = secrets.token_bytes(32)

    def pseudonym(patient: Patient) -> str:
        digest = hmac.new(key, patient.public_id.encode(), hashlib.sha256).hexdigest()
        return f"P-{digest[:12]}"

    return pseudonym


def assessments_csv(export: UnitExport, *, pseudonymised: bool) -> str:
    """The export as CSV text: one row per assessment, one column per score and item.

    The pseudonymised file gives no moment in time: each rating's day counts from the
    patient's enrolment (whole local calendar days), and the rows come in the order of the
    pseudonyms, which are random in every export. Exact times would tie every pseudonym to a
    name in the named file of the same unit, which the same staff can download; days since
    enrolment still let a quality analysis follow symptoms over the time in care.
    """
    item_columns = _item_columns()
    subscales = _subscale_codes()
    identity = ["pseudonym"] if pseudonymised else ["patient", "personnummer", "assessment_id"]
    header = [
        *identity,
        "unit",
        "instrument",
        "instrument_version",
        "scoring_version",
        "days_since_enrolment" if pseudonymised else "observed_at",
        "recall_period",
        "respondent",
        "total",
        "band",
        "max_grade",
        *(f"subscale.{code}" for code in subscales),
        *(column for column, _code in item_columns),
    ]
    pseudonym = pseudonymiser() if pseudonymised else None
    rows = []
    for assessment in export.assessments:
        patient = export.patients[assessment.patient_id]
        family = scoring.INSTRUMENTS[assessment.instrument].family
        if pseudonym is not None:
            who: list[object] = [pseudonym(patient)]
            when: object = _days_since_enrolment(assessment, patient)
        else:
            who = [patient.name, patient.formatted_personnummer, assessment.public_id]
            when = _utc_iso(assessment.observed_at)
        subscale_values = assessment.scores.get("subscales", {})
        items = [
            assessment.answers.get(code) if column.startswith(f"{family}.") else None
            for column, code in item_columns
        ]
        row = [
            *who,
            export.unit.name,
            assessment.instrument,
            assessment.instrument_version,
            assessment.scoring_version,
            when,
            assessment.recall_period,
            assessment.respondent,
            assessment.total,
            assessment.band,
            assessment.scores.get("max_grade"),
            *(subscale_values.get(code) for code in subscales),
            *items,
        ]
        rows.append(row)
    if pseudonymised:
        rows.sort(key=lambda row: (row[0], row[5], row[2]))  # pseudonym, day, instrument
    return csv_text(header, rows, id_columns=() if pseudonymised else ("assessment_id",))


def _days_since_enrolment(assessment: Assessment, patient: Patient) -> int:
    return (assessment.observed_at.astimezone(STOCKHOLM).date() - patient.enrolled_on).days


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# --- FHIR -------------------------------------------------------------------------------------


def _urn(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{key}')}"


def questionnaire_url(code: str) -> str:
    return f"{FHIR_BASE}:questionnaire:{code}"


def _int_extension(url: str, value: int) -> dict[str, Any]:
    return {"url": f"http://hl7.org/fhir/StructureDefinition/{url}", "valueInteger": value}


def _questionnaire_item(item: scoring.ItemDefinition) -> dict[str, Any]:
    # The answers are stored so that higher is worse: an item that asks about something good is
    # named by its problem end (IPOS Q6-Q9), so "Not at peace: 4" reads the right way round.
    entry: dict[str, Any] = {"linkId": item.code, "text": item.score_label, "required": False}
    if len(item.options) == len(item.values) or item.special_values:
        # Every value has a label (IPOS, Abbey, ROAG): a choice of integers.
        options: list[dict[str, Any]] = [{"valueInteger": value} for value in item.values]
        options += [
            {
                "valueCoding": {
                    "system": SPECIAL_VALUE_SYSTEM,
                    "code": special,
                    "display": scoring.special_value_label(item, special),
                }
            }
            for special in item.special_values
        ]
        entry.update(type="choice", answerOption=options)
    else:
        # ESAS-r: 0-10 with labelled anchors only.
        entry.update(
            type="integer",
            extension=[_int_extension("minValue", item.min), _int_extension("maxValue", item.max)],
        )
    return entry


def _context_item(definition: scoring.InstrumentDefinition, field: scoring.ContextField) -> dict[str, Any]:
    entry: dict[str, Any] = {"linkId": field.code, "text": field.label}
    if field.kind == "choice":
        system = f"{FHIR_BASE}:{definition.code}:{field.code}"
        entry.update(
            type="choice",
            answerOption=[
                {"valueCoding": {"system": system, "code": code, "display": label}}
                for code, label in field.choices
            ],
        )
    elif field.kind == "text":
        entry.update(type="string", maxLength=field.max_length)
    elif field.kind == "text_list":
        entry.update(type="string", repeats=True, maxLength=field.max_length)
    else:  # rated_list
        entry.update(
            type="group",
            repeats=True,
            item=[
                {"linkId": f"{field.code}.label", "text": "label", "type": "string"},
                {
                    "linkId": f"{field.code}.rating",
                    "text": "rating",
                    "type": "integer",
                    "extension": [
                        _int_extension("minValue", field.rating_min),
                        _int_extension("maxValue", field.rating_max),
                    ],
                },
            ],
        )
    return entry


def questionnaire(code: str) -> dict[str, Any]:
    """The FHIR Questionnaire of one instrument, generated from its definition."""
    definition = scoring.INSTRUMENTS[code]
    return {
        "resourceType": "Questionnaire",
        "id": uuid.uuid5(_NAMESPACE, f"Questionnaire/{code}/{definition.version}").hex,
        "url": questionnaire_url(code),
        "version": definition.version,
        "name": code.upper().replace("-", "_"),
        "title": definition.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": [_questionnaire_item(item) for item in definition.items]
        + [_context_item(definition, field) for field in definition.context_fields],
    }


def _answer_for(item: scoring.ItemDefinition, value: object) -> dict[str, Any]:
    if isinstance(value, str):
        return {
            "valueCoding": {
                "system": SPECIAL_VALUE_SYSTEM,
                "code": value,
                "display": (
                    scoring.special_value_label(item, value)
                    if value in item.special_values
                    else value
                ),
            }
        }
    return {"valueInteger": value}


def _context_answers(
    definition: scoring.InstrumentDefinition, field: scoring.ContextField, value: Any
) -> list[dict[str, Any]]:
    """QuestionnaireResponse items of one context field (free text is left out)."""
    if value in (None, "", []):
        return []
    if field.kind == "choice":
        system = f"{FHIR_BASE}:{definition.code}:{field.code}"
        display = dict(field.choices).get(value, value)
        coding = {"system": system, "code": value, "display": display}
        return [{"linkId": field.code, "text": field.label, "answer": [{"valueCoding": coding}]}]
    if field.kind == "rated_list":
        # The ratings without their free-text labels.
        return [
            {
                "linkId": field.code,
                "text": field.label,
                "item": [
                    {
                        "linkId": f"{field.code}.rating",
                        "answer": [{"valueInteger": entry["rating"]}],
                    }
                ],
            }
            for entry in value
        ]
    return []  # free text may name people: never exported


def questionnaire_response(assessment: Assessment, patient_ref: str) -> dict[str, Any]:
    definition = scoring.INSTRUMENTS[assessment.instrument]
    items = []
    for item in definition.items:
        value = assessment.answers.get(item.code)
        if value is None:
            continue
        items.append(
            {"linkId": item.code, "text": item.score_label, "answer": [_answer_for(item, value)]}
        )
    for context_field in definition.context_fields:
        items.extend(
            _context_answers(definition, context_field, assessment.answers.get(context_field.code))
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": uuid.uuid5(_NAMESPACE, f"QuestionnaireResponse/{assessment.public_id}").hex,
        "identifier": {"system": f"{FHIR_BASE}:assessment", "value": assessment.public_id},
        "questionnaire": f"{questionnaire_url(assessment.instrument)}|{definition.version}",
        "status": "completed",
        "subject": {"reference": patient_ref},
        "authored": _utc_iso(assessment.observed_at),
        "item": items,
    }


def _scores_of(assessment: Assessment) -> Iterator[tuple[str, str, int, str | None]]:
    """(code, display, value, band) of each score the assessment has."""
    definition = scoring.INSTRUMENTS[assessment.instrument]
    if assessment.total is not None:
        yield "total", definition.total_label or "Total score", assessment.total, assessment.band
    for code, subscale in definition.subscales.items():
        value = assessment.scores.get("subscales", {}).get(code)
        if value is not None:
            yield code, subscale.label, value, None
    max_grade = assessment.scores.get("max_grade")
    if max_grade is not None:
        yield "max_grade", "Highest grade", max_grade, assessment.band


def observations(assessment: Assessment, patient_ref: str, response_ref: str) -> list[dict[str, Any]]:
    """Each score of the assessment as an Observation derived from its response."""
    definition = scoring.INSTRUMENTS[assessment.instrument]
    resources = []
    for code, display, value, band in _scores_of(assessment):
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": uuid.uuid5(_NAMESPACE, f"Observation/{assessment.public_id}/{code}").hex,
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "survey",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [
                    {
                        "system": SCORE_SYSTEM,
                        "code": f"{assessment.instrument}.{code}",
                        "display": f"{definition.title}: {display}",
                    }
                ]
            },
            "subject": {"reference": patient_ref},
            "effectiveDateTime": _utc_iso(assessment.observed_at),
            "valueInteger": value,
            "derivedFrom": [{"reference": response_ref}],
        }
        if band is not None:
            label = next((b.label for b in definition.bands if b.name == band), band)
            observation["interpretation"] = [
                {
                    "coding": [
                        {"system": f"{FHIR_BASE}:band:{definition.family}", "code": band, "display": label}
                    ]
                }
            ]
        resources.append(observation)
    return resources


def patient_resource(patient: Patient) -> dict[str, Any]:
    system = SAMORDNINGSNUMMER_SYSTEM if patient.is_coordination_number else PERSONNUMMER_SYSTEM
    return {
        "resourceType": "Patient",
        "id": uuid.uuid5(_NAMESPACE, f"Patient/{patient.public_id}").hex,
        "identifier": [{"system": system, "value": patient.personnummer}],
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.birth_date.isoformat(),
    }


def fhir_bundle(export: UnitExport) -> dict[str, Any]:
    """A `collection` Bundle: Questionnaires, Patients, QuestionnaireResponses, Observations."""
    entries: list[dict[str, Any]] = []
    for code in scoring.INSTRUMENTS:
        resource = questionnaire(code)
        entries.append({"fullUrl": _urn("Questionnaire", f"{code}/{resource['version']}"), "resource": resource})
    patient_refs = {}
    for patient in export.patients.values():
        ref = _urn("Patient", patient.public_id)
        patient_refs[patient.id] = ref
        entries.append({"fullUrl": ref, "resource": patient_resource(patient)})
    for assessment in export.assessments:
        patient_ref = patient_refs[assessment.patient_id]
        response_ref = _urn("QuestionnaireResponse", assessment.public_id)
        entries.append(
            {"fullUrl": response_ref, "resource": questionnaire_response(assessment, patient_ref)}
        )
        for observation in observations(assessment, patient_ref, response_ref):
            ref = _urn("Observation", f"{assessment.public_id}/{observation['code']['coding'][0]['code']}")
            entries.append({"fullUrl": ref, "resource": observation})
    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": "collection",
        "timestamp": _utc_iso(utcnow()),
        "entry": entries,
    }


# --- Quality indicators -------------------------------------------------------------------

QUALITY_CSV_HEADER = (
    "unit",
    "unit_kind",
    "period_start",
    "period_end",
    "family",
    "indicator",
    "title",
    "numerator",
    "denominator",
    "percent",
    "target",
    "target_source",
    "meets_target",
    "regional_2021",
)

#: Extra rows of the end-of-life family: the deaths of the period by whether they were expected
#: (numerator) out of all deaths (denominator), so the deaths outside the denominator show.
DEATH_ROWS = (
    ("deaths_expected", "expected"),
    ("deaths_unexpected", "unexpected"),
    ("deaths_expected_unknown", "unknown"),
)


def quality_export(user: User, unit_public_id: str, period: quality.Period) -> QualityReport:
    """The unit's indicators for a CSV file: every patient counted gets an `export` audit event
    and the unit one more with the period (the file itself holds only counts)."""
    report = quality_indicators(
        user, unit_public_id, period, audit_as="quality_indicators", action=AuditAction.EXPORT
    )
    audit.record(
        AuditAction.EXPORT,
        user=user,
        obj=report.unit,
        detail=f"quality csv {period.start}/{period.end}: {report.population} patients",
    )
    return report


def quality_csv(report: QualityReport) -> str:
    """One row per indicator of both families: numerator, denominator, percentage (empty when
    the denominator is 0), target and its source, whether it is met (`yes`, `no`, empty when
    there is no figure or no target) and the 2021 regional figure for the unit's kind; then
    the deaths of the period by whether they were expected. Counts only, no patient data;
    written by the app's one CSV writer, which neutralises formulas (a unit's name is text)."""
    rows: list[list[object]] = []
    start, end = report.period.start.isoformat(), report.period.end.isoformat()
    kind = report.unit.kind
    for found in report.indicators:
        figure, target = found.figure, found.figure.target
        meets = figure.meets_target
        rows.append(
            [
                report.unit.name,
                kind,
                start,
                end,
                found.definition.family.value,
                found.code,
                gettext(found.definition.title),
                figure.numerator,
                figure.denominator,
                "" if figure.percent is None else f"{figure.percent:.1f}",
                "" if target is None else target.text,
                "" if target is None else target.source.value,
                "" if meets is None else ("yes" if meets else "no"),
                _regional_csv(found.definition, kind),
            ]
        )
    deaths = report.deaths
    titles = {
        "expected": gettext("Deaths in the period recorded as expected"),
        "unexpected": gettext("Deaths in the period recorded as unexpected"),
        "unknown": gettext("Deaths in the period not recorded as expected or unexpected"),
    }
    for code, group in DEATH_ROWS:
        count = len(getattr(deaths, group))
        percent = quality.share(count, deaths.total)
        rows.append(
            [
                report.unit.name, kind, start, end, quality.Family.END_OF_LIFE.value, code,
                titles[group], count, deaths.total,
                "" if percent is None else f"{percent:.1f}", "", "", "", "",
            ]
        )
    return csv_text(QUALITY_CSV_HEADER, rows)


def _regional_csv(definition: quality.Definition, unit_kind: str) -> str:
    """The unit kind's 2021 figures as `municipal: ≈ 50 %` (setting codes, not words: the
    column is read by spreadsheets)."""
    if definition.regional is None:
        return ""
    return "; ".join(
        f"{'all' if setting is None else setting.value}: {value}"
        for setting, value in definition.regional.for_unit_kind(unit_kind)
    )
