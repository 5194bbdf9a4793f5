"""What the review pages share: who reviews, finding a patient for review, the unit list,
the latest ratings of many patients in one query each, and the 24-hour dose window."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Exists,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import Executable

from pallapp import scoring
from pallapp.access import Need, NotVisible, can, find_patient
from pallapp.extensions import db
from pallapp.models import (
    Assessment,
    CareUnit,
    Patient,
    PatientUnit,
    Phase,
    Role,
    User,
)
from pallapp.timeutil import STOCKHOLM, today_local


def key_instruments() -> tuple[str, ...]:
    """Instruments whose latest result the overview and the summary show: every registered
    one, in display order (`scoring.in_display_order`).

    Worked out again only when the registry holds other definitions than last time (a test
    registers its own): sorting them cost more than the rest of a row of the overview, which
    asks once per row."""
    definitions = tuple(scoring.INSTRUMENTS.values())
    known = _key_instruments.get("last")
    if known is None or len(known[0]) != len(definitions) or any(
        a is not b for a, b in zip(known[0], definitions, strict=True)
    ):
        known = _key_instruments["last"] = (
            definitions,
            tuple(definition.code for definition in scoring.in_display_order()),
        )
    return known[1]


_key_instruments: dict[str, tuple[tuple[scoring.InstrumentDefinition, ...], tuple[str, ...]]] = {}


#: Roles that review patients and act on flags (managers read for quality work only).
REVIEWER_ROLES = (Role.NURSE, Role.PHYSICIAN)
#: Phases shown in the overview unless another phase is chosen.
ACTIVE_PHASES = (Phase.EARLY.value, Phase.END_OF_LIFE.value)


class NotAReviewer(Exception):
    """The user's role does not review patients (the view answers 403)."""


def is_reviewer(user: User) -> bool:
    return user.is_authenticated and user.role in REVIEWER_ROLES


def may_acknowledge(user: User, patient: Patient) -> bool:
    """Whether the user may acknowledge the flags of a patient the page has opened."""
    return is_reviewer(user) and can(user, patient, Need.CHANGE)


def refuse_unless_reviewer(user: User, patient_public_id: str, need: Need) -> None:
    """Review pages are for care staff; to everyone else the patient does not exist."""
    if not user.is_staff:
        raise NotVisible(patient_public_id, need, None)
    if need is Need.CHANGE and user.role not in REVIEWER_ROLES:
        raise NotVisible(patient_public_id, need, None)


def find_for_review(user: User, patient_public_id: str, need: Need) -> Patient:
    """The patient for a review page (`refuse_unless_reviewer`, then the access rules)."""
    refuse_unless_reviewer(user, patient_public_id, need)
    return find_patient(user, patient_public_id, need)


def reviewer_units(user: User) -> list[CareUnit]:
    return sorted(user.active_units(today_local()), key=lambda unit: unit.name)


def in_units(unit_ids: list[int], day: date) -> Exists:
    return exists(
        select(PatientUnit.id).where(
            PatientUnit.patient_id == Patient.id,
            PatientUnit.unit_id.in_(unit_ids),
            PatientUnit.start <= day,
            or_(PatientUnit.end.is_(None), PatientUnit.end > day),
        )
    )


#: The window of "doses in the last 24 hours" (the same as an order's "max doses per 24 h").
DOSE_WINDOW = timedelta(hours=24)


