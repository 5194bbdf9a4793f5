"""The order of the unit overview: clinical need, not the number of open flags.

Order (DESIGN.md, "Review"), each step breaking the ties of the one before:

1. the most severe open flag (high, medium, info, none): INSTRUMENTS.md severities, set by the
   flag rules from their sources (pos-pal, Selby 2010, Abbey 2004, Senior alert ROAG-J);
2. the worst current item band: the worst band of any item of the latest ESAS-r and the latest
   IPOS of each version, and the band of the latest Abbey total (severe, moderate, mild, then
   none and never rated alike: neither is a known symptom, and step 4 puts the overdue one of
   them first). ROAG is left out here: its bands grade the mouth, not a symptom, and a grade 2 or
   3 already raises `oral_health` in step 1;
3. the newest rise: the most recently raised open `item_rise` or `total_rise` flag first (a
   worsening is news; pos-pal "how to interpret": act when scores change), none last;
4. an overdue rating before one in time (the unit's interval, `assessment_overdue`); then the
   longest since the last rating, then the name; equal needs and names by patient id (a stable
   order: the same patient on the same page from one request to the next).

Counting flags was wrong: a mild Abbey and a ROAG grade 2 repeated over three visits made six
open medium flags and put the patient above one with eight ESAS-r items at 7 or more (one high
flag). Repeats of one rule are one group here, shown with since when and how many times.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, Select, Text, case, cast, func, or_, select

from pallapp import scoring
from pallapp.extensions import db
from pallapp.models import Assessment, Flag, Patient
from pallapp.review.common import (
    BAND_RANK,
    NO_BAND_RANK,
    NOT_RATED_RANK,
    LatestRating,
    database_name,
    in_bound_ids,
    moment_as_read,
    plain_rows,
)
from pallapp.timeutil import STOCKHOLM

SEVERITY_RANK = {"high": 0, "medium": 1, "info": 2}
NO_FLAG_RANK = 3
RISE_CODES = ("item_rise", "total_rise")
_OLDEST = datetime.min.replace(tzinfo=STOCKHOLM)


@dataclass(frozen=True)
class FlagFacts:
    """What the order needs of a patient's open flags, from one grouped query."""

    high: int = 0
    medium: int = 0
    info: int = 0
    newest_rise: datetime | None = None

    @classmethod
    def from_columns(cls, high: int, medium: int, info: int, newest_rise: datetime | None) -> FlagFacts:
        return cls(high, medium, info, newest_rise)

    @property
    def worst(self) -> str | None:
        return next((name for name in ("high", "medium", "info") if getattr(self, name)), None)


