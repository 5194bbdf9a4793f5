"""Exports of a unit's assessments: CSV (named or pseudonymised). The FHIR export lives in
`pallapp.interop` (the FHIR resources are shared with the API).

Only care staff export, and only the patients of one of their own units that access lets them
see (managers included: they export for quality work). Every patient in an export gets an
`export` audit event. Free-text answers (main problems, other symptoms) are never exported:
they may name people.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from pallapp import audit, flags, scoring
from pallapp.access import Need, visible_patients
from pallapp.csvout import csv_text
from pallapp.extensions import db
from pallapp.i18n import gettext
from pallapp.models import Assessment, AuditAction, CareUnit, Patient, User
from pallapp.review import quality
from pallapp.review.common import in_units, reviewer_units
from pallapp.review.quality_service import QualityReport, quality_indicators
from pallapp.timeutil import STOCKHOLM, today_local


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
