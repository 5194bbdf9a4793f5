"""Trends: a patient's ratings over time, with doses and milestones to draw beside them."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from pallapp import audit, carerecord, flags, scoring
from pallapp.access import Need
from pallapp.extensions import db
from pallapp.flags import open_flags_of as open_flags_of
from pallapp.models import (
    Assessment,
    AuditAction,
    Patient,
    User,
)
from pallapp.review import chartcache
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
#: The trends page's object type in the audit trail.
TRENDS_OBJECT = "trends"


class Rating:
    """One current assessment as the trends page reads it: its columns, not an ORM entity, and
    of its scores only what the charts draw (the total, each subscale, ROAG's highest grade,
    picked out of the stored scores by the database). Building an entity and decoding the whole
    score document of each of 478 ratings was a sixth of a long trends page. `scores` has the
    shape of the stored document's parts the charts read, `answers` is None until
    `load_answers` (the heat maps read the answers of the ratings they show)."""

    __slots__ = ("answers", "id", "instrument", "observed_at", "public_id", "scores", "total")

    def __init__(
        self,
        id: int,  # noqa: A002 - the column's name, as on the model
        public_id: str,
        instrument: str,
        observed_at: datetime,
        total: int | None,
        scores: dict[str, Any],
    ) -> None:
        self.id = id
        self.public_id = public_id
        self.instrument = instrument
        self.observed_at = observed_at
        self.total = total
        self.scores = scores
        self.answers: dict[str, Any] | None = None


def trend_assessments(
    user: User, patient_public_id: str, range_code: str
) -> tuple[Patient, list[Rating]]:
    """The patient's current (not corrected) assessments in the range, oldest first; audited
    as a view of the trends. (A chart image reads its own instruments: `chartreads`.)"""
    patient = trend_patient(user, patient_public_id, range_code)
    return patient, assessments_in_range(patient, range_code)


def trend_patient(user: User, patient_public_id: str, range_code: str) -> Patient:
    """The patient, for a trends page; audited."""
    _check_range(range_code)
    patient = find_for_review(user, patient_public_id, Need.VIEW_HISTORY)
    audit.record(AuditAction.VIEW, user=user, patient=patient, object_type=TRENDS_OBJECT)
    return patient


def chart_patient(user: User, patient_public_id: str, range_code: str) -> tuple[Patient, str]:
    """The patient of one of the trends page's chart images, and the patient's data version
    (`chartcache`). Audited as a view of the chart unless the user's view of the trends page
    was logged within CHART_GROUPING (a chart answered "not modified" is a view all the
    same)."""
    _check_range(range_code)
    patient, version, page_viewed = chartcache.find_chart_patient(
        user, patient_public_id, TRENDS_OBJECT, CHART_GROUPING
    )
    if not page_viewed:
        audit.record(AuditAction.VIEW, user=user, patient=patient, object_type="trend_chart")
    return patient, version


def _check_range(range_code: str) -> None:
    if range_code not in TREND_RANGES:
        raise LookupError(range_code)


@functools.cache
def _subscale_codes() -> tuple[str, ...]:
    """Every subscale code of every instrument (each rating's own are read by path)."""
    return tuple(sorted({code for d in scoring.INSTRUMENTS.values() for code in d.subscales}))


@functools.cache
def _subscale_values() -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The subscale columns of a row of `_ratings_query` (after its six first), as a tuple."""
    count = len(_subscale_codes())
    if count >= 2:
        return itemgetter(*range(6, 6 + count))  # a tuple of them (two or more)
    return lambda row: tuple(row[6:])


@functools.cache
def _ratings_query(since: bool, dialect: str) -> Select[Any]:
    """The light rows of `assessments_in_range`, built once per shape with the patient and the
    start as bound parameters. The subscales and the highest grade are
    read out of the stored scores as integers (the scorer stores whole numbers or null; a
    missing key is null, as `.get` gave None).

    The scores are JSON text, which the database parses again for every value picked out of
    it. On PostgreSQL the subscales and the highest grade are read from the columns the
    database keeps of them (`score_parts`): the statement of the busiest hb100 patient's 483
    ratings 6.1 -> 2.3 ms parsing each document once, 2.1 -> 0.33 ms (467 ratings) without
    parsing them at all. Scores that are not an object give nulls, as a path into them did."""
    codes = _subscale_codes()
    # The moment as the driver gives it, made aware UTC by `assessments_in_range` as the
    # column's type does (its processing, a call per row through SQLAlchemy, cost more).
    observed_at = type_coerce(Assessment.observed_at, DateTime(timezone=True))
    subscale, highest_grade = score_parts(dialect)
    query = select(
        Assessment.id,
        Assessment.public_id,
        Assessment.instrument,
        observed_at,
        Assessment.total,
        highest_grade,
        *(subscale(code) for code in codes),
    )
    query = query.where(
        Assessment.patient_id == bindparam("patient_id"), flags.current_versions()
    ).order_by(Assessment.observed_at, Assessment.id)
    if since:
        query = query.where(Assessment.observed_at >= bindparam("since"))
    return query


def score_parts(dialect: str) -> tuple[Callable[[str], Any], Any]:
    """How a statement on `Assessment` reads a subscale (by its code) and the highest grade
    (ROAG) of a rating's stored scores, as integers or null (the scorer stores whole numbers
    or null; a missing key is null, as `.get` gave None). On PostgreSQL from the generated
    columns the database keeps of those parts (`Assessment.chart_subscales`,
    `chart_max_grade`), without parsing the whole stored document; on SQLite by path into the
    scores (the columns are computed there when read, which is the same work)."""
    if dialect == "postgresql":
        grade = cast(Assessment.chart_max_grade.op("#>>")(literal_column("'{}'")), Integer)
        return (lambda code: Assessment.chart_subscales[code].as_integer()), grade
    return (
        lambda code: Assessment.scores[("subscales", code)].as_integer()
    ), Assessment.scores[("max_grade",)].as_integer()


def assessments_in_range(patient: Patient, range_code: str) -> list[Rating]:
    """Current assessments of an already visible (and audited) patient in the range, oldest
    first, as light rows without their answers (charts draw scores; `load_answers` fetches the
    answers a heat map shows)."""
    since = range_start(range_code)
    parameters: dict[str, Any] = {"patient_id": patient.id}
    if since is not None:
        parameters["since"] = since
    query = _ratings_query(since is not None, db.engine.dialect.name)
    codes = _subscale_codes()
    subscales = _subscale_values()
    return [
        # Each instrument's chart reads only its own subscales: the others are null here.
        Rating(
            row[0],
            row[1],
            row[2],
            as_utc(row[3]),
            row[4],
            {"subscales": dict(zip(codes, subscales(row), strict=True)), "max_grade": row[5]},
        )
        # On the session's connection: plain rows, without the ORM's path (as `chartreads`),
        # fetched at once (row by row, the driver's fetchone was called for each).
        for row in db.session.connection().execute(query, parameters).all()
    ]


#: Names of zones whose offset is always zero: a moment in one of them is the same moment in
#: UTC (PostgreSQL gives a `timestamptz` in the session's zone, here Etc/UTC).
_UTC_ZONE_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT"})
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Each such zone object met, with 1970-01-01 00:00 in it.
_zero_offset_epochs: dict[Any, datetime] = {}


def as_utc(moment: datetime) -> datetime:
    """`moment` aware in UTC (`datetime.UTC`), as `UTCDateTime` reads a column: naive is UTC
    (SQLite). A moment in a zone that is always UTC is its distance from the epoch in that zone
    added to the epoch in UTC: the difference of two moments of one zone object is taken from
    their fields alone, without a conversion (astimezone, 1.3-1.9 us a moment, and `replace`
    cost more than the rest of the row together, for every rating of a long stay)."""
    zone = moment.tzinfo
    if zone is UTC:
        return moment
    if zone is None:
        return moment.replace(tzinfo=UTC)
    epoch = _zero_offset_epochs.get(zone)
    if epoch is None:
        if getattr(zone, "key", None) not in _UTC_ZONE_NAMES:
            return moment.astimezone(UTC)
        epoch = _zero_offset_epochs[zone] = datetime(1970, 1, 1, tzinfo=zone)
    return _UTC_EPOCH + (moment - epoch)


def load_answers(ratings: list[Rating]) -> None:
    """The answers of these (already loaded) ratings, in one query of the answers alone."""
    if not ratings:
        return
    by_id = {rating.id: rating for rating in ratings}
    dialect = db.engine.dialect.name
    # On the session's connection: plain rows, without the ORM's path.
    if dialect == "postgresql":
        # The ids as one array literal, cast by the database: psycopg's dumping of a list
        # checked each of 330 numbers (0.7 -> 0.3 ms for the statement).
        ids: Any = "{" + ",".join([str(rating_id) for rating_id in by_id]) + "}"
    else:
        ids = list(by_id)
    rows = db.session.connection().execute(_answers_query(dialect), {"ids": ids})
    loads = json.loads
    if dialect == "postgresql":
        found, text = rows.one()
        for rating_id, answers in zip(found or (), loads(text) if text else (), strict=True):
            by_id[rating_id].answers = answers
        return
    for rating_id, text in rows:
        by_id[rating_id].answers = None if text is None else loads(text)


@functools.cache
def _answers_query(dialect: str) -> Select[Sequence[int], str] | Select[int, str]:
    """The ids as one array on PostgreSQL: sending 400 ids as 400 parameters of an IN list cost
    more than decoding their 400 answer documents (as `audit.record_for_patients` found). The
    answers as their JSON text, decoded by `load_answers` with `json.loads` as the driver's JSON
    loader decodes them, without its steps per document (a sixth less time for 356 documents).

    On PostgreSQL as one row, the ids as an array and the answers as one JSON array in the
    same order (`json_agg` writes each stored document as it is), decoded at once: a row and a
    `json.loads` call per document were half of the time (350 documents of the busiest hb100
    patient, 2.0 -> 0.9 ms CPU)."""
    if dialect == "postgresql":
        return select(
            func.array_agg(aggregate_order_by(Assessment.id, Assessment.id)),
            cast(func.json_agg(aggregate_order_by(Assessment.answers, Assessment.id)), Text),
        ).where(Assessment.id == any_(cast(bindparam("ids", type_=Text), ARRAY(Integer))))
    return select(Assessment.id, cast(Assessment.answers, Text)).where(
        Assessment.id.in_(bindparam("ids", expanding=True))
    )


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