def in_bound_ids(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """A condition for statements built once: `column` is one of the ids bound as `name`. On
    PostgreSQL the ids are one array parameter (`= ANY`): a list of a hundred ids as an
    expanding IN list was rendered, sent and parsed again as a new statement on every call,
    which took longer than running it. Other databases get the expanding IN list."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))  # type: ignore[no-any-return]  # any_ is untyped here
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


def moment_as_read(column: Any, dialect: str) -> Any:
    """A `UTCDateTime` column of a statement built once, read as the driver gives it on
    PostgreSQL: psycopg gives a timestamptz as an aware datetime already, and making each one
    UTC again in Python was a third of the time of reading the latest ratings. The moments are
    the same (every reader compares them, orders them or shows them in Swedish time). SQLite
    keeps naive UTC, which the type makes aware as usual."""
    if dialect == "postgresql":
        return type_coerce(column, DateTime(timezone=True)).label(column.key)
    return column


@functools.cache
def _newest_ids(dialect: str, instruments: tuple[str, ...], one_patient: bool = False) -> Any:
    """A subquery of the ids of the latest current version of each of `instruments` for each
    patient in the bound parameter `patient_ids` (or, `one_patient`, for the patient
    `patient_id`).

    One correlated `LIMIT 1` lookup per patient and instrument walks the index on (patient,
    instrument, observed_at) from its newest end, so the cost follows the number of patients,
    not the length of their history (benchmarks/RESULTS.md: a window function over every
    assessment made the overview grow with history). Built once per database and set of
    instruments: building the statement took longer than running it."""
    newest = []
    # The ids are named once, in a CTE that every instrument's lookup reads: in each lookup they
    # were a hundred or more parameters repeated once per instrument, and the driver spent more
    # time placing a thousand parameters than the database spent on the query.
    wanted = (
        select(Patient.id)
        .where(in_bound_ids(Patient.id, "patient_ids", dialect))
        .cte("wanted_patients")
    )
    for instrument in instruments:
        candidate = aliased(Assessment)
        newer = aliased(Assessment)
        newest_id = (
            select(candidate.id)
            .where(
                # One patient (the patient page): the id itself, not a list of one. PostgreSQL
                # planned the list's form anew on each run of the prepared statement (0.5-0.9 ms
                # at 100x history, against 0.15 ms to run it); with the id and the literal
                # LIMIT below it keeps its generic plan, the same index walk.
                candidate.patient_id == (bindparam("patient_id") if one_patient else wanted.c.id),
                candidate.instrument == instrument,
                ~exists(select(newer.id).where(newer.supersedes_id == candidate.id)),
            )
            .order_by(candidate.observed_at.desc(), candidate.id.desc())
            # A literal: a bound LIMIT made the generic plan look dearer than planning anew.
            .limit(literal_column("1"))
            .scalar_subquery()
        )
        newest.append(
            select(newest_id.label("id"))
            if one_patient
            else select(newest_id.label("id")).select_from(wanted)
        )
    return union_all(*newest).scalar_subquery()


@functools.cache
def _latest_rows_query(dialect: str, instruments: tuple[str, ...], one_patient: bool = False) -> Any:
    return select(Assessment).where(
        Assessment.id.in_(_newest_ids(dialect, instruments, one_patient))
    )


def _latest_columns(rating: Any, dialect: str, answers: bool) -> list[Any]:
    columns = [
        rating.id,
        rating.patient_id,
        rating.instrument,
        moment_as_read(rating.observed_at, dialect),
        rating.total,
        rating.band,
        # As text, decoded by `_decoded_json`.
        cast(rating.scores, Text),
    ]
    # The answers as text too, or nothing in their place: one shape of row.
    columns.append(cast(rating.answers, Text) if answers else null())
    return columns


@functools.cache
def _latest_columns_query(
    dialect: str, instruments: tuple[str, ...], answers: bool, one_patient: bool = False
) -> Any:
    if dialect == "postgresql" and not one_patient:
        return _latest_columns_lateral(instruments, answers)
    return select(*_latest_columns(Assessment, dialect, answers)).where(
        Assessment.id.in_(_newest_ids(dialect, instruments, one_patient))
    )


def _latest_columns_lateral(instruments: tuple[str, ...], answers: bool) -> Any:
    """The many-patient form on PostgreSQL: for each id of the array `patient_ids` and each of
    `instruments`, the newest current rating read whole in a LATERAL subquery, from the index on
    (patient, instrument, observed_at, id) walked from its newest end (no sort: the index has
    the order of `ORDER BY observed_at DESC, id DESC`).

    The same rows as `_newest_ids` (tests/app/review/test_latest_ratings.py), for less: that
    form found the ids in one lookup per patient and instrument and then read each row again
    by its id after removing duplicates (a hash of 600 ids), 6,800 buffer reads at 120
    patients of 100x history against 3,500 here (benchmarks/RESULTS.md)."""
    wanted = (
        func.unnest(bindparam("patient_ids", type_=ARRAY(Integer)))
        .table_valued(column("id", Integer))
        .render_derived(name="wanted_patients")
    )
    # The instruments as a second array (their values kept with the statement): a VALUES list
    # has no cache key in SQLAlchemy, and the statement was compiled anew on every call (2 ms).
    codes = (
        func.unnest(bindparam("instruments", list(instruments), type_=ARRAY(String)))
        .table_valued(column("code", String))
        .render_derived(name="wanted_instruments")
    )
    newer = aliased(Assessment)
    newest = (
        select(*_latest_columns(Assessment, "postgresql", answers)[:-1], Assessment.answers)
        .where(
            Assessment.patient_id == wanted.c.id,
            Assessment.instrument == codes.c.code,
            ~exists(select(newer.id).where(newer.supersedes_id == Assessment.id)),
        )
        .order_by(Assessment.observed_at.desc(), Assessment.id.desc())
        # A literal, as in `_newest_ids`: a bound LIMIT made PostgreSQL plan anew at each run.
        .limit(literal_column("1"))
        .lateral("newest")
    )
    columns = [
        newest.c.id,
        newest.c.patient_id,
        newest.c.instrument,
        newest.c.observed_at,
        newest.c.total,
        newest.c.band,
        newest.c.scores,
        cast(newest.c.answers, Text) if answers else null(),
    ]
    return select(*columns).select_from(wanted).join(codes, true()).join(newest, true())


@functools.lru_cache(maxsize=8192)
def _decoded_json(text: str | None) -> dict[str, Any]:
    """The scores or answers of a rating from their JSON text, each distinct text decoded once
    in this process: the overview reads the latest ratings of every patient of the unit on
    every request, mostly the same ones, and decoding them cost more than the rest of reading
    them. Keyed by the text itself, so a row read again with other values is decoded again;
    the dict is shared between requests and must only be read (`LatestRating`)."""
    return {} if text is None else dict(json.loads(text) or {})


#: Ranks of the item and total bands, worst first (pallapp.review.ordering, step 2).
BAND_RANK = {"severe": 0, "moderate": 1, "mild": 2, "none": 3}
#: Not rated ranks as "none": neither is a known symptom.
NOT_RATED_RANK = BAND_RANK["none"]
#: The rank of a rating with no band at all (below every band).
NO_BAND_RANK = NOT_RATED_RANK + 1


@functools.lru_cache(maxsize=8192)
def _rating_facts(
    rating_id: int, item_bands: bool, band: str | None, scores_text: str | None
) -> tuple[int, str | None]:
    """The worst band of one rating and its rank (`BAND_RANK`, unknown bands as "none"): of its
    items when its instrument bands items (`item_bands`), else its overall band when that is
    one of `BAND_RANK`; (`NO_BAND_RANK`, None) when it has none.

    Worked out once per rating in this process instead of once per request for every patient
    of the unit. A signed rating never changes (a correction is a new rating with a new id),
    and the key holds everything the answer is derived from (the id, whether the instrument
    bands items, the stored band and scores), so the answer cannot go stale: another worker
    derives the same facts from the same row."""
    worst, worst_rank = None, NO_BAND_RANK
    if not item_bands:
        if band in BAND_RANK:
            return BAND_RANK[band], band
        return worst_rank, worst
    for item_band in _decoded_json(scores_text).get("item_bands", {}).values():
        rank = BAND_RANK.get(item_band, NOT_RATED_RANK)
        if rank < worst_rank:
            worst, worst_rank = item_band, rank
    return worst_rank, worst


class Rating(Protocol):
    """What the lists read of a rating: an `Assessment`, or a `LatestRating`."""

    @property
    def id(self) -> int: ...
    @property
    def instrument(self) -> str: ...
    @property
    def observed_at(self) -> datetime: ...
    @property
    def total(self) -> int | None: ...
    @property
    def band(self) -> str | None: ...
    @property
    def scores(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class LatestRating:
    """The columns of a latest rating that a list of many patients reads. Read as plain rows:
    making hundreds of ORM objects (one per patient and instrument) cost more than the rest of
    the unit overview's ordering together. `answers` are read only when asked for
    (`latest_ratings(..., answers=True)`, then `decode_answers`). `scores` and `answers` may
    be shared with other requests (`_decoded_json`): read them, never change them."""

    id: int
    patient_id: int
    instrument: str
    observed_at: datetime
    total: int | None
    band: str | None
    scores: dict[str, Any]
    answers: dict[str, Any] = field(default_factory=dict)
    # Its worst band and that band's rank (`_rating_facts`).
    worst_rank: int = NO_BAND_RANK
    worst_band: str | None = None
    # The answers as read, as JSON text (`decode_answers`).
    answers_text: str | None = None


def database_name() -> str:
    """The dialect of the session's database: statements built once are kept per dialect."""
    return db.session.get_bind().dialect.name


def plain_rows(statement: Executable, values: Mapping[str, Any]) -> Sequence[Row[*tuple[Any, ...]]]:
    """The rows of a statement of columns (no whole records), run on the session's connection
    in its transaction and fetched at once: the ORM's handling of each result row cost a third
    of reading the overview's lists, and plain columns need none of it (and fetching them one
    at a time cost as much again). Nothing is flushed first: the statements read what is
    committed or flushed already (a read page changes nothing)."""
    return db.session.connection().execute(statement, values).all()


def latest_ratings(
    patient_ids: list[int], instruments: Iterable[str] | None = None, *, answers: bool = False
) -> dict[int, dict[str, LatestRating]]:
    """`latest_assessments` as `LatestRating`s, in one query; without their answers unless
    `answers` (then as text, for `decode_answers`: a list decodes those of the rows it shows)."""
    instruments = key_instruments() if instruments is None else tuple(instruments)
    latest: dict[int, dict[str, LatestRating]] = defaultdict(dict)
    if not instruments or not patient_ids:
        return latest
    # Each patient once: the LATERAL form of PostgreSQL would read a patient asked for twice
    # twice (the form by ids did not).
    patient_ids = list(dict.fromkeys(patient_ids))
    one_patient = len(patient_ids) == 1
    query = _latest_columns_query(database_name(), instruments, answers, one_patient)
    item_bands = {
        code: code in scoring.INSTRUMENTS and bool(scoring.INSTRUMENTS[code].item_bands)
        for code in instruments
    }
    for rating_id, patient_id, instrument, observed_at, total, band, scores, answers_text in (
        plain_rows(
            query,
            {"patient_id": patient_ids[0]} if one_patient else {"patient_ids": patient_ids},
        )
    ):
        worst_rank, worst_band = _rating_facts(rating_id, item_bands[instrument], band, scores)
        latest[patient_id][instrument] = LatestRating(
            rating_id,
            patient_id,
            instrument,
            observed_at,
            total,
            band,
            _decoded_json(scores),
            _NO_ANSWERS,
            worst_rank,
            worst_band,
            answers_text,
        )
    return latest


#: The answers of a rating not read (yet): shared, never changed (`decode_answers` replaces it).
_NO_ANSWERS: dict[str, Any] = {}


def decode_answers(ratings: Iterable[LatestRating]) -> None:
    """Fill in the answers of `ratings` read with `latest_ratings(..., answers=True)`."""
    for rating in ratings:
        rating.answers = _decoded_json(rating.answers_text)


def latest_assessments(
    patient_ids: list[int], instruments: Iterable[str] | None = None
) -> dict[int, dict[str, Assessment]]:
    """The latest current version of each instrument per patient (default: the key
    instruments), in one query."""
    instruments = key_instruments() if instruments is None else tuple(instruments)
    latest: dict[int, dict[str, Assessment]] = defaultdict(dict)
    if not instruments or not patient_ids:
        return latest
    # One patient (the summary): the form by the id itself, whose plan PostgreSQL keeps (the
    # list's form was planned anew on every run, `_newest_ids`).
    one_patient = len(set(patient_ids)) == 1
    query = _latest_rows_query(database_name(), instruments, one_patient)
    values = {"patient_id": patient_ids[0]} if one_patient else {"patient_ids": list(patient_ids)}
    for assessment in db.session.scalars(query, values):
        latest[assessment.patient_id][assessment.instrument] = assessment
    return latest


@dataclass(frozen=True)
class KeyScore:
    """One headline result: ESAS-r total, IPOS total, Abbey total and band, ROAG max grade."""

    instrument: str
    title: str  # msgid of the instrument title
    label: str  # msgid: what the value is
    value: int | None
    maximum: int | None
    band: str | None
    band_label: str | None  # msgid
    observed_at: datetime
    assessment: Rating

    @property
    def observed_on(self) -> date:
        """The day in Sweden: what a list shows, and what its formatted dates are cached by."""
        return self.observed_at.astimezone(STOCKHOLM).date()


@dataclass(frozen=True)
class _HeadlineFacts:
    """What a key score takes from its instrument's definition (`_headline_facts`)."""

    family: str
    title: str
    label: str
    maximum: int | None
    highest_grade: bool  # no summed score: the highest grade is the value
    band_labels: dict[str, str]


_headline_facts_known: dict[str, tuple[scoring.InstrumentDefinition, _HeadlineFacts]] = {}


def _headline_facts(code: str) -> _HeadlineFacts:
    """The facts of the registered definition of `code`, worked out once for each definition
    (a definition is immutable; one registered in its place is worked out anew): summing the
    maximum of a total item by item cost more than the rest of a row of the overview."""
    definition = scoring.INSTRUMENTS[code]
    known = _headline_facts_known.get(code)
    if known is not None and known[0] is definition:
        return known[1]
    if not definition.total_items:
        # No summed score (ROAG): the highest grade, on the scale of its bands.
        label = scoring.N_("Highest grade")
        maximum = max((band.high for band in definition.bands), default=None)
    else:
        label, maximum = definition.total_label or scoring.N_("Total score"), definition.total_max
    band_labels: dict[str, str] = {}
    for band in definition.bands:
        band_labels.setdefault(band.name, band.label)  # the first band of a name
    facts = _HeadlineFacts(
        family=definition.family,
        title=definition.title,
        label=label,
        maximum=maximum,
        highest_grade=not definition.total_items,
        band_labels=band_labels,
    )
    _headline_facts_known[code] = (definition, facts)
    return facts


def key_scores(latest: Mapping[str, Rating]) -> list[KeyScore]:
    """The headline results of a patient's latest ratings in display order, one per instrument
    family (IPOS: the newer of the patient and the staff version)."""
    scores = []
    newest_of_family: dict[str, Rating] = {}
    for code in key_instruments():
        candidate = latest.get(code)
        if candidate is None:
            continue
        family = _headline_facts(code).family
        known = newest_of_family.get(family)
        if known is None or (candidate.observed_at, candidate.id) > (known.observed_at, known.id):
            newest_of_family[family] = candidate
    for assessment in newest_of_family.values():
        facts = _headline_facts(assessment.instrument)
        value = assessment.scores.get("max_grade") if facts.highest_grade else assessment.total
        scores.append(
            KeyScore(
                instrument=assessment.instrument,
                title=facts.title,
                label=facts.label,
                value=value,
                maximum=facts.maximum,
                band=assessment.band,
                band_label=None if assessment.band is None else facts.band_labels.get(assessment.band),
                observed_at=assessment.observed_at,
                assessment=assessment,
            )
        )
    return scores


def last_symptom_rating(latest: dict[str, datetime]) -> datetime | None:
    """When the latest IPOS, ESAS-r or Abbey applies (the instruments the interval counts);
    `latest` maps instrument -> when its latest rating applies."""
    moments = [moment for code, moment in latest.items() if code in scoring.SYMPTOM_INSTRUMENTS]
    return max(moments) if moments else None
