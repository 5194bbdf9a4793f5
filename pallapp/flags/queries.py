"""Open flags of many patients at once: counts, groups and rows, each in one query so that
pages listing many patients do not make a query per patient (DESIGN.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, func, select

from pallapp.extensions import db
from pallapp.models import Assessment, Flag, Patient

#: Flag severities counted on the Today page and in the overview, most urgent first.
COUNTED_SEVERITIES = ("high", "medium")
_SEVERITY_ORDER = {"high": 0, "medium": 1, "info": 2}


@dataclass(frozen=True)
class FlagCounts:
    high: int = 0
    medium: int = 0

    @property
    def any(self) -> bool:
        return bool(self.high or self.medium)


def open_flag_counts(patient_ids: Iterable[int] | Select[Any]) -> dict[int, FlagCounts]:
    """Open high and medium flags per patient, in one grouped query.

    `patient_ids` is a list of ids or a select of ids (a subquery keeps long lists out of SQL).
    Patients without open flags are missing from the result (use `.get(id, FlagCounts())`).
    """
    if not isinstance(patient_ids, Select):
        patient_ids = list(patient_ids)
        if not patient_ids:
            return {}
    query = (
        select(Flag.patient_id, Flag.severity, func.count(Flag.id))
        .where(
            Flag.patient_id.in_(patient_ids),
            Flag.closed_at.is_(None),
            Flag.severity.in_(COUNTED_SEVERITIES),
        )
        .group_by(Flag.patient_id, Flag.severity)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for patient_id, severity, count in db.session.execute(query):
        counts[patient_id][severity] = count
    return {patient_id: FlagCounts(**by_severity) for patient_id, by_severity in counts.items()}


def open_flag_count_columns(
    patient_id: ColumnElement[int],
) -> tuple[ScalarSelect[int], ScalarSelect[int]]:
    """The open high and medium flags of the patient `patient_id` (a column of the enclosing
    query), as two correlated counts: a list that reads its patients in one query counts their
    flags in it too (`FlagCounts` from the two values, as `open_flag_counts` gives)."""

    def count(severity: str) -> ScalarSelect[int]:
        return (
            select(func.count(Flag.id))
            .where(
                Flag.patient_id == patient_id,
                Flag.closed_at.is_(None),
                Flag.severity == severity,
            )
            .scalar_subquery()
        )

    high, medium = COUNTED_SEVERITIES
    return count(high), count(medium)


def open_flags_by_patient(
    patient_ids: Select[Any] | list[int],
) -> dict[int, list[tuple[Flag, str | None]]]:
    """Open flags per patient (most severe first), each with its assessment's instrument."""
    query = (
        select(Flag, Assessment.instrument)
        .outerjoin(Assessment, Assessment.id == Flag.assessment_id)
        .where(Flag.patient_id.in_(patient_ids), Flag.closed_at.is_(None))
        .order_by(Flag.created_at.desc(), Flag.id.desc())
    )
    flags: dict[int, list[tuple[Flag, str | None]]] = defaultdict(list)
    for flag, instrument in db.session.execute(query):
        flags[flag.patient_id].append((flag, instrument))
    for entries in flags.values():
        entries.sort(key=lambda entry: _SEVERITY_ORDER.get(entry[0].severity, 3))
    return flags


def open_flags_of(patient: Patient) -> list[tuple[Flag, str | None]]:
    """Open flags of an already visible patient, most severe first."""
    by_patient = open_flags_by_patient(select(Patient.id).where(Patient.id == patient.id))
    return by_patient.get(patient.id, [])


@dataclass(frozen=True)
class FlagGroup:
    """Open flags of one kind for one patient: what the overview shows (the items and dates
    are on the patient's own pages)."""

    code: str
    severity: str
    count: int


def open_flag_groups(patient_ids: list[int]) -> dict[int, list[FlagGroup]]:
    """Open flags per patient grouped by code and severity, most severe first, then the most
    recently raised kind first; one grouped query, no flag rows loaded."""
    query = (
        select(Flag.patient_id, Flag.code, Flag.severity, func.count(Flag.id), func.max(Flag.id))
        .where(Flag.patient_id.in_(patient_ids), Flag.closed_at.is_(None))
        .group_by(Flag.patient_id, Flag.code, Flag.severity)
    )
    rows = sorted(
        db.session.execute(query),
        key=lambda row: (_SEVERITY_ORDER.get(row[2], 3), -row[4]),
    )
    groups: dict[int, list[FlagGroup]] = defaultdict(list)
    for patient_id, code, severity, count, _newest in rows:
        groups[patient_id].append(FlagGroup(code, severity, count))
    return groups
