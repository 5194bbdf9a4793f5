"""Trends page tables over a long stay: heat maps and the dose table follow the charts' rule
(more than MAX_CHART_POINTS entries: those before the first of the month twelve months back one
per calendar month, Stockholm time), the month's highest answer per item, the versions of IPOS
never merged, doses counted per month and indication.

Expected values are worked out by hand in the comments; bands from INSTRUMENTS.md (ESAS-r 0
none, 1-3 mild, 4-6 moderate, 7-10 severe; IPOS 0 none, 1 mild, 2 moderate, 3-4 severe).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pallapp.models import Assessment
from pallapp.review import charts, heatmap
from pallapp.timeutil import STOCKHOLM
from tests.app.review.test_overview import IPOS_ITEMS
from tests.app.review.test_views import ESAS_CALM

# Seen on 15 February 2026: the first of the month twelve months back is 1 February 2025.
TODAY = date(2026, 2, 15)
CUT = date(2025, 2, 1)


def noon(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=STOCKHOLM)


def rating(instrument: str, observed_at: datetime, answers: dict[str, object]) -> Assessment:
    return Assessment(
        instrument=instrument, observed_at=observed_at, answers=answers, scores={},
        public_id=f"{instrument}-{observed_at.isoformat()}",
    )


def esas(observed_at: datetime, **answers: object) -> Assessment:
    given = dict(ESAS_CALM, **answers)
    return rating("esas_r", observed_at, {k: v for k, v in given.items() if v is not None})


def ipos(version: str, observed_at: datetime, pain: int) -> Assessment:
    return rating(version, observed_at, dict.fromkeys(IPOS_ITEMS, 0) | {"pain": pain})


def esas_stay() -> list[Assessment]:
    """127 ESAS-r ratings over 15 months."""
    ratings = [
        # November 2024, days 1-10: pain = the day (highest 10); nausea 10 - day, left blank on
        # day 10 (highest 9, from day 1).
        *(esas(noon(2024, 11, day), pain=day, nausea=10 - day if day < 10 else None) for day in range(1, 11)),
        # December 2024: pain 2, 3, 1, 0, 3 (highest 3); nausea never given.
        *(esas(noon(2024, 12, day), pain=pain, nausea=None) for day, pain in zip(range(1, 6), (2, 3, 1, 0, 3), strict=True)),
        # 31 January 2025 at 23:30 Stockholm: still January (and before the cut); pain 8.
        esas(datetime(2025, 1, 31, 23, 30, tzinfo=STOCKHOLM), pain=8),
        # 1 February 2025 at 00:30 Stockholm (31 January in UTC): from the cut, on its own.
        esas(datetime(2025, 2, 1, 0, 30, tzinfo=STOCKHOLM), pain=6),
    ]
    # 110 daily ratings from 1 June 2025, pain 1.
    ratings += [esas(noon(2025, 6, 1) + timedelta(days=day), pain=1) for day in range(110)]
    return ratings


def test_a_long_esas_heat_map_shows_old_months_by_their_highest_answer(app):
    ratings = esas_stay()
    assert len(ratings) == 10 + 5 + 1 + 1 + 110 == 127  # more than 120: the rule applies
    with app.test_request_context():
        heat = heatmap.heatmap("esas_heatmap", ratings, TODAY)
    assert heat is not None
    assert heat.monthly_before == CUT
    months = [(column.month, column.count) for column in heat.columns if column.month]
    # Three months before the cut: November (10), December (5), January (1).
    assert months == [(date(2024, 11, 1), 10), (date(2024, 12, 1), 5), (date(2025, 1, 1), 1)]
    # From the cut: 1 + 110 = 111 ratings, the newest 40 on their own, 71 left out.
    assert heat.single_columns == 40
    assert heat.left_out == 111 - 40 == 71
    assert len(heat.columns) == 3 + 40
    rows = {row.code: row.cells for row in heat.rows}
    pain = [(cell.value, cell.band) for cell in rows["pain"]]
    assert pain[:3] == [(10, "severe"), (3, "mild"), (8, "severe")]
    assert pain[3:] == [(1, "mild")] * 40
    nausea = [(cell.value, cell.band) for cell in rows["nausea"]]
    # November 9 (10 - 1); December never given: missing, not filled in; January 1 (calm).
    assert nausea[:3] == [(9, "severe"), (None, None), (1, "mild")]


def test_a_short_stay_heat_map_has_no_month_columns(app):
    # 120 ratings, some more than a year old: not more than 120, so each on its own (newest 40).
    ratings = [esas(noon(2024, 1, 1) + timedelta(days=5 * day), pain=2) for day in range(120)]
    with app.test_request_context():
        heat = heatmap.heatmap("esas_heatmap", ratings, TODAY)
    assert heat is not None
    assert heat.monthly_before is None
    assert all(column.month is None for column in heat.columns)
    assert (len(heat.columns), heat.left_out) == (40, 80)


def test_ipos_patient_and_staff_months_stay_apart(app):
    ratings = [
        # November 2024: patient version pain 2 and 4 (highest 4), staff version pain 1.
        ipos("ipos_patient", noon(2024, 11, 3), 2),
        ipos("ipos_staff", noon(2024, 11, 4), 1),
        ipos("ipos_patient", noon(2024, 11, 20), 4),
        # December 2024: the staff version only, pain 3.
        ipos("ipos_staff", noon(2024, 12, 10), 3),
    ]
    # 120 patient ratings from 1 June 2025, pain 0: 124 of the family, more than 120.
    ratings += [ipos("ipos_patient", noon(2025, 6, 1) + timedelta(days=day), 0) for day in range(120)]
    with app.test_request_context():
        heat = heatmap.heatmap("ipos_heatmap", ratings, TODAY)
        shown = heatmap.columns_shown(ratings, TODAY)
    assert heat is not None
    # One column per month and version, the family's order (patient, then staff).
    months = [(column.month, column.instrument, column.count) for column in heat.columns if column.month]
    assert months == [
        (date(2024, 11, 1), "ipos_patient", 2),
        (date(2024, 11, 1), "ipos_staff", 1),
        (date(2024, 12, 1), "ipos_staff", 1),
    ]
    pain = [(cell.value, cell.band) for cell in next(row for row in heat.rows if row.code == "pain").cells]
    # Patient November 4 (severe, 3-4), staff November 1 (mild), staff December 3 (severe):
    # the staff's 1 is never lifted to the patient's 4 in one cell.
    assert pain[:3] == [(4, "severe"), (1, "mild"), (3, "severe")]
    assert pain[3:] == [(0, "none")] * 40
    # The answers read: every rating of a month column (4) and the newest 40 of the rest.
    assert len(shown) == 4 + 40


def dose(given_at: datetime, indication: str, drug: str) -> charts.DoseMark:
    return charts.DoseMark(given_at, indication, drug, "2.5 mg", "sc", None)


def test_old_doses_are_counted_per_month_and_indication():
    doses = [
        # November 2024: nausea once, pain three times, nausea again (5 doses).
        dose(noon(2024, 11, 2), "nausea", "Haloperidol"),
        dose(noon(2024, 11, 3), "pain", "Morphine"),
        dose(noon(2024, 11, 3) + timedelta(hours=4), "pain", "Morphine"),
        dose(noon(2024, 11, 30), "pain", "Morphine"),
        dose(noon(2024, 11, 30) + timedelta(hours=1), "nausea", "Haloperidol"),
        # December 2024: pain twice, two drugs.
        dose(noon(2024, 12, 1), "pain", "Oxycodone"),
        dose(noon(2024, 12, 24), "pain", "Morphine"),
        # 31 January 2025 at 23:30 Stockholm: January.
        dose(datetime(2025, 1, 31, 23, 30, tzinfo=STOCKHOLM), "anxiety", "Midazolam"),
    ]
    # 117 doses every 6 hours from 1 June 2025: 8 + 117 = 125 doses, more than 120.
    recent = [dose(noon(2025, 6, 1) + timedelta(hours=6 * n), "pain", "Morphine") for n in range(117)]
    months, shown, cut = charts.doses_by_month(doses + recent, TODAY)
    assert cut == CUT
    # Pain before nausea (the order of the indications), months oldest first.
    assert [(row.first, row.indication, row.count, row.drugs) for row in months] == [
        (date(2024, 11, 1), "pain", 3, ("Morphine",)),
        (date(2024, 11, 1), "nausea", 2, ("Haloperidol",)),
        (date(2024, 12, 1), "pain", 2, ("Morphine", "Oxycodone")),
        (date(2025, 1, 1), "anxiety", 1, ("Midazolam",)),
    ]
    assert sum(row.count for row in months) == 8
    assert shown == recent
    # 120 doses or fewer: every dose on its own, whatever its age.
    assert charts.doses_by_month(doses + recent[:112], TODAY) == ([], doses + recent[:112], None)
