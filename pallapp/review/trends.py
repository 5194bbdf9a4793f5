"""Trends: a patient's ratings over time, with doses and milestones to draw beside them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from pallapp import audit, carerecord, flags
from pallapp.access import Need
from pallapp.extensions import db
from pallapp.flags import open_flags_of as open_flags_of
from pallapp.models import (
    Assessment,
    AuditAction,
    Patient,
    User,
)
from pallapp.review.common import find_for_review
from pallapp.timeutil import STOCKHOLM, today_local

#: Before any dose the app can hold ("all" on the trend charts); datetime.min overflows in UTC.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
#: Trend ranges: code -> days back from now (None: everything).
TREND_RANGES: dict[str, int | None] = {"2w": 14, "3m": 92, "all": None}
DEFAULT_TREND_RANGE = "3m"
#: A chart image loaded within this time of its trends page is read under the page's audit
#: event: one view of the trends, not seven rows in the access log. The images load at once
#: with the page; ten minutes also covers a slow connection and a reload of one image.
CHART_GROUPING = timedelta(minutes=10)


def trend_assessments(
    user: User,
    patient_public_id: str,
    range_code: str,
    *,
    audit_as: str = "trends",
    instruments: tuple[str, ...] | None = None,
    grouped_under: str | None = None,
) -> tuple[Patient, list[Assessment]]:
    """The patient's current (not corrected) assessments in the range, oldest first, of the
    given instruments only (None: all; one chart's image needs one or two); audited, unless
    the user's view of `grouped_under` (the trends page) was logged within CHART_GROUPING."""
    patient = trend_patient(user, patient_public_id, range_code, audit_as, grouped_under)
    return patient, assessments_in_range(patient, range_code, instruments)


def trend_patient(
    user: User,
    patient_public_id: str,
    range_code: str,
    audit_as: str = "trends",
    grouped_under: str | None = None,
) -> Patient:
    """The patient, for a trends page or one of its chart images; audited as in
    `trend_assessments` (a chart answered "not modified" is a view all the same)."""
    if range_code not in TREND_RANGES:
        raise LookupError(range_code)
    patient = find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
    if grouped_under is None or not audit.viewed_recently(
        user, patient, grouped_under, CHART_GROUPING
    ):
        audit.record(AuditAction.VIEW, user=user, patient=patient, object_type=audit_as)
    return patient


def assessments_in_range(
    patient: Patient, range_code: str, instruments: tuple[str, ...] | None = None
) -> list[Assessment]:
    """Current assessments of an already visible (and audited) patient in the range, without
    their answers (charts draw scores; `load_answers` fetches the answers a heat map shows)."""
    query = (
        select(Assessment)
        .where(Assessment.patient_id == patient.id, flags.current_versions())
        .options(defer(Assessment.answers))
        .order_by(Assessment.observed_at, Assessment.id)
    )
    if instruments is not None:
        query = query.where(Assessment.instrument.in_(instruments))
    since = range_start(range_code)
    if since is not None:
        query = query.where(Assessment.observed_at >= since)
    return list(db.session.scalars(query))


def load_answers(assessments: list[Assessment]) -> None:
    """The answers of these (already loaded) assessments, in one query of the answers alone
    (the rest of each row is loaded; reading whole rows again decoded every score twice)."""
    if not assessments:
        return
    by_id = {assessment.id: assessment for assessment in assessments}
    rows = db.session.execute(
        select(Assessment.id, Assessment.answers).where(Assessment.id.in_(list(by_id)))
    )
    for assessment_id, answers in rows:
        # As loaded from the database: no change to flush.
        set_committed_value(by_id[assessment_id], "answers", answers)


def range_start(range_code: str) -> datetime | None:
    """Where a trend range begins: local midnight (Stockholm) `days` before today, so a range
    holds whole days and changes once a day (the chart validators depend on it); None: all."""
    days = TREND_RANGES[range_code]
    if days is None:
        return None
    return datetime.combine(today_local() - timedelta(days=days), time(0), tzinfo=STOCKHOLM)


def milestone_lines(patient: Patient, since: datetime | None) -> list[tuple[datetime, str]]:
    """(when, label) of each milestone (brytpunktssamtal, SVAS, ...) since `since`, drawn as
    vertical lines on trend charts; a milestone has a date, so the line is at its midday."""
    lines = []
    for milestone in carerecord.milestones_of(patient):
        moment = datetime.combine(milestone.occurred_on, time(12), tzinfo=STOCKHOLM)
        if since is None or moment >= since:
            lines.append((moment, milestone.kind_enum.label))
    return sorted(lines)
