"""Symptom heat maps: one row per item, one column per assessment, each cell the stored answer
and its item band.

A heat map replaces the item line charts: nine ESAS-r lines or seventeen IPOS lines cannot be
told apart, while a grid of numbers coloured by band is read at a glance and is a real table
(keyboard and screen reader read it cell by cell). The band is always also in words in the cell,
so colour is never the only carrier (WCAG 1.4.1).

Bands are those of `pallapp.scoring` (INSTRUMENTS.md): ESAS-r 0 none, 1-3 mild, 4-6 moderate,
7-10 severe (Selby et al. 2010); IPOS 0 none, 1 mild, 2 moderate, 3-4 severe (pos-pal.org,
"how to interpret"). IPOS patient and staff versions are different ratings of the same items:
each column names its version, and the versions are never merged into one cell.

A long history is bounded by the charts' rule (`charts.monthly_cut`): with more than
`charts.MAX_CHART_POINTS` ratings of a family, those more than a year old are one column per
calendar month and version, each cell the month's highest (worst) answer to the item, and the
column says how many ratings it holds (docs/instruments.md, "Trend charts over a long period").

Nothing here touches Flask or the database: the builders take assessments already loaded (and
audited) by the trends service, and return msgids the template translates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from markupsafe import Markup, escape

from pallapp import scoring
from pallapp.review.charts import Rated, monthly_cut, split_by_month
from pallapp.timeutil import STOCKHOLM


class Answered(Rated, Protocol):
    """A rating as the heat maps read it: the trends page's light row, its answers loaded
    (`trends.load_answers`), or an `Assessment`."""

    @property
    def id(self) -> int | None: ...

    @property
    def public_id(self) -> str: ...

    @property
    def answers(self) -> Mapping[str, Any] | None: ...


A = TypeVar("A", bound=Answered)

#: The band in a word, in every cell beside its number (the glossary's band terms, short).
BAND_WORDS = {
    "none": scoring.N_("none"),
    "mild": scoring.N_("mild"),
    "moderate": scoring.N_("moderate"),
    "severe": scoring.N_("severe"),
}
#: The words of an empty cell, for screen readers.
NOT_ANSWERED = scoring.N_("not answered")
#: Columns shown at most: the newest ones. 40 columns are six weeks of daily ratings; older ones
#: are in the assessment history, and the heat map says how many it leaves out.
HEATMAP_MAX_COLUMNS = 40


@dataclass(frozen=True)
class HeatCell:
    """One stored answer: its number (None: not answered), a special answer such as
    `cannot_assess` (shown in words, never as a number), and its item band."""

    value: int | None
    special: str | None = None  # msgid of the special answer in words
    band: str | None = None
    band_word: str | None = None  # msgid, short (BAND_WORDS)


@dataclass(frozen=True)
class HeatColumn:
    observed_at: datetime  # a month's column: noon of its first day
    instrument: str
    version_label: str | None  # msgid, IPOS only
    public_id: str  # "" for a month's column
    #: A month's column (ratings more than a year old): its first day and how many ratings of
    #: this version it holds; None for the column of one rating.
    month: date | None = None
    count: int = 1


@dataclass(frozen=True)
class HeatRow:
    code: str
    label: str  # msgid of the item's score label (the problem end for IPOS Q6-Q9)
    cells: tuple[HeatCell, ...]


@dataclass
class HeatMap:
    key: str
    title: str  # msgid
    scale: str  # msgid, e.g. "0-10"
    columns: list[HeatColumn]
    rows: list[HeatRow]
    bands: tuple[scoring.Band, ...]
    #: Earlier assessments of the range that are not shown (they are in the history).
    left_out: int = 0
    versions: list[str] = field(default_factory=list)  # msgids of the versions present
    #: Ratings before this day are shown one column per month (None: each on its own).
    monthly_before: date | None = None

    @property
    def single_columns(self) -> int:
        """How many columns are one rating each (the month columns come first)."""
        return sum(1 for column in self.columns if column.month is None)


def band_of(bands: Sequence[scoring.Band], value: int) -> scoring.Band | None:
    """The item band containing `value` (None outside every band)."""
    return next((band for band in bands if band.contains(value)), None)


def _cell(item: scoring.ItemDefinition, answer: object, bands: Sequence[scoring.Band]) -> HeatCell:
    if isinstance(answer, bool) or answer is None:
        return HeatCell(None)
    if isinstance(answer, int):
        band = band_of(bands, answer)
        name = band.name if band else None
        return HeatCell(answer, band=name, band_word=BAND_WORDS.get(name or ""))
    try:
        special = scoring.special_value_label(item, str(answer))
    except KeyError:
        special = str(answer)
    return HeatCell(None, special=special)


def _answer_of(answers: Iterable[object]) -> object:
    """The answer a cell shows for a month's answers (in the order of the ratings): their
    highest number (the worst, as on the charts; a missing answer is not filled in); a month
    without a number shows its latest special answer in words (None: never answered)."""
    return _month_answers({"": answer} for answer in answers).get("")


def _month_answers(documents: Iterable[Mapping[str, Any]]) -> dict[str, object]:
    """`_answer_of` of every item at once, for the answer documents of a month's ratings (in
    their order): item code -> its highest number, else its latest special answer (an item
    never answered is absent). One pass over the documents, no list per item: a long stay has
    a few thousand cells of month columns per page."""
    worst: dict[str, int] = {}
    latest: dict[str, object] = {}
    for document in documents:
        for code, answer in document.items():
            kind = type(answer)
            if kind is int or (isinstance(answer, int) and kind is not bool):
                known = worst.get(code)
                if known is None or answer > known:
                    worst[code] = answer
            elif answer is not None and kind is not bool:
                latest[code] = answer
    latest.update(worst)  # a number, where there is one, is shown before any words
    return latest


def _answers(rating: Answered) -> Mapping[str, Any]:
    if rating.answers is None:  # a light row whose answers were not loaded: never guessed
        raise LookupError(f"answers of {rating.public_id} not loaded")
    return rating.answers


def _version_label(code: str) -> str | None:
    definition = scoring.INSTRUMENTS.get(code)
    return definition.display.version_label if definition else None


#: A family's ratings of a range, oldest first: (month -> its ratings, before the cut; the
#: ratings from the cut on; the cut, None when nothing is by month).
Split = tuple[dict[tuple[date, date], list[A]], list[A], date | None]


def _split(chosen: list[A], today: date | None) -> Split[A]:
    """(month -> its ratings, before the cut; the ratings from the cut on; the cut)."""
    cut = monthly_cut(len(chosen), today)
    months, recent = split_by_month(chosen, _observed_at, cut)
    return months, recent, cut


def _build(
    key: str,
    title: str,
    scale: str,
    definition: scoring.InstrumentDefinition,
    codes: tuple[str, ...],
    split: Split[A],
) -> HeatMap | None:
    months, recent, cut = split
    if not months and not recent:
        return None
    left_out = max(0, len(recent) - HEATMAP_MAX_COLUMNS)
    # Each column with the ratings it stands for: a month's column per version, never merged.
    groups: list[tuple[HeatColumn, list[A]]] = []
    for (first, _last), in_month in months.items():
        for code in codes:
            of_version = [a for a in in_month if a.instrument == code]
            if of_version:
                noon = datetime.combine(first, time(12), tzinfo=STOCKHOLM)
                column = HeatColumn(noon, code, _version_label(code), "", first, len(of_version))
                groups.append((column, of_version))
    groups += [
        (HeatColumn(a.observed_at, a.instrument, _version_label(a.instrument), a.public_id), [a])
        for a in recent[left_out:]
    ]
    # One rating's column shows its answers as they are; a month's, `_month_answers` of them.
    given = [
        _answers(group[0]) if len(group) == 1 else _month_answers(_answers(a) for a in group)
        for _column, group in groups
    ]
    rows = []
    for item in definition.items:
        code = item.code
        answers = [of.get(code) for of in given]
        if item.optional and all(answer is None for answer in answers):
            continue  # ESAS-r "other" that nobody used
        # A few distinct answers per item (0-10, a special answer, none): each cell made once.
        made: dict[object, HeatCell] = {}
        cells = []
        for answer in answers:
            # A whole number is its own key (the usual answer); anything else with its type,
            # so that True is not 1 (and by its text when it cannot be a key).
            kind: object = (
                answer
                if type(answer) is int
                else (type(answer), answer if isinstance(answer, int | str) else repr(answer))
            )
            cell = made.get(kind)
            if cell is None:
                cell = made[kind] = _cell(item, answer, definition.item_bands)
            cells.append(cell)
        rows.append(HeatRow(item.code, item.score_label, tuple(cells)))
    present = {column.instrument for column, _group in groups}
    versions = [label for code in codes if (label := _version_label(code)) and code in present]
    return HeatMap(
        key,
        title,
        scale,
        [column for column, _group in groups],
        rows,
        definition.item_bands,
        left_out,
        versions,
        cut if months else None,
    )


#: A rating's moment, and its moment and id (to sort by), as C-level getters.
_observed_at = attrgetter("observed_at")
_observed_at_id = attrgetter("observed_at", "id")


def _of(assessments: Iterable[A], codes: tuple[str, ...]) -> list[A]:
    return sorted((a for a in assessments if a.instrument in codes), key=_observed_at_id)


def _families() -> dict[str, list[scoring.InstrumentDefinition]]:
    """The instruments with item bands by heat map key, in display order: one heat map per
    family (IPOS patient and staff versions ask about the same items in the same order)."""
    families: dict[str, list[scoring.InstrumentDefinition]] = {}
    for definition in scoring.in_display_order():
        if definition.item_bands:
            families.setdefault(definition.heatmap_key, []).append(definition)
    return families


def family_splits(assessments: Iterable[A], today: date | None = None) -> dict[str, Split[A]]:
    """Each family's ratings (by heat map key) sorted and split at the month cut, worked out
    once for a page: `columns_shown` (whose answers to load) and `heatmaps` read the same."""
    listed = list(assessments)
    return {
        key: _split(_of(listed, tuple(definition.code for definition in members)), today)
        for key, members in _families().items()
    }


def heatmap(
    key: str, assessments: Iterable[A], today: date | None = None, split: Split[A] | None = None
) -> HeatMap | None:
    """The heat map `key` (None: no rating of its instruments in the range); every version
    of the family in a column of its own, each named; ratings more than a year before `today`
    by month when there are many (`charts.monthly_cut`; None: never by month). `split`: the
    family's of `family_splits(assessments, today)`, when the page has it."""
    members = _families()[key]
    first = members[0]
    codes = tuple(definition.code for definition in members)
    if split is None:
        split = _split(_of(assessments, codes), today)
    scale = f"{min(item.min for item in first.items)}–{max(item.max for item in first.items)}"
    return _build(
        key,
        first.display.heatmap_title or first.title,
        scale,
        first,
        codes,
        split,
    )


