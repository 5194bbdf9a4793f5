"""The ratings one chart image is drawn from, with only the scores that chart draws.

The trends page reads every instrument's ratings with every subscale and the highest grade
picked out of the stored scores (`trends.assessments_in_range`). One chart needs one
instrument's: its total and its own subscales (IPOS three, ESAS-r two, Abbey none), or for an
instrument without a total (ROAG) its highest grade. The scores are JSON text, which the
database parses again for every value picked out of it: at 100x history, reading the four
values for all 227 ESAS-r ratings of a patient took 1.5 ms of the statement's 1.7, two took
0.8 ms (EXPLAIN ANALYZE), and with the subscales object taken out once a row 0.6 ms; on
PostgreSQL they are now read from columns the database keeps of them (`trends.score_parts`).
The rows are the trends page's (`trends.Rating`), with the same values where the chart reads them: what
is drawn does not change (tests/app/review/test_chart_reads.py draws every chart both ways).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, select

from pallapp import flags, scoring
from pallapp.extensions import db
from pallapp.models import Assessment, Patient
from pallapp.review import charts
from pallapp.review.trends import Rating, range_start, score_parts


@functools.cache
def _chart_query(
    code: str, since: bool, dialect: str
) -> tuple[Select[Any], tuple[str, ...], bool]:
    """The statement for instrument `code` (the patient, instrument and start bound), the
    subscale codes it reads, and whether it reads the highest grade; built once per shape.

    On PostgreSQL the subscales and the highest grade come from the columns the database keeps
    of them (`trends.score_parts`), without parsing each stored document: parsing it once a row
    had already taken IPOS "all" of the busiest hb100 patient 1.42 -> 0.77 ms, ESAS-r 0.81 ->
    0.60 ms, against a parse per value read."""
    definition = scoring.INSTRUMENTS[code]
    subscales = tuple(definition.subscales) if definition.total_items else ()
    grade = not definition.total_items
    subscale, highest_grade = score_parts(dialect)
    query = (
        select(
            Assessment.id,
            Assessment.public_id,
            Assessment.instrument,
            Assessment.observed_at,
            Assessment.total,
            *(subscale(code) for code in subscales),
            *((highest_grade,) if grade else ()),
        )
        .where(
            Assessment.patient_id == bindparam("patient_id"),
            Assessment.instrument == bindparam("instrument"),
            flags.current_versions(),
        )
        .order_by(Assessment.observed_at, Assessment.id)
    )
    if since:
        query = query.where(Assessment.observed_at >= bindparam("since"))
    return query, subscales, grade


def chart_ratings(patient: Patient, key: str, range_code: str) -> list[Rating]:
    """The current ratings the chart `key` draws, of an already visible (and audited) patient
    in the range, oldest first; of their scores only what the chart draws."""
    ratings: list[Rating] = []
    since = range_start(range_code)
    codes = charts.chart_instruments(key)
    for code in codes:
        query, subscales, grade = _chart_query(code, since is not None, db.engine.dialect.name)
        parameters: dict[str, Any] = {"patient_id": patient.id, "instrument": code}
        if since is not None:
            parameters["since"] = since
        last = 5 + len(subscales)
        ratings.extend(
            Rating(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                {
                    "subscales": dict(zip(subscales, row[5:last], strict=True)),
                    "max_grade": row[last] if grade else None,
                },
            )
            # On the session's connection: plain rows, without the ORM's path (a third of
            # the statement's CPU).
            for row in db.session.connection().execute(query, parameters)
        )
    if len(codes) > 1:  # each chart has one instrument today
        ratings.sort(key=lambda rating: (rating.observed_at, rating.id))
    return ratings