def flag_fact_columns() -> list[ScalarSelect[Any]]:
    """`FlagFacts` as four columns of a query of patients (open high, medium and info flags,
    the newest rise), for `FlagFacts.from_columns`: a list of many patients reads them with
    the patients instead of in a query of its own."""

    def open_flags(*conditions: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        return [Flag.patient_id == Patient.id, Flag.closed_at.is_(None), *conditions]

    return [
        *(
            select(func.count(Flag.id)).where(*open_flags(Flag.severity == severity)).scalar_subquery()
            for severity in ("high", "medium", "info")
        ),
        # The codes written out, not an IN list: its values would be placed in the statement
        # again at every execution.
        select(func.max(Flag.created_at))
        .where(*open_flags(or_(*(Flag.code == code for code in RISE_CODES))))
        .scalar_subquery(),
    ]


def flag_fact_lateral() -> Any:
    """`flag_fact_columns` on PostgreSQL: the same four columns (`high`, `medium`, `info`,
    `newest_rise`) from one pass over the patient's open flags, a LATERAL subquery of a query
    of patients (join it `ON true`: an aggregate without GROUP BY gives one row, 0 and NULL
    for a patient without open flags, as the four subqueries did). The four walked the open
    flags of each patient four times: 1,460 of the 1,700 buffer reads of the overview's list of
    120 patients at 100x history, against 360 here (benchmarks/RESULTS.md). SQLite has no
    LATERAL and keeps the four."""
    rise = or_(*(Flag.code == code for code in RISE_CODES))
    return (
        select(
            *(
                func.count(Flag.id).filter(Flag.severity == severity).label(severity)
                for severity in ("high", "medium", "info")
            ),
            func.max(Flag.created_at).filter(rise).label("newest_rise"),
        )
        .where(Flag.patient_id == Patient.id, Flag.closed_at.is_(None))
        .lateral("open_flags")
    )


def flag_facts(patient_ids: list[int]) -> dict[int, FlagFacts]:
    """Open flags per patient counted by severity, and when the newest rise was raised."""
    if not patient_ids:
        return {}
    rise = case((Flag.code.in_(RISE_CODES), Flag.created_at))
    query = (
        select(Flag.patient_id, Flag.severity, func.count(Flag.id), func.max(rise))
        .where(Flag.patient_id.in_(patient_ids), Flag.closed_at.is_(None))
        .group_by(Flag.patient_id, Flag.severity)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rises: dict[int, datetime] = {}
    for patient_id, severity, count, newest in db.session.execute(query):
        counts[patient_id][severity] = count
        if newest is not None and (patient_id not in rises or newest > rises[patient_id]):
            rises[patient_id] = newest
    return {
        patient_id: FlagFacts(
            high=by_severity.get("high", 0),
            medium=by_severity.get("medium", 0),
            info=by_severity.get("info", 0),
            newest_rise=rises.get(patient_id),
        )
        for patient_id, by_severity in counts.items()
    }


@dataclass(frozen=True)
class WorstItem:
    """An item at the patient's worst current band: ("esas_r", "pain", 8, "severe")."""

    instrument: str
    code: str | None  # None: Abbey's total
    value: int | None
    band: str


def banded_instruments() -> list[tuple[str, scoring.InstrumentDefinition]]:
    """The instruments whose item bands (or, without them, whose overall band by total: Abbey)
    make step 2, in display order; ROAG's grades are not on this scale and stay out."""
    return [
        (definition.code, definition)
        for definition in scoring.in_display_order()
        if definition.item_bands or (definition.bands and definition.total_items)
    ]


def _banded_items(
    latest: Mapping[str, LatestRating], banded: list[tuple[str, scoring.InstrumentDefinition]]
) -> Iterator[tuple[str, str | None, str]]:
    """(instrument, item code or None for a total, band) of each banded result of the latest
    ratings (`latest`: instrument -> rating), in display order."""
    for instrument, definition in banded:
        rating = latest.get(instrument)
        if rating is None:
            continue
        if not definition.item_bands:
            if rating.band in BAND_RANK:
                yield instrument, None, rating.band
            continue
        bands: dict[str, str] = rating.scores.get("item_bands", {})
        for code, band in bands.items():
            yield instrument, code, band


def worst_band(
    latest: Mapping[str, LatestRating],
    banded: list[tuple[str, scoring.InstrumentDefinition]] | None = None,
) -> str | None:
    """The worst current band of the latest ratings (`latest`: instrument -> rating); pass
    `banded_instruments()` when asking for many patients."""
    # Each rating's worst band is worked out once per rating (`common.latest_ratings`): this
    # runs for every patient of the unit on every request. The first rating at the worst rank
    # names the band, in display order, as `_banded_items` would.
    worst, worst_rank = None, NO_BAND_RANK
    for instrument, _definition in banded or banded_instruments():
        rating = latest.get(instrument)
        if rating is not None and rating.worst_rank < worst_rank:
            worst, worst_rank = rating.worst_band, rating.worst_rank
    return worst


def worst_items(
    latest: Mapping[str, LatestRating],
    banded: list[tuple[str, scoring.InstrumentDefinition]] | None = None,
) -> tuple[str | None, list[WorstItem]]:
    """The worst current band and the items at it (highest value first), from the latest
    rating of each instrument (`latest`: instrument -> rating, its answers read:
    `common.with_answers`)."""
    banded = banded or banded_instruments()
    worst = worst_band(latest, banded)
    if worst is None:
        return None, []
    found = []
    for instrument, code, band in _banded_items(latest, banded):
        if band != worst:
            continue
        rating = latest[instrument]
        value = rating.total if code is None else rating.answers.get(code)
        found.append(WorstItem(instrument, code, value if isinstance(value, int) else None, band))
    return worst, sorted(found, key=lambda item: -(item.value or 0))


@dataclass(frozen=True)
class ClinicalNeed:
    """The facts one overview row is ordered by."""

    worst_flag: str | None
    worst_band: str | None
    newest_rise: datetime | None
    overdue: bool
    last_rating_at: datetime | None
    family_name: str
    given_name: str


def need_key(need: ClinicalNeed) -> tuple[Any, ...]:
    """Sort key: most in need first (see the module's docstring for the order)."""
    return (
        SEVERITY_RANK.get(need.worst_flag or "", NO_FLAG_RANK),
        BAND_RANK.get(need.worst_band or "", NOT_RATED_RANK),
        need.newest_rise is None,
        -(need.newest_rise.timestamp()) if need.newest_rise else 0,
        not need.overdue,
        need.last_rating_at or _OLDEST,
        need.family_name,
        need.given_name,
    )


class FlagEntry(NamedTuple):
    """An open flag as the overview shows it: rule, source, items, and its rating's instrument
    (None: a dose or reminder flag)."""

    code: str
    source: str
    items: tuple[str, ...]  # shared between requests (`_decoded_items`): read only
    instrument: str | None


@dataclass
class GroupedFlags:
    """Open flags of one rule for one patient: how many, since when, about which items."""

    code: str
    severity: str
    count: int
    since: datetime
    entries: list[FlagEntry] = field(default_factory=list)


@functools.cache
def _open_flags_query(dialect: str) -> Select[*tuple[Any, ...]]:
    # Built once per database, the patients bound at each call (`common.in_bound_ids`).
    return (
        select(
            Flag.patient_id,
            Flag.code,
            Flag.severity,
            Flag.source,
            # As text, decoded by `_decoded_items`.
            cast(Flag.items, Text),
            moment_as_read(Flag.created_at, dialect),
            Assessment.instrument,
            moment_as_read(Assessment.observed_at, dialect),
        )
        .outerjoin(Assessment, Assessment.id == Flag.assessment_id)
        .where(in_bound_ids(Flag.patient_id, "patient_ids", dialect), Flag.closed_at.is_(None))
        .order_by(Flag.created_at, Flag.id)
    )


@functools.lru_cache(maxsize=4096)
def _decoded_items(text: str | None) -> tuple[str, ...]:
    # The items a flag names, each distinct JSON text decoded once in this process: a page's
    # open flags name the same few items again and again.
    return () if text is None else tuple(json.loads(text) or ())


def grouped_open_flags(patient_ids: Iterable[int]) -> dict[int, list[GroupedFlags]]:
    """Open flags per patient grouped by rule (code), most severe rule first, then the most
    recently raised; a group's severity is the highest of its flags. One query, read as plain
    rows (no ORM objects: a patient may have many open flags)."""
    ids = list(patient_ids)
    if not ids:
        return {}
    query = _open_flags_query(database_name())
    groups: dict[int, dict[str, GroupedFlags]] = defaultdict(dict)
    newest: dict[tuple[int, str], datetime] = {}
    for (
        patient_id,
        code,
        severity,
        source,
        items,
        created_at,
        instrument,
        observed_at,
    ) in plain_rows(query, {"patient_ids": ids}):
        # Since when: the time the rating describes (a rating entered late is still old news),
        # else when the flag was raised (dose and reminder flags).
        since = observed_at or created_at
        group = groups[patient_id].get(code)
        if group is None:
            group = GroupedFlags(code, severity, 0, since)
            groups[patient_id][code] = group
        group.since = min(group.since, since)
        group.count += 1
        group.entries.append(FlagEntry(code, source, _decoded_items(items), instrument))
        if SEVERITY_RANK.get(severity, 3) < SEVERITY_RANK.get(group.severity, 3):
            group.severity = severity
        newest[(patient_id, code)] = created_at
    return {
        patient_id: sorted(
            by_code.values(),
            key=lambda g: (
                SEVERITY_RANK.get(g.severity, 3),
                -newest[(patient_id, g.code)].timestamp(),
            ),
        )
        for patient_id, by_code in groups.items()
    }