def columns_shown(
    assessments: Iterable[A],
    today: date | None = None,
    splits: Mapping[str, Split[A]] | None = None,
) -> list[A]:
    """The assessments the heat maps read the answers of: those of the month columns and the
    newest `HEATMAP_MAX_COLUMNS` of the rest, of each family (`splits`: `family_splits` of
    the same assessments and day, when the page has them)."""
    if splits is None:
        splits = family_splits(assessments, today)
    shown: list[A] = []
    for months, recent, _cut in splits.values():
        shown += [a for in_month in months.values() for a in in_month]
        shown += recent[-HEATMAP_MAX_COLUMNS:]
    return shown


def heatmaps(
    assessments: list[A],
    today: date | None = None,
    splits: Mapping[str, Split[A]] | None = None,
) -> list[HeatMap]:
    """The heat maps that have data, in display order (ESAS-r, then IPOS); `splits` as for
    `columns_shown`."""
    if splits is None:
        splits = family_splits(assessments, today)
    built = (heatmap(key, assessments, today, splits[key]) for key in _families())
    return [found for found in built if found is not None]


def cells_writer(translate: Callable[[str], str]) -> Callable[[HeatRow], Markup]:
    """The cells of a heat map row as HTML, each distinct cell written once per page: a
    three-year heat map has thousands of cells of a score's few kinds, and writing each in the
    template was the largest part of the page's time. Translations are inserted as the
    template's `_` inserts them (trusted catalogue text, not escaped); the stored value and the
    band are escaped, as the template escaped them, though the scoring rules give only whole
    numbers and fixed band names."""
    # By identity (hashing each frozen cell by its fields cost more): `_build` gives the equal
    # cells of an item one object. Each cell is kept with its text, so no id is reused.
    written: dict[int, tuple[HeatCell, str]] = {}
    # And each distinct text once: every item has cells of its own of the same few kinds.
    texts: dict[tuple[object, ...], str] = {}

    def html(cell: HeatCell) -> str:
        key = (type(cell.value), cell.value, cell.special, cell.band, cell.band_word)
        found = texts.get(key)
        if found is None:
            found = texts[key] = _html(cell)
        return found

    def _html(cell: HeatCell) -> str:
        if cell.value is not None:
            word = translate(cell.band_word) if cell.band_word else ""
            inner = (
                f'<span class="heat-value">{escape(cell.value)}</span> '
                f'<span class="heat-band">{word}</span>'
            )
        elif cell.special:
            inner = f'<span class="heat-band">{translate(cell.special)}</span>'
        else:
            inner = f'–<span class="visually-hidden">{translate(NOT_ANSWERED)}</span>'
        return f'<td class="heat-cell band-{escape(cell.band or "missing")}">{inner}</td>'

    def row_cells(row: HeatRow) -> Markup:
        parts = []
        find = written.get
        for cell in row.cells:
            found = find(id(cell))
            if found is None:
                found = written[id(cell)] = (cell, html(cell))
            parts.append(found[1])
        return Markup("".join(parts))  # noqa: S704 - band names are ours, words the catalogue's

    return row_cells
